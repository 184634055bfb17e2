"""Who is calling: the authenticated principal, and the guards on roles and scopes."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.tokens import InvalidToken, KeyRing
from app.db import SessionDep
from app.errors import ApiError
from app.models import Organisation, Role, Scope

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
    token_id: str

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


def _unauthenticated(detail: str = "A valid bearer token is required.") -> ApiError:
    return ApiError(401, detail, headers=_CHALLENGE)


def _known(values, enum) -> frozenset:
    return frozenset(enum(v) for v in values if v in enum._value2member_map_)


def principal_from_claims(claims: dict, organisation: Organisation) -> Principal:
    kind = claims.get("actor")
    if kind not in ("user", "client"):
        raise _unauthenticated()
    try:
        subject = uuid.UUID(claims["sub"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _unauthenticated() from exc
    roles = claims.get("roles", []) if kind == "user" else []
    scopes = str(claims.get("scope", "")).split() if kind == "client" else []
    return Principal(kind=kind, id=subject, name=str(claims.get("name", ""))[:100],
                     organisation_id=organisation.id, municipality_id=organisation.municipality_id,
                     roles=_known(roles, Role), scopes=_known(scopes, Scope), token_id=str(claims["jti"]))


def get_principal(request: Request, session: SessionDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated()
    keyring: KeyRing = request.app.state.keyring
    try:
        claims = keyring.verify(credentials.credentials)
        organisation = session.get(Organisation, uuid.UUID(str(claims.get("org"))))
    except (InvalidToken, ValueError) as exc:
        raise _unauthenticated() from exc
    if organisation is None:
        raise _unauthenticated()
    principal = principal_from_claims(claims, organisation)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def forbidden(detail: str = "Your role does not allow this operation.") -> ApiError:
    return ApiError(403, detail)
