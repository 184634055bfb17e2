"""What a request may ask of a route besides its body: only the query parameters the route declares
(an unknown one answers 400 instead of being ignored: `?page_size=1` is not `?pageSize=1`), each once
unless it is a list (`?cursor=a&cursor=` would otherwise quietly mean the last one), and a
representation the route offers (an Accept allowing none answers 406, RFC 9110 §12.5.1)."""

from fastapi import Request
from fastapi.dependencies.utils import field_annotation_is_sequence
from fastapi.routing import APIRoute

from app.errors import ApiError

JSON = "application/json"


def _per_route(compute):
    """Computed once per route (routes compare by value, so they cannot be cache keys themselves)."""
    cache: dict[int, tuple[APIRoute, object]] = {}

    def cached(route: APIRoute):
        found = cache.get(id(route))
        if found is None or found[0] is not route:
            found = cache[id(route)] = (route, compute(route))
        return found[1]
    return cached


def _query_params(route: APIRoute) -> list:
    """The query parameters the route and its dependencies declare."""
    params, pending = [], [route.dependant]
    while pending:
        dependant = pending.pop()
        params += dependant.query_params
        pending.extend(dependant.dependencies)
    return params


@_per_route
def _query_names(route: APIRoute) -> frozenset[str]:
    """By the name a client sends."""
    return frozenset(param.alias for param in _query_params(route))


@_per_route
def _single_valued(route: APIRoute) -> frozenset[str]:
    return frozenset(param.alias for param in _query_params(route)
                     if not field_annotation_is_sequence(param.field_info.annotation))


def _refuse(names: list[str], detail: str, code: str, reason: str) -> ApiError:
    return ApiError(400, f"{detail}: {', '.join(names)}.", errors=[
        {"name": name, "location": "query", "code": code, "reason": reason} for name in names])


@_per_route
def _offered(route: APIRoute) -> tuple[str, ...]:
    """JSON, and what the route's documented success responses add (text/html, text/markdown)."""
    declared = {media for status, response in (route.responses or {}).items() if str(status).startswith("2")
                for media in response.get("content", {})}
    return tuple(sorted({JSON} | declared))


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1")
        try:
            ranges.append((media.lower(), float(quality)))
        except ValueError:
            ranges.append((media.lower(), 0.0))
    return ranges


def _accepts(accept: str, media: str) -> bool:
    kind = media.split("/")[0]
    return any(q > 0 and r in (media, f"{kind}/*", "*/*") for r, q in _ranges(accept))


async def strict_request(request: Request) -> None:
    """A dependency of every API route (app.factory); async, as it does no I/O: no trip through the thread pool."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route))
    if unknown:
        raise _refuse(unknown, "Unknown query parameter(s)", "unknown_parameter", "not a parameter of this operation")
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1} & _single_valued(route))
    if repeated:
        raise _refuse(repeated, "Query parameter(s) given more than once", "repeated_parameter", "takes one value")
    accept = request.headers.get("accept")
    if accept and not any(_accepts(accept, media) for media in _offered(route)):
        raise ApiError(406, f"This resource is available as {', '.join(_offered(route))}.")
