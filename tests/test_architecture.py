"""Structural guarantees: authenticated by default, one choke point for sensitive tables, one JWT module."""

import ast
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.principal import get_principal

APP = Path(__file__).resolve().parent.parent / "app"
PUBLIC_ROUTES = {"/health", "/ready", "/.well-known/jwks.json", "/openapi.json", "/docs", "/api/v1/auth/token"}
SENSITIVE_MODELS = {"Signal", "Person", "AuditEvent", "AuditEventPerson", "Case", "CaseMember", "CaseHistory",
                    "InformationItem", "ItemShare", "EmergencyAccess",
                    "Meeting", "AgendaItem", "AgendaAddendum", "ClosureProposal", "Action", "Referral", "ReferralItem"}


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


def _python_files(exclude: frozenset[str] = frozenset()):
    for path in APP.rglob("*.py"):
        if exclude.isdisjoint(path.relative_to(APP).parts):
            yield path


def _queried_models(tree: ast.AST):
    """Names of sensitive models passed to select(), session.get() or session.query()."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in {"select", "get", "query", "exec", "execute"}:
                for arg in ast.walk(node):
                    if isinstance(arg, ast.Name) and arg.id in SENSITIVE_MODELS:
                        yield arg.id


def test_the_query_check_recognises_direct_access():
    snippet = "session.exec(select(Signal).where(x))\nsession.get(Person, 1)\nsession.get(User, 1)"
    assert set(_queried_models(ast.parse(snippet))) == {"Signal", "Person"}


def test_only_app_auth_selects_sensitive_tables():
    offenders = []
    for path in _python_files(exclude=frozenset({"auth", "audit", "privacy"})):
        if path.parts[-2] == "models":
            continue
        found = set(_queried_models(ast.parse(path.read_text())))
        if found:
            offenders.append(f"{path.relative_to(APP)}: {sorted(found)}")
    assert offenders == []


def test_python_jose_is_imported_only_by_tokens_module():
    importers = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if (module or "").split(".")[0] == "jose" or any(n.split(".")[0] == "jose" for n in names):
                importers.add(path.relative_to(APP).as_posix())
    assert importers == {"auth/tokens.py"}
