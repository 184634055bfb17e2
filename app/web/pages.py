"""Rendering a page, and what every page shares: security headers, errors as pages, the login redirect."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from app.auth.policies.actions import may_own
from app.auth.principal import Principal
from app.errors import ApiError
from app.services import agenda_document, documents
from app.web import labels
from app.web.session import COOKIE, PREFIX, csrf_token

# No inline script or style anywhere: everything comes from /app/static (and the docs' own bundle).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
ENVIRONMENT = Environment(loader=PackageLoader("app.web"), autoescape=select_autoescape(default=True),
                          trim_blocks=True, lstrip_blocks=True)
ENVIRONMENT.filters.update(tijd=documents.local_time, datum=documents.local_date, label=documents.label,
                           reden=agenda_document.reason)


def render(request: Request, template: str, principal: Principal | None = None, status: int = 200,
           **context: Any) -> HTMLResponse:
    """The page; `principal`, when known, decides the menu (Mijn afspraken only for who owns actions)."""
    token = request.cookies.get(COOKIE)
    page = ENVIRONMENT.get_template(template).render(
        request=request, csrf=csrf_token(token) if token else "", signed_in=bool(token),
        owns_actions=principal is not None and may_own(principal), **context)
    return HTMLResponse(page, status_code=status)


def redirect(path: str) -> RedirectResponse:
    """After a form: the page again, by GET (post/redirect/get), so a reload posts nothing twice."""
    return RedirectResponse(path, status_code=303)


def _to_login(request: Request) -> RedirectResponse:
    response = redirect(f"{PREFIX}/inloggen?volgende={quote(request.url.path)}")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def error_page(request: Request, exc: ApiError) -> HTMLResponse:
    detail = exc.detail if exc.slug == "csrf" else labels.error_text(exc.status, exc.detail)
    return render(request, "error.html", status=exc.status, status_code=exc.status, detail=detail)


class WebRoute(APIRoute):
    """Errors become pages (401: the login page), and every answer carries the security headers."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiError as exc:
                response = _to_login(request) if exc.status == 401 else error_page(request, exc)
            except RequestValidationError:
                response = error_page(request, ApiError(400, ""))
            response.headers.update(HEADERS)
            return response
        return page
