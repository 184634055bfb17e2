"""Issuing tokens: the password grant for users, the client-credentials grant for systems."""

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth import login_throttle
from app.auth.passwords import verify_secret
from app.auth.tokens import KeyRing
from app.config import Settings
from app.errors import ApiError
from app.models import ApiClient, User


@dataclass(frozen=True)
class TokenContext:
    session: Session
    engine: Engine
    settings: Settings
    keyring: KeyRing
    hasher: PasswordHasher
    address: str


def _oauth_error(status: int, code: str, detail: str) -> ApiError:
    return ApiError(status, detail, f"oauth-{code.replace('_', '-')}", error=code)


def _verified_or_fail(ctx: TokenContext, account: str, stored_hash: str | None, secret: str) -> None:
    attempt = login_throttle.begin_attempt(ctx.engine, ctx.settings, account, ctx.address)
    if not verify_secret(stored_hash, secret, ctx.hasher):
        raise _oauth_error(400, "invalid_grant", "The credentials are not valid.")
    login_throttle.succeeded(ctx.engine, attempt)


def password_grant(ctx: TokenContext, username: str, password: str) -> tuple[str, int]:
    user = ctx.session.exec(select(User).where(User.username == username)).first()
    active = user is not None and user.is_active
    _verified_or_fail(ctx, username, user.password_hash if active else None, password)
    return ctx.keyring.issue(str(user.id), {"actor": "user", "name": user.username,
                                            "org": str(user.organisation_id), "roles": list(user.roles)})


def client_credentials_grant(ctx: TokenContext, client_id: str, secret: str, scope: str | None) -> tuple[str, int]:
    client = ctx.session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    active = client is not None and client.is_active
    try:
        _verified_or_fail(ctx, f"client:{client_id}", client.secret_hash if active else None, secret)
    except ApiError as exc:
        if exc.status == 400:
            raise _oauth_error(401, "invalid_client", "The client credentials are not valid.") from exc
        raise
    granted = set(client.scopes)
    if scope:
        requested = set(scope.split())
        if not requested <= granted:
            raise _oauth_error(400, "invalid_scope", "A requested scope is not granted to this client.")
        granted = requested
    return ctx.keyring.issue(str(client.id), {"actor": "client", "name": client.client_id,
                                              "org": str(client.organisation_id), "scope": " ".join(sorted(granted))})
