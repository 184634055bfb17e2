"""RFC 9457 problem details for every error, with a stable `type` per kind of error."""

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

logger = logging.getLogger("casusregister")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://casusregister.nl/problems/"

_TITLES = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_SLUGS = {
    400: "invalid-input",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


class InvalidParam(BaseModel):
    name: str = Field(description="The field, as a dotted path within its location")
    location: str = Field(description="body, query, path or header")
    code: str
    reason: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[InvalidParam] | None = None


class ApiError(Exception):
    """An error the client should see, rendered as a problem document."""

    def __init__(self, status: int, detail: str, slug: str | None = None, headers: dict | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers, extra
        self.slug = slug or _SLUGS.get(status, "error")


def not_found() -> ApiError:
    return ApiError(404, "The resource does not exist or is not available to you.")


def problem_response(status: int, detail: str, slug: str | None = None, request: Request | None = None,
                     headers: dict | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or _SLUGS.get(status, "error")),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc else "body"
        errors.append({
            "name": ".".join(loc[1:]) or location,
            "location": location,
            "code": err.get("type", "invalid"),
            "reason": err.get("msg", "invalid value"),
        })
    return errors


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    if isinstance(exc.body, bytes):
        # FastAPI hands a JSON operation the raw bytes when the Content-Type is not JSON.
        return problem_response(415, "Send the request body as application/json.", request=request)
    errors = _validation_errors(exc)
    return problem_response(400, f"The request has {len(errors)} invalid field(s).", request=request,
                            errors=errors)


async def _on_api_error(request: Request, exc: ApiError) -> JSONResponse:
    return problem_response(exc.status, exc.detail, exc.slug, request, exc.headers, **exc.extra)


def allowed_methods(request: Request) -> str:
    """Every method the path answers to. Starlette's 405 names only those of the first route that matched
    the path, and FastAPI makes a route per method: DELETE /cases/{id} would say `Allow: GET`."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):  # included routers' routes, with their prefixes
        if context.methods and _path_pattern(context.path).match(request.url.path):
            methods |= context.methods
    return ", ".join(sorted(methods))


@functools.cache
def _path_pattern(template: str) -> re.Pattern:
    return compile_path(template)[0]


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = (headers or {}) | {"Allow": allowed_methods(request)}
    return problem_response(exc.status_code, detail, request=request, headers=headers)


RETRY_AFTER_SECONDS = 2


async def _on_database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
    """The database could not be reached, or the connection broke: nothing was committed (the request's
    transaction rolled back), so the client may send the same request again; an idempotent intake with
    its Idempotency-Key is then taken once. Any other database error stays a 500: it is a bug."""
    if not isinstance(exc, OperationalError) and not exc.connection_invalidated:
        raise exc
    logger.error("database unavailable (%s) on %s", type(exc.orig).__name__, request.method)
    return problem_response(503, "The registry cannot reach its database just now; send the request again.",
                            request=request, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, _on_database_unavailable)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
