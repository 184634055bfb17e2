"""What a request may ask of a route besides its body: only the query parameters the route declares
(an unknown one answers 400 instead of being ignored: `?page_size=1` is not `?pageSize=1`), and a
representation the route offers (an Accept allowing none answers 406, RFC 9110 §12.5.1)."""

from fastapi import Request
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


@_per_route
def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and its dependencies declare, by the name a client sends."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names |= {param.alias for param in dependant.query_params}
        pending.extend(dependant.dependencies)
    return frozenset(names)


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
        raise ApiError(400, f"Unknown query parameter(s): {', '.join(unknown)}.", errors=[
            {"name": name, "location": "query", "code": "unknown_parameter", "reason": "not a parameter of this operation"}
            for name in unknown])
    accept = request.headers.get("accept")
    if accept and not any(_accepts(accept, media) for media in _offered(route)):
        raise ApiError(406, f"This resource is available as {', '.join(_offered(route))}.")
