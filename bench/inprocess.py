"""`.venv/bin/python -m bench.inprocess`: CPU per request of the application alone, for A/B comparisons.

No server, no load generator: the ASGI app is called directly, one request at a time, on a fresh
PostgreSQL database set up as the bench does, and the process's CPU time per request is printed (the
lowest of several rounds: this machine's speed drifts). Compare two commits by running this in two
git worktrees in turn, alternating, rather than against a figure from earlier in the day.

The baseline service (bench/baseline.py) is called the same way, in the same process, so the ratios of
issue 13 can be read by CPU alone, without the HTTP server, the load generator or the other processes
that share the machine's cores during `python -m bench`.
"""

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from app.audit.writer import Auditor
from app.factory import create_app
from bench import baseline, deployment, versus
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
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "", "headers": raw,
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


@dataclass(frozen=True)
class Call:
    """One row's request: sent to `app`, answered with `expected`; `unaudited`: with the auditor a no-op
    (as bench.noaudit's server has it), to see what auditing costs."""

    app: Any
    method: str
    path: str
    token: str | None = None
    body: Callable[[], bytes] = bytes
    headers: Callable[[], dict[str, str]] = dict
    expected: int = 200
    unaudited: bool = False


def _post(app, path: str, token: str, body: dict) -> dict:
    status, answer = asyncio.run(_call(app, "POST", path, token, json.dumps(body).encode()))
    if status not in (200, 201):
        raise SystemExit(f"POST {path} answered {status}")
    return json.loads(answer)


def _requests(app, tokens: dict[str, str], base, base_token: str) -> dict[str, Call]:
    melder, coordinator = tokens["bench-melder"], tokens["bench-coordinator"]
    signals = [_post(app, f"{API}/signals", melder, signal_body(f"Lijst Persoon {n}")) for n in range(10)]
    case = _post(app, f"{API}/signals/{signals[0]['id']}/triage", coordinator, {"outcome": "new_case"})["case_id"]
    item = json.dumps({"title": "Bench item", "description": "Een regel tekst (benchmark)."}).encode
    return {"health": Call(app, "GET", "/health"),
            "me": Call(app, "GET", f"{API}/auth/me", melder),
            "intake": Call(app, "POST", f"{API}/signals", melder, _signal_body,
                           lambda: {"Idempotency-Key": uuid.uuid4().hex}, 201),
            "case_read": Call(app, "GET", f"{API}/cases/{case}", coordinator),
            "case_read_unaudited": Call(app, "GET", f"{API}/cases/{case}", coordinator, unaudited=True),
            "signal_list": Call(app, "GET", f"{API}/signals?pageSize=10", coordinator),
            "baseline_create": Call(base, "POST", "/items/", base_token, item),
            "baseline_list": Call(base, "GET", "/items/", base_token)}


def _write_nothing(*args, **kwargs) -> None:
    """bench.noaudit's no-op auditor; not imported from there, as importing it patches the auditor for good."""


def _cpu_ms(call: Call, count: int) -> float:
    async def run() -> None:
        for _ in range(count):
            status, _ = await _call(call.app, call.method, call.path, call.token, call.body(), call.headers())
            if status != call.expected:
                raise SystemExit(f"{call.method} {call.path} answered {status}, expected {call.expected}")

    with mock.patch.object(Auditor, "allowed", _write_nothing) if call.unaudited else contextlib.nullcontext():
        started = time.process_time()
        asyncio.run(run())
        return (time.process_time() - started) * 1000 / count


ROWS = ("health", "me", "intake", "case_read", "case_read_unaudited", "signal_list", "baseline_create",
        "baseline_list")
# Ours beside the baseline's, as bench/versus.py pairs them over HTTP: (ours, theirs, what the ratio says).
RATIOS = (("intake", "baseline_create", "intake against the baseline's create"),
          ("signal_list", "baseline_list", "signal list against the baseline's list"),
          ("case_read", "baseline_list", "case read against the baseline's list"),
          ("case_read_unaudited", "case_read", "unaudited case read against the audited one"))


def _ratios(measured: dict[str, float]) -> None:
    """By CPU per request: above 1 means ours costs less."""
    for ours, theirs, what in RATIOS:
        if ours in measured and theirs in measured:
            print(f"{what}: {measured[theirs] / measured[ours]:.2f}× "
                  f"({measured[ours]:.2f} against {measured[theirs]:.2f} ms)")


def _measure(calls: list[Call], names: list[str], count: int, rounds: int) -> dict[str, float]:
    """Each round runs every row once, so that the machine's drift reaches all rows alike; a row's
    figure is its lowest round."""
    for call in calls:
        _cpu_ms(call, 20)  # warm-up
    figures = [[_cpu_ms(call, count) for call in calls] for _ in range(rounds)]
    measured = {}
    for name, row in zip(names, zip(*figures, strict=True), strict=True):
        measured[name] = min(row)
        print(f"{name:20s} {min(row):7.3f} ms CPU per request (rounds: {', '.join(f'{r:.2f}' for r in row)})")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("rows", nargs="*", default=list(ROWS), help=f"{', '.join(ROWS)} (default: all)")
    parser.add_argument("--requests", type=int, default=300, help="requests per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds, each running every row once; a row's lowest is printed (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casus-inprocess-") as scratch:
        deployed = deployment.create(Path(scratch))
        base_database = None
        try:
            base_database, base_env, base_token = versus.prepare(deployed)
            baseline.bind(base_env["BASELINE_DATABASE_URL"], base_env["BASELINE_SECRET"])
            os.environ.update(deployed.env)
            app = create_app()  # after the environment is set: it reads the settings
            requests = _requests(app, deployed.tokens, baseline.app, base_token)
            _ratios(_measure([requests[name] for name in args.rows], args.rows, args.requests, args.rounds))
        finally:
            if base_database:
                baseline.engine.dispose()
                versus.drop(base_database)
            deployment.drop(deployed)


if __name__ == "__main__":
    main()
