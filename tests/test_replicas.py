"""Two API replicas and two workers on one PostgreSQL (and one Redis), as real processes.

Intakes spread over both replicas; the login throttle and the rate limit count across them; every
webhook event reaches every subscription; and when one worker is killed mid-run, the other goes on
sealing and delivering. PostgreSQL and Redis only (skipped without them, required with CI=true).
"""

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psycopg
import pytest

from bench.server import BIN, Server
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.deployments import PASSWORD, audit_intact, prepare, registry_env, token
from tests.deployments import server as deployed_server
from tests.factories import signal_body
from tests.test_rate_limits import REDIS_URL, _redis_reachable

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (required with CI=true)")

SIGNALS, PER_MINUTE = 60, 45
REPORTERS = ("teacher", "youthworker", "police")


class Hooks(ThreadingHTTPServer):
    """Two webhook receivers in one: /a and /b, recording the event id of every delivery."""

    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _HookHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{path}"


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server interface)
        self.rfile.read(int(self.headers["content-length"]))
        with self.server.lock:
            self.server.received[(self.path, self.headers["webhook-id"])] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def region(tmp_path) -> Iterator[tuple[list[Server], list[subprocess.Popen], dict[str, str], Hooks]]:
    if not _redis_reachable():
        pytest.skip("Redis is not reachable (required with CI=true)")
    database = _create_pg_database()
    env = registry_env(database, tmp_path, REDIS_URL=REDIS_URL, RATE_LIMIT_KEY_PREFIX=f"replicas-{uuid.uuid4().hex}",
                       RATE_LIMIT_PRINCIPAL_PER_MINUTE=str(PER_MINUTE), RATE_LIMIT_ADDRESS_PER_MINUTE="0",
                       WORKER_SEAL_INTERVAL_SECONDS="0.2", WORKER_DELIVERY_INTERVAL_SECONDS="0.2",
                       AUDIT_SEAL_MARGIN_SECONDS="1",
                       WEBHOOK_TIMEOUT_SECONDS="2", WEBHOOK_LEASE_SECONDS="10")
    prepare(env)
    replicas = [deployed_server(env, tmp_path / f"replica-{n}.log", workers=1) for n in (1, 2)]
    hooks, workers = Hooks(), []
    try:
        for replica in replicas:
            replica.start()
        for n in (1, 2):
            with open(tmp_path / f"worker-{n}.log", "wb") as log:
                workers.append(subprocess.Popen([str(BIN / "casusregister"), "worker"], env={**os.environ, **env},
                                                stdout=log, stderr=subprocess.STDOUT))
        yield replicas, workers, env, hooks
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(15)
        for replica in replicas:
            replica.stop()
        hooks.shutdown()
        _drop_pg_database(database.name)


def _subscribe(url: str, admin: str, callback: str) -> None:
    response = httpx.post(f"{url}/api/v1/subscriptions", json={"callback_url": callback, "events": ["signal.received"]},
                          headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 201, response.text


def _intake(urls: list[str], tokens: list[str], numbers: range) -> Counter[str]:
    """Round-robin over the replicas, as a load balancer would; returns the 201s per replica."""
    answered: Counter[str] = Counter()
    with httpx.Client(timeout=15.0) as client:
        for i in numbers:
            url = urls[i % len(urls)]
            response = client.post(f"{url}/api/v1/signals", json=signal_body(name=f"Persoon {i}", bsn=None),
                                   headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}",
                                            "Idempotency-Key": f"replica-{i}"})
            assert response.status_code == 201, response.text
            answered[url] += 1
    return answered


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _seals(env: dict[str, str]) -> tuple[int, int]:
    """Seals written, and events not sealed yet."""
    with psycopg.connect(env["OWNER_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as db:
        db.execute("SELECT set_config('casusregister.municipalities', '*', false)")
        seals, last = db.execute("SELECT count(*), coalesce(max(last_event_seq), 0) FROM audit_seals").fetchone()
        unsealed = db.execute("SELECT count(*) FROM audit_events WHERE seq > %s", (last,)).fetchone()[0]
    return seals, unsealed


def test_two_replicas_and_two_workers_share_one_registry(region):
    replicas, workers, env, hooks = region
    urls = [replica.url for replica in replicas]
    admin = token(urls[0], "admin")
    for path in ("a", "b"):
        _subscribe(urls[1], admin, hooks.url(path))
    tokens = [token(urls[n % 2], name) for n, name in enumerate(REPORTERS)]

    with ThreadPoolExecutor(3) as pool:
        answered = sum(pool.map(lambda part: _intake(urls, tokens, range(part, SIGNALS // 2, 3)), range(3)), Counter())
    assert set(answered) == set(urls) and all(count >= 10 for count in answered.values()), answered
    _wait_for(lambda: len(hooks.received) >= SIGNALS, 30, "the first half's deliveries")
    workers[0].kill()  # mid-run: whatever it had claimed waits out its lease, then falls to the other
    workers[0].wait(10)
    seals_before, _ = _seals(env)

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda part: _intake(urls, tokens, range(SIGNALS // 2 + part, SIGNALS, 3)), range(3)))
    _wait_for(lambda: len(hooks.received) == 2 * SIGNALS, 60, "every event at both subscriptions")
    _wait_for(lambda: _seals(env)[1] == 0 and _seals(env)[0] > seals_before, 30, "the other worker's seals")
    doubled = {key: n for key, n in hooks.received.items() if n > 1}
    assert len(doubled) <= 1, f"only a delivery in flight at the kill may come twice (same id): {doubled}"
    assert workers[1].poll() is None
    audit_intact(env)

    _login_throttle_counts_across_replicas(urls)
    _rate_limit_counts_across_replicas(urls)


def _login_throttle_counts_across_replicas(urls: list[str]) -> None:
    def login(url: str, password: str) -> int:
        return httpx.post(f"{url}/api/v1/auth/token", data={"grant_type": "password", "username": "expert",
                                                            "password": password}).status_code
    assert [login(urls[n % 2], "wrong-password") for n in range(5)] == [400] * 5
    # The sixth failure, on either replica, is over the per-account limit: even the right password waits.
    assert login(urls[1], "wrong-password") == 429 and login(urls[0], PASSWORD) == 429


def _rate_limit_counts_across_replicas(urls: list[str]) -> None:
    chair = token(urls[0], "chair")
    statuses = [httpx.get(f"{urls[n % 2]}/api/v1/auth/me", headers={"Authorization": f"Bearer {chair}"}).status_code
                for n in range(PER_MINUTE + 2)]
    assert statuses[:PER_MINUTE] == [200] * PER_MINUTE and statuses[PER_MINUTE:] == [429, 429]
