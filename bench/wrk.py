"""The load generator: wrk (a separate process) with bench/load.lua, its figures parsed from one JSON line."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "load.lua"


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    app_cpu_ms: float | None = None  # CPU per request of the server's processes
    db_cpu_ms: float | None = None  # and of the PostgreSQL backends serving its database

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("the bench needs wrk, the HTTP load generator: apt-get install -y wrk (Debian/Ubuntu)")


def run(url: str, connections: int, seconds: int, mode: str = "get", path: str = "/health",
        token: str | None = None) -> Load:
    """`path`: in mode get, several paths separated by spaces are requested in turn."""
    # One wrk thread: it keeps up with these rates and leaves the cores to the server.
    env = {**os.environ, "BENCH_MODE": mode, "BENCH_PATH": path, "BENCH_RUN": uuid.uuid4().hex[:8]}
    if token:
        env["BENCH_TOKEN"] = token
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), url + path.split()[0]]
    output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    figures = json.loads(line.removeprefix("BENCH "))
    return Load(figures["requests"], figures["duration_us"] / 1e6, figures["errors"],
                figures["p50_us"] / 1000, figures["p99_us"] / 1000)
