"""Pure ASGI middleware: request ids, the API-Version and Cache-Control headers, the request body limit."""

import logging
import uuid

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import API_VERSION
from app.errors import problem_response
from app.openapi import API_PREFIX

log = logging.getLogger("casusregister")


def _response_headers(path: str, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-request-id", request_id.encode()), (b"api-version", API_VERSION.encode())]
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        # Any API response may hold personal data or a token, errors included: no browser or proxy keeps a copy.
        headers.append((b"cache-control", b"no-store"))
    return headers


class RequestContextMiddleware:
    """Gives every request an id and every response `X-Request-ID` and `API-Version`, and those under
    /api/v1 `Cache-Control: no-store`; turns any unexpected error into a 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Always our own id: it is the audit log's trace id, so a caller must not choose it.
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        extra = _response_headers(scope["path"], request_id)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Only the type and route: messages and tracebacks may carry personal data.
            route = getattr(scope.get("route"), "path", "?")
            log.error("unhandled %s on %s %s (request %s)", type(exc).__name__, scope["method"], route, request_id)
            if started:
                raise
            await problem_response(500, "The request could not be completed.")(scope, receive, send_with_headers)


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
