"""Pure ASGI middleware: request ids, the API-Version and Cache-Control headers, the request log, the
request body limit."""

import logging
import time

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import API_VERSION, tracing
from app.errors import problem_response
from app.openapi import API_PREFIX

log = logging.getLogger("casusregister")
# Replaces uvicorn's access log, which writes the raw path and query string (ids, pseudonyms).
access_log = logging.getLogger("casusregister.access")
UNMATCHED = "<unmatched>"


def _response_headers(path: str, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-request-id", request_id.encode()), (b"api-version", API_VERSION.encode())]
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        # Any API response may hold personal data or a token, errors included: no browser or proxy keeps a copy.
        headers.append((b"cache-control", b"no-store"))
    return headers


def _route_template(scope: Scope) -> str:
    """The matched route's path template (/api/v1/cases/{id}): the request's own path may carry ids."""
    # FastAPI (since 0.137) leaves an included router's route in scope["route"] without the router's prefix
    # (/cases/{id}); the prefixed template is on its effective route context, the route is the fallback.
    context = scope.get("fastapi", {}).get("effective_route_context")
    return getattr(context or scope.get("route"), "path", None) or UNMATCHED


def _log_request(scope: Scope, status: int | None, started_at: float, request_id: str, trace_id: str) -> None:
    # Never the query string, the path's values or the client address: they may identify persons.
    # Status "-": no response was started (the client went away, or the 500 could not be sent).
    # The trace id: the request's audit events carry it (the request id, unless the caller sent its trace).
    duration_ms = (time.perf_counter() - started_at) * 1000
    access_log.info("method=%s route=%s status=%s duration_ms=%.1f request_id=%s trace_id=%s", scope["method"],
                    _route_template(scope), status or "-", duration_ms, request_id, trace_id)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope["headers"] if key == name]
    return values[0].decode("latin-1") if len(values) == 1 else None  # several: none is the caller's trace


class RequestContextMiddleware:
    """Gives every request an id and a trace (W3C `traceparent`, app.tracing) and every response
    `X-Request-ID` and `API-Version`, and those under /api/v1 `Cache-Control: no-store`; turns any
    unexpected error into a 500 problem; logs every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Always our own id, never the caller's: two requests never share it. It is the trace id too,
        # unless the caller sent its trace in `traceparent`; each audited step has a span id of its own.
        request_id = tracing.new_trace_id()
        trace = tracing.Trace.received(_header(scope, b"traceparent"), request_id)
        scope.setdefault("state", {}).update(request_id=request_id, trace=trace)
        token = tracing.use(trace)
        extra = _response_headers(scope["path"], request_id)
        started_at = time.perf_counter()
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Only the type and route: messages and tracebacks may carry personal data.
            log.error("unhandled %s on %s %s (request %s)", type(exc).__name__, scope["method"],
                      _route_template(scope), request_id)
            if status is not None:
                raise
            await problem_response(500, "The request could not be completed.")(scope, receive, send_with_headers)
        finally:
            tracing.reset(token)
            _log_request(scope, status, started_at, request_id, trace.trace_id)


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing passes it on instead of answering 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {max_bytes} bytes.")


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, by Content-Length or while streaming, never reading more."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject(scope, receive, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"The request body exceeds the limit of {self.max_bytes} bytes."
        await problem_response(413, detail, headers={"Connection": "close"})(scope, receive, send)
