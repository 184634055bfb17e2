"""Casusregister beside the baseline (bench/baseline.py), the rows of issue 13.

Each row runs Casusregister and the baseline alternately, in PAIRS pairs of half a load run each, and
takes the median of the pairs' ratios, so that the drift of a shared machine hits both sides alike.
"""

import secrets
import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import psycopg
from sqlalchemy.engine import make_url

from bench import baseline
from bench.deployment import ADMIN_URL, Deployment
from bench.rows import API, PAIRS, Context, Row, latency, load, merged, submit_signal
from bench.server import Server
from bench.wrk import Load

ITEMS = 10  # the baseline user's rows: its list returns all ten, as the signal list returns a page of ten


@dataclass
class Baseline:
    server: Server
    database: str
    token: str


def _database(database: str) -> str:
    return make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=database).render_as_string(
        hide_password=False)


def _user(dsn: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    with psycopg.connect(dsn) as db:
        db.execute('INSERT INTO "user" (id, email, is_active, full_name, hashed_password) '
                   "VALUES (%s, 'bench@example.org', true, 'Bench', 'not used')", (user_id,))
        for n in range(ITEMS):
            db.execute("INSERT INTO item (id, title, description, owner_id) VALUES (%s, %s, 'seeded', %s)",
                       (uuid.uuid4(), f"Item {n}", user_id))
    return user_id


def prepare(deployed: Deployment) -> tuple[str, dict[str, str], str]:
    """A database of its own in the same PostgreSQL with one user and ten items: its name, the server's
    environment (database URL and token secret) and the user's token."""
    database = f"{deployed.database}_baseline"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = _database(database)
    baseline.create_tables(url)
    user_id = _user(url.replace("postgresql+psycopg", "postgresql"))
    secret = secrets.token_urlsafe(32)
    token = jwt.encode({"sub": str(user_id), "exp": datetime.now(UTC) + timedelta(hours=2)}, secret, "HS256")
    return database, {"BASELINE_DATABASE_URL": url, "BASELINE_SECRET": secret}, token


def start(deployed: Deployment, workers: int) -> Baseline:
    """The baseline's server under the application's uvicorn settings, on a database of its own."""
    database, env, token = prepare(deployed)
    return Baseline(deployed.server("bench.baseline:app", workers, "baseline", env).start(), database, token)


def drop(database: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def stop(base: Baseline | None) -> None:
    if base is None:
        return
    base.server.stop()
    drop(base.database)


def _pairs(ctx: Context, ours: dict, theirs: dict) -> list[tuple[Load, Load]]:
    seconds = max(ctx.seconds // 2, 2)
    base = ctx.baseline
    return [(load(ctx, ctx.server, 8, seconds, **ours),
             load(ctx, base.server, 8, seconds, database=base.database, **theirs)) for _ in range(PAIRS)]


def _compare(pairs: list[tuple[Load, Load]]) -> tuple[Load, Load, float]:
    return merged([p[0] for p in pairs]), merged([p[1] for p in pairs]), statistics.median(
        a.rate / b.rate for a, b in pairs)


def _baseline_row(name: str, loads: Load) -> Row:
    return Row(f"baseline (bench/baseline.py): {name} (8 conn.)", latency(loads), "1.00", "—", None)


def intake(ctx: Context) -> list[Row]:
    ours = {"mode": "signal", "path": f"{API}/signals", "token": ctx.token("bench-melder")}
    theirs = {"mode": "item", "path": "/items/", "token": ctx.baseline.token}
    pairs = _pairs(ctx, ours, theirs)
    on, base, ratio = _compare(pairs)
    passed = ratio >= 2 and on.p99_ms < 50 and not on.errors and not base.errors
    # The row's p99 is the highest of the runs' (merged): each run's shows whether one run or all are slow.
    runs = "/".join(f"{ours_run.p99_ms:.0f}" for ours_run, _ in pairs)
    return [_baseline_row("create one item: JWT, user by id, INSERT", base),
            Row("signal intake: auth, validation, idempotency, matching, audit (8 conn.)",
                f"{latency(on)}; p99 of each run {runs} ms",
                f"{ratio:.2f}× the baseline's create", "≥ 2× baseline create, p99 < 50 ms, no non-2xx", passed)]


def signal_list(ctx: Context) -> list[Row]:
    """The coordinator's first page of ten signals (audited: one event naming the ten persons)."""
    for n in range(ITEMS):
        submit_signal(ctx, f"Lijst Persoon {n}")
    ours = {"path": f"{API}/signals?pageSize=10", "token": ctx.token("bench-coordinator")}
    on, base, ratio = _compare(_pairs(ctx, ours, {"path": "/items/", "token": ctx.baseline.token}))
    return [_baseline_row("list ten items: JWT, user by id, SELECT", base),
            Row("signal list, 10, coordinator, audited (8 conn.)", latency(on),
                f"{ratio:.2f}× the baseline's list", "≥ 1× baseline list", ratio >= 1 and not on.errors)]
