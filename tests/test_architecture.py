"""Structural guarantees: authenticated by default, one JWT module. The choke point for tables with
personal data is held at run time (tests/test_guard.py)."""

import ast
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.principal import get_principal

APP = Path(__file__).resolve().parent.parent / "app"
PUBLIC_ROUTES = {"/health", "/ready", "/.well-known/jwks.json", "/openapi.json", "/docs", "/redoc", "/api/v1/auth/token",
                 # the web pages' way in and out, and the redirect to the meetings (which need a session)
                 "/app", "/app/", "/app/inloggen", "/app/uitloggen", "/app/document.css"}


def _calls(dependant):
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _api_routes(app):
    # app.routes holds included routers as one entry each; this walks the routes inside them.
    return [r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)]


def test_every_non_public_route_requires_authentication(app):
    routes = _api_routes(app)
    assert len(routes) > len(PUBLIC_ROUTES)
    for route in routes:
        if route.path in PUBLIC_ROUTES:
            continue
        assert get_principal in set(_calls(route.dependant)), f"{route.path} is reachable without a token"


def test_public_routes_are_exactly_the_known_ones(app):
    public = {r.path for r in _api_routes(app) if get_principal not in set(_calls(r.dependant))}
    assert public == PUBLIC_ROUTES


def _python_files():
    yield from APP.rglob("*.py")


def test_python_jose_is_imported_only_by_tokens_module():
    importers = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if (module or "").split(".")[0] == "jose" or any(n.split(".")[0] == "jose" for n in names):
                importers.add(path.relative_to(APP).as_posix())
    assert importers == {"auth/tokens.py"}
