"""The web session: the access token itself, in a cookie the browser keeps from scripts and from other
sites, and a CSRF token derived from it for every form.

The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it),
`Secure` behind https, limited to /app and as long-lived as the token. SessionCookieMiddleware hands
it to the ordinary authentication as a bearer token, for /app only: the API never accepts a cookie,
so no other site can make a browser call it. A form's CSRF token is a keyed hash of the session token:
unknowable without the cookie's value, bound to this session, and checked on every POST.
"""

import hashlib
import hmac
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import ApiError

COOKIE = "casus_sessie"
LOGIN_COOKIE = "casus_inlog"  # protects the login form itself (login CSRF): double submit
PREFIX = "/app"
PUBLIC = ("/app/inloggen", "/app/static/")


def csrf_token(session_token: str) -> str:
    return hmac.new(b"casusregister web form", session_token.encode(), hashlib.sha256).hexdigest()


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def check(expected: str | None, sent: str | None) -> None:
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise ApiError(403, "Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.",
                       "csrf")


def cookie_options(scheme: str, max_age: int) -> dict:
    return {"max_age": max_age, "path": PREFIX, "httponly": True, "samesite": "strict", "secure": scheme == "https"}


def _cookie(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.split(b";"):
                cookie_name, _, cookie_value = part.strip().partition(b"=")
                if cookie_name == name:
                    return cookie_value.decode("latin-1")
    return None


class SessionCookieMiddleware:
    """Under /app, the session cookie becomes the request's bearer token (unless it carries one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            token = _cookie(scope, COOKIE.encode())
            if token and not any(key == b"authorization" for key, _ in scope["headers"]):
                scope = {**scope, "headers": [*scope["headers"], (b"authorization", f"Bearer {token}".encode())]}
        await self.app(scope, receive, send)
