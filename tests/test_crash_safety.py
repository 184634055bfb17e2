"""Crash safety: the server is SIGKILLed in the middle of concurrent, idempotent intake and restarted.

Every signal a client got a 201 for must exist exactly once, every key a client had to retry must
yield exactly one signal (replayed when the lost answer had committed), every signal must have
exactly one audit event of its creation, and the sealed audit log must verify.
PostgreSQL only: it is the production database (skipped without it, required with CI=true).
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from bench.server import Server
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.deployments import audit_intact, prepare, registry_env, token
from tests.deployments import server as deployed_server
from tests.factories import signal_body

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (required with CI=true)")

SIGNALS = 1000
CLIENTS = 12
KILL_AFTER = SIGNALS // 2  # acknowledged signals before the SIGKILL
REPORTERS = ["teacher", "youthworker", "police"]


@dataclass
class Outcomes:
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> signal id from a 201
    unanswered: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def deployment(tmp_path) -> Iterator[tuple[Server, dict[str, str], str]]:
    database = _create_pg_database()
    env = registry_env(database, tmp_path)
    prepare(env)
    server = deployed_server(env, tmp_path / "server.log")
    try:
        yield server, env, database.owner_url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        server.stop()
        _drop_pg_database(database.name)


def _body(i: int) -> dict:
    # A retry sends the same body (a fixed time); 150 distinct persons: concurrent intakes about the same person must match, not duplicate.
    return signal_body(name=f"Persoon {i % 150}", bsn=None, description=f"Waarneming {i}.",
                       observed_at="2026-11-20T10:00:00+00:00")


def _submit(client: httpx.Client, token: str, key: str, i: int) -> httpx.Response:
    return client.post("/api/v1/signals", json=_body(i),
                       headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def _client_run(server: Server, tokens: list[str], work: list[int], outcomes: Outcomes) -> None:
    with httpx.Client(base_url=server.url, timeout=15.0) as client:
        for i in work:
            key = f"crash-{i}"
            try:
                response = _submit(client, tokens[i % len(tokens)], key, i)
            except httpx.TransportError:
                with outcomes.lock:
                    outcomes.unanswered.append(key)
                continue
            with outcomes.lock:
                if response.status_code == 201:
                    outcomes.acknowledged[key] = response.json()["id"]
                else:
                    outcomes.unexpected.append(f"{key}: {response.status_code}")


def _kill_midway(server: Server, outcomes: Outcomes, deadline: float) -> None:
    while len(outcomes.acknowledged) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()


def _retry(server: Server, tokens: list[str], keys: list[str]) -> dict[str, httpx.Response]:
    with httpx.Client(base_url=server.url, timeout=15.0) as client, ThreadPoolExecutor(CLIENTS) as pool:
        def one(key: str) -> tuple[str, httpx.Response]:
            i = int(key.removeprefix("crash-"))
            return key, _submit(client, tokens[i % len(tokens)], key, i)
        return dict(pool.map(one, keys))


def _database_state(dsn: str) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    with psycopg.connect(dsn) as db:
        db.execute("SELECT set_config('casusregister.municipalities', '*', false)")  # row-level security: all
        records = dict(db.execute("SELECT key, resource_id::text FROM idempotency_records WHERE status_code = 201"))
        signals = dict(db.execute("SELECT id::text, count(*) FROM signals GROUP BY id"))
        created = dict(db.execute(
            "SELECT resource_id, count(*) FROM audit_events WHERE resource_type = 'signal' AND operation = 'create' "
            "AND NOT (detail::jsonb ? 'replay') GROUP BY resource_id"))
    return records, signals, created


def test_sigkill_during_concurrent_intake_loses_and_duplicates_nothing(deployment):
    server, env, dsn = deployment
    server.start()
    tokens = [token(server.url, username) for username in REPORTERS]
    outcomes = Outcomes()
    killer = threading.Thread(target=_kill_midway, args=(server, outcomes, time.monotonic() + 60))
    killer.start()
    workers = [threading.Thread(target=_client_run, args=(server, tokens, list(range(c, SIGNALS, CLIENTS)), outcomes))
               for c in range(CLIENTS)]
    for worker in workers:
        worker.start()
    for worker in workers + [killer]:
        worker.join()
    assert outcomes.unexpected == []
    assert outcomes.acknowledged and outcomes.unanswered, "the kill was not midway"

    server.start()
    # Every unanswered request, plus some answered ones: a retry of a committed key replays its answer.
    sample = sorted(outcomes.acknowledged)[:30]
    retried = _retry(server, tokens, outcomes.unanswered + sample)
    assert {key: r.status_code for key, r in retried.items() if r.status_code != 201} == {}
    assert all(retried[key].headers.get("Idempotent-Replayed") == "true" for key in sample)
    assert all(retried[key].json()["id"] == outcomes.acknowledged[key] for key in sample)
    server.stop()

    records, signals, created = _database_state(dsn)
    assert len(records) == SIGNALS and len(signals) == SIGNALS, "one signal per key, no orphans"
    for key, signal_id in outcomes.acknowledged.items():
        assert records[key] == signal_id and signals[signal_id] == 1
    for key, response in retried.items():
        assert records[key] == response.json()["id"] and signals[records[key]] == 1
    assert created == dict.fromkeys(signals, 1), "exactly one creation event per signal"

    audit_intact(env)
