"""The line to PostgreSQL is cut twice during concurrent, idempotent intake (a TCP proxy of the test's
own sits between the registry and the database).

While it is down, requests answer 503 with Retry-After: never a 500, never a traceback. When it returns
the registry recovers by itself; the time from the restore to the first ready answer is printed (run
with -s to see it). Once the clients have retried, every key yields exactly one signal and the sealed
audit log verifies. PostgreSQL only (skipped without it, required with CI=true).
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.engine import make_url

from bench.server import Server
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.deployments import audit_intact, prepare, registry_env, token
from tests.deployments import server as deployed_server
from tests.factories import signal_body
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (required with CI=true)")

SIGNALS, CLIENTS = 240, 8
OUTAGE_SECONDS = 1.5
# A client honours Retry-After, shortened here so the test stays quick.
RETRY_PAUSE_CAP = 0.2


@dataclass
class Load:
    statuses: dict[int, int] = field(default_factory=dict)
    signal_of: dict[str, str] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            problem = response.headers["content-type"].startswith("application/problem+json")
            if response.status_code == 503 and not (response.headers.get("retry-after", "").isdigit() and problem):
                self.bad.append(f"503 without Retry-After or problem: {response.headers}")
            if "Traceback" in response.text or response.status_code not in (201, 503):
                self.bad.append(f"{response.status_code}: {response.text[:200]}")


@pytest.fixture
def behind_proxy(tmp_path) -> Iterator[tuple[Server, TcpProxy, dict[str, str]]]:
    database = _create_pg_database()
    url = make_url(database.url)
    proxy = TcpProxy((url.host, url.port or 5432))
    env = registry_env(database, tmp_path,
                       DATABASE_URL=url.set(port=proxy.port).render_as_string(hide_password=False))
    prepare(env)
    server = deployed_server(env, tmp_path / "server.log")
    try:
        yield server.start(), proxy, env
    finally:
        server.stop()
        proxy.close()
        _drop_pg_database(database.name)


def _body(i: int) -> dict:
    """The same body for every attempt of a key; 60 persons, so concurrent intakes match, not duplicate."""
    return signal_body(name=f"Persoon {i % 60}", bsn=None, description=f"Waarneming {i}.",
                       observed_at="2026-11-20T10:00:00+00:00")


def _intake(url: str, tokens: list[str], keys: list[int], load: Load) -> None:
    with httpx.Client(base_url=url, timeout=15.0) as client:
        for i in keys:
            key = f"fault-{i}"
            body = _body(i)
            while True:  # the same request again until it is answered: that is what Retry-After asks
                try:
                    response = client.post("/api/v1/signals", json=body, headers={
                        "Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": key})
                except httpx.TransportError:
                    time.sleep(RETRY_PAUSE_CAP)
                    continue
                load.saw(response)
                if response.status_code != 503:
                    break
                time.sleep(min(RETRY_PAUSE_CAP, int(response.headers.get("retry-after", "1"))))
            if response.status_code == 201:
                with load.lock:
                    load.signal_of[key] = response.json()["id"]


def _first_ready_after(url: str, since: float) -> float:
    """Seconds from `since` (the restore) until /ready answers 200, polled every 10 ms."""
    with httpx.Client(base_url=url, timeout=5.0) as client:
        while client.get("/ready").status_code != 200:
            time.sleep(0.01)
    return time.monotonic() - since


def _cut_twice(url: str, proxy: TcpProxy, load: Load, recoveries: list[float]) -> None:
    for share in (3, 3 / 2):  # once a third of the signals are in, once two thirds are
        while len(load.signal_of) < SIGNALS / share:
            time.sleep(0.01)
        proxy.cut()
        time.sleep(OUTAGE_SECONDS)
        proxy.restore()
        recoveries.append(_first_ready_after(url, proxy.restored_at[-1]))


def test_a_lost_database_answers_503_and_nothing_is_lost_or_doubled(behind_proxy):
    server, proxy, env = behind_proxy
    tokens = [token(server.url, username) for username in ("teacher", "youthworker", "police")]
    load, recoveries = Load(), []
    cutter = threading.Thread(target=_cut_twice, args=(server.url, proxy, load, recoveries))
    cutter.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda c: _intake(server.url, tokens, list(range(c, SIGNALS, CLIENTS)), load), range(CLIENTS)))
    cutter.join()

    assert load.bad == []
    assert load.statuses.get(503, 0) > 0, "the cuts fell between requests: nothing was tested"
    assert len(load.signal_of) == SIGNALS and len(set(load.signal_of.values())) == SIGNALS
    print(f"\nrecovery after the connection returned: {', '.join(f'{s * 1000:.0f} ms' for s in recoveries)}; "
          f"answers: {dict(sorted(load.statuses.items()))}")
    assert max(recoveries) < 5, "the registry recovers by itself, quickly"

    with httpx.Client(base_url=server.url) as client:  # a retry of any key now replays its one signal
        for key in ("fault-0", f"fault-{SIGNALS // 2}", f"fault-{SIGNALS - 1}"):
            i = int(key.removeprefix("fault-"))
            again = client.post("/api/v1/signals", json=_body(i), headers={
                "Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": key})
            assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == load.signal_of[key]
    _assert_one_signal_per_key(env)
    audit_intact(env)
    assert "Traceback" not in server.log.read_text()


def _assert_one_signal_per_key(env: dict[str, str]) -> None:
    import psycopg
    with psycopg.connect(env["OWNER_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as db:
        db.execute("SELECT set_config('casusregister.municipalities', '*', false)")
        keys = db.execute("SELECT count(*), count(DISTINCT key) FROM idempotency_records "
                          "WHERE key LIKE 'fault-%' AND status_code = 201").fetchone()
        signals = db.execute("SELECT count(*) FROM signals").fetchone()[0]
    assert keys == (SIGNALS, SIGNALS) and signals == SIGNALS
