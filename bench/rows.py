"""The bench's rows: each one small function that measures one thing and states its target."""

import statistics
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import psycopg

from bench import agenda, auditlog, wrk
from bench.deployment import Deployment
from bench.server import Server, cpu_used
from bench.wrk import Load

if TYPE_CHECKING:
    from bench.versus import Baseline

API = "/api/v1"
PAIRS = 6  # audited/unaudited pairs of the case-read row; four pairs of 3 s gave verdicts from -17% to +129%


@dataclass
class Row:
    name: str
    figure: str
    ratio: str
    target: str
    passed: bool | None  # None: a reference figure without a target

    @property
    def verdict(self) -> str:
        return "—" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class Context:
    deployment: Deployment
    server: Server  # the application as deployed
    unaudited: Server  # bench.noaudit: the same application and settings, auditor replaced by a no-op
    baseline: "Baseline"  # bench.baseline: the plain FastAPI + SQLModel service of issue 13
    seconds: int
    events: int
    health: Load | None = None
    notes: list[str] = field(default_factory=list)

    def token(self, username: str) -> str:
        return self.deployment.tokens[username]


def load(ctx: Context, server: Server, connections: int, seconds: int, *args, database: str | None = None,
         **kwargs) -> Load:
    """A wrk run, with the CPU time per request that the server and its database (by default the
    deployment's) spent on it."""
    app, db = server.cpu_seconds(), ctx.deployment.database_cpu_seconds(database)
    figures = wrk.run(server.url, connections, seconds, *args, **kwargs)
    per_request = 1000 / max(figures.requests, 1)
    return replace(figures, app_cpu_ms=cpu_used(app, server.cpu_seconds()) * per_request,
                   db_cpu_ms=cpu_used(db, ctx.deployment.database_cpu_seconds(database)) * per_request)


def latency(figures: Load) -> str:
    errors = f", {figures.errors} ERRORS" if figures.errors else ""
    return (f"{figures.rate:,.0f} req/s, p50 {figures.p50_ms:.1f} ms, p99 {figures.p99_ms:.1f} ms; "
            f"CPU/req {figures.app_cpu_ms:.2f} ms app + {figures.db_cpu_ms:.2f} ms db{errors}")


def signal_body(name: str) -> dict:
    """The intake body bench/load.lua sends, for the signals the bench submits from Python."""
    return {"subject": {"name": name, "date_of_birth": "1990-01-01"},
            "categories": ["social_isolation", "online_propaganda"], "description": "Trekt zich terug (benchmark).",
            "observed_at": "2026-11-20T10:00:00Z", "urgency": "normal", "channel": "registration_system",
            "district": "Centrum"}


def submit_signal(ctx: Context, name: str) -> dict:
    headers = {"Authorization": f"Bearer {ctx.token('bench-melder')}"}
    return httpx.post(f"{ctx.server.url}{API}/signals", json=signal_body(name),
                      headers=headers).raise_for_status().json()


def health(ctx: Context) -> list[Row]:
    ctx.health = load(ctx, ctx.server, 32, ctx.seconds)
    return [Row("health endpoint, unauthenticated (32 conn.): the ceiling", latency(ctx.health), "1.00",
                "—", None)]


def intake(ctx: Context, connections: int) -> list[Row]:
    """Intake at many connections, beside the framework's ceiling (at 8, bench/versus.py sets it beside
    the baseline)."""
    figures = load(ctx, ctx.server, connections, ctx.seconds, "signal", f"{API}/signals", ctx.token("bench-melder"))
    ratio = figures.rate / ctx.health.rate
    cost = (figures.app_cpu_ms + figures.db_cpu_ms) / (ctx.health.app_cpu_ms + ctx.health.db_cpu_ms)
    return [Row(f"signal intake: auth, validation, idempotency, audit ({connections} conn.)", latency(figures),
                f"{ratio:.1%} of health (by CPU/req: {1 / cost:.1%})", "≥ 10% of health",
                ratio >= 0.10 and not figures.errors)]


def case_read(ctx: Context) -> list[Row]:
    """Audited, unaudited and the baseline's list alternate in six rounds; each verdict is the median of
    the rounds' ratios, so that a burst of other work on a shared machine distorts one round, not the verdict."""
    signal = submit_signal(ctx, "Casus Persoon")
    coordinator = {"Authorization": f"Bearer {ctx.token('bench-coordinator')}"}
    triaged = httpx.post(f"{ctx.server.url}{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                         headers=coordinator).raise_for_status().json()
    path, token = f"{API}/cases/{triaged['case_id']}", ctx.token("bench-coordinator")
    seconds = max(ctx.seconds // 2, 2)
    rounds = [(load(ctx, ctx.server, 8, seconds, path=path, token=token),
               load(ctx, ctx.unaudited, 8, seconds, path=path, token=token),
               load(ctx, ctx.baseline.server, 8, seconds, path="/items/", token=ctx.baseline.token,
                    database=ctx.baseline.database))
              for _ in range(PAIRS)]
    on, off = merged([r[0] for r in rounds]), merged([r[1] for r in rounds])
    overhead = statistics.median(u.rate / a.rate - 1 for a, u, _ in rounds)  # extra time per read auditing costs
    versus = statistics.median(a.rate / b.rate for a, _, b in rounds)
    cpu = (on.app_cpu_ms + on.db_cpu_ms) / (off.app_cpu_ms + off.db_cpu_ms) - 1
    return [Row("case read, audit off (bench-only app, 8 conn.)", latency(off), "—", "—", None),
            Row("case read, audited (8 conn.)", latency(on), f"{overhead:+.0%} time per read (by CPU/req: {cpu:+.0%})",
                "audit overhead ≤ 25%", overhead <= 0.25 and not on.errors),
            Row("case read, audited, beside the baseline's list of ten (8 conn.)", latency(on),
                f"{versus:.2f}× the baseline's list", "≥ 1× baseline list", versus >= 1 and not on.errors)]


def merged(loads: list[Load]) -> Load:
    requests = sum(x.requests for x in loads)
    return Load(requests, sum(x.seconds for x in loads), sum(x.errors for x in loads),
                max(x.p50_ms for x in loads), max(x.p99_ms for x in loads),
                sum(x.app_cpu_ms * x.requests for x in loads) / requests,
                sum(x.db_cpu_ms * x.requests for x in loads) / requests)


def access_report(ctx: Context) -> list[Row]:
    """One person's report over a log of `events` events; the person is in 1,000 of them."""
    submit_signal(ctx, "Inzage Persoon")
    with psycopg.connect(ctx.deployment.dsn) as db:
        person_id, pseudonym = db.execute("SELECT id, pseudonym FROM persons WHERE name = 'Inzage Persoon'").fetchone()
    took = auditlog.bulk_load(ctx.deployment.dsn, ctx.events, pseudonym, 1000, ctx.deployment.organisations)
    ctx.notes.append(f"bulk load of {ctx.events:,} audit events (INSERT … SELECT generate_series): {took:.1f} s")
    report = load(ctx, ctx.server, 1, ctx.seconds, path=f"{API}/persons/{person_id}/access-report",
                  token=ctx.token("bench-privacy"))
    return [Row(f"access report, 1 person in {ctx.events:,}+ events (1 conn.)", latency(report), "—",
                "p50 < 100 ms", report.p50_ms < 100 and not report.errors)]


def verification(ctx: Context) -> list[Row]:
    engine = ctx.deployment.engine
    seals, took = auditlog.seal(engine, ctx.deployment.settings.audit_seal_batch_size)
    result, elapsed = auditlog.verify(engine)
    ctx.notes.append(f"sealing: {seals} seals over {result.events:,} events in {took:.1f} s "
                     f"({result.events / took:,.0f} events/s)")
    rate = result.events / elapsed
    figure = f"{rate:,.0f} events/s ({result.events:,} events, {result.seals} seals, {elapsed:.1f} s)"
    broken = f"; BROKEN: {result.broken}" if result.broken else ""
    return [Row("audit-chain verification (audit_chain.verify)", figure + broken, "—", "≥ 200,000 events/s",
                rate >= 200_000 and result.broken is None)]


def agenda_build(ctx: Context) -> list[Row]:
    """The first build of a meeting's agenda (POST …/agenda/build) in a municipality with 10,000 open
    cases; eight meetings a minute apart, each built once, timed from the client."""
    starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=7)
    due = agenda.seed_open_cases(ctx.deployment.dsn, ctx.deployment.organisations[0], 10_000, starts.date())
    headers = {"Authorization": f"Bearer {ctx.token('bench-coordinator')}"}
    times, items = [], set()
    with httpx.Client(base_url=ctx.server.url + API, headers=headers, timeout=30) as client:
        for minute in range(8):
            body = {"starts_at": (starts + timedelta(minutes=minute)).isoformat(),
                    "chair_id": ctx.deployment.user_ids["bench-chair"]}
            meeting = client.post("/meetings", json=body).raise_for_status().json()
            started = time.perf_counter()
            built = client.post(f"/meetings/{meeting['id']}/agenda/build").raise_for_status().json()
            times.append((time.perf_counter() - started) * 1000)
            items.add(len(built["items"]))
    p50 = statistics.median(times)
    figure = f"p50 {p50:.0f} ms, max {max(times):.0f} ms; {'/'.join(map(str, sorted(items)))} items on the agenda"
    return [Row(f"agenda build, 10,000 open cases, {due} due for review (1 conn.)", figure, "—", "p50 < 250 ms",
                p50 < 250 and min(items) >= due)]
