"""Who is calling: the authenticated principal, and the guards on roles and scopes."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, String, bindparam, cast, func, select
from sqlmodel import Session

from app.auth import tenancy
from app.auth.tokens import InvalidToken
from app.db import SessionDep
from app.errors import ApiError
from app.models import ApiClient, ExternalEndpoint, Organisation, OrganisationNetwork, Role, Scope, User
from app.ratelimit import count_address, count_principal

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
    # Every municipality the caller works in: its organisation's own, the further networks it serves,
    # and for another registry's system the municipality its registry is linked with. The tenant wall
    # of each request (app.auth.tenancy); the policies decide what inside it the caller sees.
    municipalities: frozenset[uuid.UUID] = frozenset()

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
        return self.municipality_id if self.has_role(Role.coordinator) and self.works_for_municipality else None

    @property
    def may_report(self) -> bool:
        return self.has_role(Role.melder) or self.has_scope(Scope.signals_create)

    @property
    def works_for_municipality(self) -> bool:
        """A user or system of a municipality itself, not of a partner in its network."""
        return self.municipality_id is not None and self.organisation_id == self.municipality_id

    @property
    def municipal_chair(self) -> bool:
        """A chair of the municipality's case conference (a chair role elsewhere chairs nothing)."""
        return self.has_role(Role.chair) and self.works_for_municipality

    @property
    def municipal_privacy_officer(self) -> bool:
        return self.has_role(Role.privacy_officer) and self.works_for_municipality


class Account(NamedTuple):
    """Where a verified caller belongs: its organisation, that organisation's municipality, the further
    networks it serves and the municipality a link to its registry connects it with (ids as text)."""

    organisation_id: uuid.UUID
    municipality_id: uuid.UUID | None
    networks: str | None
    linked: str | None


def _organisation_columns(organisations) -> tuple:
    networks, links = OrganisationNetwork.__table__, ExternalEndpoint.__table__
    served = select(func.aggregate_strings(cast(networks.c.municipality_id, String), ",")).where(
        networks.c.organisation_id == organisations.c.id).scalar_subquery()
    linked = select(cast(links.c.municipality_id, String)).where(
        links.c.organisation_id == organisations.c.id).scalar_subquery()
    return organisations.c.id, organisations.c.municipality_id, served.label("networks"), linked.label("linked")


def _account_query(model) -> Select:
    """Built once per account kind and reused, so SQLAlchemy need not rebuild and re-key it per request."""
    table, organisations = model.__table__, Organisation.__table__
    grants = table.c.roles if model is User else table.c.scopes
    return (select(table.c.is_active, grants.label("grants"), *_organisation_columns(organisations))
            .join(organisations, organisations.c.id == table.c.organisation_id)
            .where(table.c.id == bindparam("subject")))


ACCOUNT_QUERIES = {"user": _account_query(User), "client": _account_query(ApiClient)}
ORGANISATION_QUERY = select(*_organisation_columns(Organisation.__table__)).where(
    Organisation.__table__.c.id == bindparam("organisation"))


def _unauthenticated(detail: str = "A valid bearer token is required.") -> ApiError:
    """No credentials: the challenge alone (RFC 6750 §3.1 gives no error code for a request without any)."""
    return ApiError(401, detail, headers=_CHALLENGE)


def _invalid_token(detail: str) -> ApiError:
    """A token was sent and refused: RFC 6750's `invalid_token`, so a client can tell it must get a new one."""
    challenge = f'Bearer realm="casusregister", error="invalid_token", error_description="{detail}"'
    return ApiError(401, detail, headers={"WWW-Authenticate": challenge})


EXPIRED, INVALID = "The access token expired.", "The access token is not valid."
INACTIVE = "The access token's account is no longer active."


def _known(values, enum) -> frozenset:
    return frozenset(enum(v) for v in values if v in enum._value2member_map_)


def _local_account(session: Session, kind: str, subject: uuid.UUID, claims: dict) -> tuple[Account, list, list]:
    """Tokens this registry issued are checked against the account as it is now: deactivation and
    role changes take effect at once, not when the token expires. One query per request, with the
    organisation joined in; columns rather than entities, as this runs before every request."""
    row = session.execute(ACCOUNT_QUERIES[kind], {"subject": subject}).first()
    if row is None or not row.is_active:
        raise _invalid_token(INACTIVE)
    account = Account(row.id, row.municipality_id, row.networks, row.linked)
    if kind == "user":
        return account, list(row.grants), []
    granted = set(row.grants)
    return account, [], [s for s in str(claims.get("scope", "")).split() if s in granted]


def _external_account(session: Session, kind: str, claims: dict) -> tuple[Account, list, list]:
    row = session.execute(ORGANISATION_QUERY, {"organisation": uuid.UUID(str(claims.get("org")))}).first()
    if row is None:
        raise _invalid_token(INVALID)
    account = Account(row.id, row.municipality_id, row.networks, row.linked)
    if kind == "user":
        return account, list(claims.get("roles", [])), []
    return account, [], str(claims.get("scope", "")).split()


def get_principal(request: Request, session: SessionDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    count_address(request)  # before the token is checked: guessing tokens counts too
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
    except InvalidToken as exc:
        raise _invalid_token(EXPIRED if exc.expired else INVALID) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid_token(INVALID) from exc
    scopes = _known(scopes, Scope)
    principal = Principal(kind=kind, id=subject, name=str(claims.get("name", ""))[:100],
                          organisation_id=account.organisation_id, municipality_id=account.municipality_id,
                          roles=_known(roles, Role), scopes=scopes, municipalities=_municipalities(account, scopes))
    count_principal(request, kind, subject)
    tenancy.act_for(session, principal.municipalities)
    return principal


def _municipalities(account: Account, scopes: frozenset[Scope]) -> frozenset[uuid.UUID]:
    found = {account.municipality_id} if account.municipality_id else set()
    found |= {uuid.UUID(m) for m in (account.networks or "").split(",") if m}
    # Only another registry's system works with the municipality its registry is linked with.
    if account.linked and scopes & {Scope.referrals_send, Scope.referrals_receive}:
        found.add(uuid.UUID(account.linked))
    return frozenset(found)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def forbidden(detail: str = "Your role does not allow this operation.") -> ApiError:
    return ApiError(403, detail)
