"""`.venv/bin/python -m bench.inprocess`: CPU per request of the application alone, for A/B comparisons.

No server, no load generator: the ASGI app is called directly, one request at a time, on a fresh
PostgreSQL database set up as the bench does, and the process's CPU time per request is printed (the
lowest of several rounds: this machine's speed drifts). Compare two commits by running this in two
git worktrees in turn, alternating, rather than against a figure from earlier in the day.
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from app.factory import create_app
from bench import deployment
from bench.rows import API, signal_body


def _signal_body() -> bytes:
    """The intake row's request, a new person each time."""
    return json.dumps(signal_body(f"Bench Persoon {uuid.uuid4().hex[:12]}")).encode()


async def _call(app, method: str, path: str, token: str | None = None, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    raw = [(b"host", b"bench"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if token:
        raw.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: dict = {"body": b""}

    async def receive() -> dict:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


def _requests(app, tokens: dict[str, str]) -> dict[str, tuple]:
    """Each row: (method, path, token, body factory, headers factory, expected status)."""
    melder, coordinator = tokens["bench-melder"], tokens["bench-coordinator"]
    status, body = asyncio.run(_call(app, "POST", f"{API}/signals", melder, _signal_body()))
    signal = json.loads(body)["id"]
    status, body = asyncio.run(_call(app, "POST", f"{API}/signals/{signal}/triage", coordinator,
                                     json.dumps({"outcome": "new_case"}).encode()))
    case = json.loads(body)["case_id"]
    return {"health": ("GET", "/health", None, bytes, dict, 200),
            "me": ("GET", f"{API}/auth/me", melder, bytes, dict, 200),
            "intake": ("POST", f"{API}/signals", melder, _signal_body, lambda: {"Idempotency-Key": uuid.uuid4().hex},
                       201),
            "case_read": ("GET", f"{API}/cases/{case}", coordinator, bytes, dict, 200)}


def _cpu_ms(app, request: tuple, count: int) -> float:
    method, path, token, body, headers, expected = request

    async def run() -> None:
        for _ in range(count):
            status, _ = await _call(app, method, path, token, body(), headers())
            if status != expected:
                raise SystemExit(f"{method} {path} answered {status}, expected {expected}")

    started = time.process_time()
    asyncio.run(run())
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("rows", nargs="*", default=["health", "me", "intake", "case_read"],
                        help="health, me, intake, case_read (default: all)")
    parser.add_argument("--requests", type=int, default=300, help="requests per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row; the lowest is printed (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casus-inprocess-") as scratch:
        deployed = deployment.create(Path(scratch))
        try:
            os.environ.update(deployed.env)
            app = create_app()  # after the environment is set: it reads the settings
            requests = _requests(app, deployed.tokens)
            for name in args.rows:
                _cpu_ms(app, requests[name], 20)  # warm-up
                rounds = [_cpu_ms(app, requests[name], args.requests) for _ in range(args.rounds)]
                print(f"{name:10s} {min(rounds):7.3f} ms CPU per request (rounds: "
                      f"{', '.join(f'{r:.2f}' for r in rounds)})", flush=True)
        finally:
            deployment.drop(deployed)


if __name__ == "__main__":
    main()
