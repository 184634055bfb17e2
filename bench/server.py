"""An application server as a real process: started, waited for, killed (also by the crash-safety test)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int] | None = None, group: int | None = None) -> dict[int, float]:
    """User + system CPU time per process, of the given processes or of a process group, from /proc (Linux)."""
    times = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or (pids is not None and int(entry.name) not in pids):
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if group is None or int(fields[2]) == group:
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU time spent between two samples by the processes alive at the second (a lower bound: the time of
    processes that exited in between, such as pool connections beyond its size, is not seen)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One server process group (uvicorn's supervisor and its workers), output to a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.argv, self.env, self.log, self.port = argv, env, log, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "Server":
        with open(self.log, "ab") as output:
            # A session of its own, so that a kill reaches every worker and nothing else.
            self.process = subprocess.Popen(self.argv, env={**os.environ, **self.env}, cwd=REPO, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s; see {self.log}")

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time used so far by the supervisor and its workers: robust against a busy machine, unlike rates."""
        return cpu_seconds(group=self.process.pid)

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the whole group: no shutdown handler, no flush, no rollback by the application."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
