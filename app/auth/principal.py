"""Who is calling: the authenticated principal, and the guards on roles and scopes."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, bindparam, select
from sqlmodel import Session

from app.auth.tokens import InvalidToken
from app.db import SessionDep
from app.errors import ApiError
from app.models import ApiClient, Organisation, Role, Scope, User

_bearer = HTTPBearer(auto_error=False, description="A JWT from POST /api/v1/auth/token or the identity provider")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="casusregister"'}


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "client"]
    id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    municipality_id: uuid.UUID | None
    roles: frozenset[Role]
    scopes: frozenset[Scope]

    @property
    def actor(self) -> str:
        """Stable key for per-caller records such as idempotency keys."""
        return f"{self.kind}:{self.id}"

    def has_role(self, *roles: Role) -> bool:
        return self.kind == "user" and not self.roles.isdisjoint(roles)

    def has_scope(self, scope: Scope) -> bool:
        return self.kind == "client" and scope in self.scopes

    @property
    def coordinated_municipality(self) -> uuid.UUID | None:
        """The municipality a coordinator works for; a coordinator role elsewhere coordinates nothing."""
        if self.has_role(Role.coordinator) and self.organisation_id == self.municipality_id:
            return self.municipality_id
        return None

    @property
    def may_report(self) -> bool:
        return self.has_role(Role.melder) or self.has_scope(Scope.signals_create)


class Account(NamedTuple):
    """Where a verified caller belongs: its organisation and that organisation's municipality."""

    organisation_id: uuid.UUID
    municipality_id: uuid.UUID | None


def _account_query(model) -> Select:
    """Built once per account kind and reused, so SQLAlchemy need not rebuild and re-key it per request."""
    table, organisations = model.__table__, Organisation.__table__
    grants = table.c.roles if model is User else table.c.scopes
    return (select(table.c.is_active, grants.label("grants"), organisations.c.id, organisations.c.municipality_id)
            .join(organisations, organisations.c.id == table.c.organisation_id)
            .where(table.c.id == bindparam("subject")))


ACCOUNT_QUERIES = {"user": _account_query(User), "client": _account_query(ApiClient)}


def _unauthenticated(detail: str = "A valid bearer token is required.") -> ApiError:
    return ApiError(401, detail, headers=_CHALLENGE)


def _known(values, enum) -> frozenset:
    return frozenset(enum(v) for v in values if v in enum._value2member_map_)


def _local_account(session: Session, kind: str, subject: uuid.UUID, claims: dict) -> tuple[Account, list, list]:
    """Tokens this registry issued are checked against the account as it is now: deactivation and
    role changes take effect at once, not when the token expires. One query per request, with the
    organisation joined in; columns rather than entities, as this runs before every request."""
    row = session.execute(ACCOUNT_QUERIES[kind], {"subject": subject}).first()
    if row is None or not row.is_active:
        raise _unauthenticated()
    account = Account(row.id, row.municipality_id)
    if kind == "user":
        return account, list(row.grants), []
    granted = set(row.grants)
    return account, [], [s for s in str(claims.get("scope", "")).split() if s in granted]


def _external_account(session: Session, kind: str, claims: dict) -> tuple[Account, list, list]:
    organisation = session.get(Organisation, uuid.UUID(str(claims.get("org"))))
    if organisation is None:
        raise _unauthenticated()
    account = Account(organisation.id, organisation.municipality_id)
    if kind == "user":
        return account, list(claims.get("roles", [])), []
    return account, [], str(claims.get("scope", "")).split()


def get_principal(request: Request, session: SessionDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated()
    settings = request.app.state.settings
    try:
        claims = request.app.state.keyring.verify(credentials.credentials)
        kind, subject = claims.get("actor"), uuid.UUID(str(claims["sub"]))
        if kind not in ("user", "client"):
            raise InvalidToken("unknown actor")
        local = claims["iss"] == settings.jwt_issuer
        account, roles, scopes = (_local_account(session, kind, subject, claims) if local
                                  else _external_account(session, kind, claims))
    except (InvalidToken, ValueError, KeyError, TypeError) as exc:
        raise _unauthenticated() from exc
    return Principal(kind=kind, id=subject, name=str(claims.get("name", ""))[:100],
                     organisation_id=account.organisation_id, municipality_id=account.municipality_id,
                     roles=_known(roles, Role), scopes=_known(scopes, Scope))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def forbidden(detail: str = "Your role does not allow this operation.") -> ApiError:
    return ApiError(403, detail)
