"""A test app served by a real uvicorn in a thread, for tests that need concurrent clients or HTTP between apps."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


def serve(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    url, server, thread = serve(app)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
