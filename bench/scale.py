"""`.venv/bin/python -m bench --scale` (or `-m bench.scale`): every list and single read of case data, as
each role that may call it, and intake, on a small registry and again after a bulk load to a large one
(issue 13); prints a table."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import httpx

from bench import deployment, scale_callers, scale_load, wrk
from bench.rows import API, Context, Row
from bench.scale_data import Sizes, sizes
from bench.scale_reads import CALLERS, Read, reads
from bench.wrk import Load

# 1,000 cases, 5,000 persons, 10,000 signals, 10 meetings, 100,000 audit events: a hundredth of the full
# registry, and enough that lists' first pages hold about as many items as at full size (at a thousandth
# the expert's referrals were a page of 5 against 20), so "within 2x" compares the registry, not the page.
SMALL = sizes(0.01)
CONNECTIONS = 8
TARGET = "p50 < 25 ms, p99 < 100 ms, p50 ≤ 2× small"
INTAKE_TARGET = "rate ≥ 1/1.5 of small"
INTAKE_RUNS = 3


@dataclass
class Phase:
    """The figures of one registry size: per read name its load, or the status a read answered instead of 200."""
    loads: dict[str, Load | int]
    intake: Load | None = None
    rows: dict[str, int] = field(default_factory=dict)  # per list read: the items its first page held


def _get(url: str, paths: tuple[str, ...], token: str, seconds: int) -> Load:
    return wrk.run(url, CONNECTIONS, seconds, path=" ".join(API + p for p in paths), token=token)


def _probe(client: httpx.Client, read: Read, token: str, phase: Phase) -> int | None:
    """The first status other than 200 among the read's paths (each is requested once, which also warms up);
    of a list, how many items its first page held: a page of 5 and a page of 20 are not the same work."""
    for path in read.paths:
        answer = client.get(API + path, headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 200:
            return answer.status_code
        body = answer.json() if answer.headers.get("content-type", "").endswith("json") else None
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            phase.rows.setdefault(read.name, len(body["items"]))
    return None


def _measure(ctx: Context, measured: list[Read], tokens: dict[str, str], intake: bool) -> Phase:
    # Intake first: a read that outlasts its run (statistics at full size) keeps the server busy after wrk stops.
    phase = Phase({}, _intake(ctx, tokens) if intake else None)
    with httpx.Client(base_url=ctx.server.url, timeout=60) as client:
        for read in measured:
            token = tokens[CALLERS[read.role]]
            status = _probe(client, read, token, phase)
            phase.loads[read.name] = status or _get(ctx.server.url, read.paths, token, ctx.seconds)
            print(f"  {read.name}: {_figure(phase.loads[read.name])}", file=sys.stderr)
    return phase


def _intake(ctx: Context, tokens: dict[str, str]) -> Load:
    # A reporter of its own, so that the measured reporter's list does not grow with the intakes.
    args = ("signal", f"{API}/signals", tokens["scale-reporter"])
    wrk.run(ctx.server.url, CONNECTIONS, 1, *args)  # warm-up
    # The best of three: on a shared machine one run's rate swung by 2× either way between the sizes.
    best = max((wrk.run(ctx.server.url, CONNECTIONS, ctx.seconds, *args) for _ in range(INTAKE_RUNS)),
               key=lambda load: load.rate)
    print(f"  intake: {_figure(best)}", file=sys.stderr)
    return best


def _figure(load: Load | int) -> str:
    if isinstance(load, int):
        return f"answers {load}"
    errors = f", {load.errors} ERRORS" if load.errors else ""
    return f"{load.rate:,.0f}/s, p50 {load.p50_ms:.1f}, p99 {load.p99_ms:.1f} ms{errors}"


def _items(phase: Phase, name: str) -> str:
    return f", {phase.rows[name]} items" if name in phase.rows else ""


def _read_row(name: str, small: Load | int, large: Load | int, items: tuple[str, str]) -> Row:
    figure = f"small: {_figure(small)}{items[0]}; large: {_figure(large)}{items[1]}"
    if isinstance(small, int) or isinstance(large, int):
        return Row(name, figure, "—", TARGET, False)
    ratio = large.p50_ms / max(small.p50_ms, 0.001)
    misses = [label for label, ok in (("p50", large.p50_ms < 25), ("p99", large.p99_ms < 100), ("2×", ratio <= 2),
                                      ("errors", not (small.errors or large.errors)),
                                      ("none answered within the run", large.requests and small.requests)) if not ok]
    text = f"p50 ×{ratio:.2f}, p99 ×{large.p99_ms / max(small.p99_ms, 0.001):.2f}" + (f"; misses {', '.join(misses)}" if misses else "")
    return Row(name, figure, text, TARGET, not misses)


def _intake_row(small: Load, large: Load) -> Row:
    ratio = large.rate / small.rate
    return Row(f"signal intake ({CONNECTIONS} conn., best of {INTAKE_RUNS} runs)", f"small: {_figure(small)}; large: {_figure(large)}",
               f"rate ×{ratio:.2f}", INTAKE_TARGET, ratio >= 1 / 1.5 and not (small.errors or large.errors))


def _load(ctx: Context, layout: scale_callers.Layout, lo: Sizes, hi: Sizes) -> None:
    started = time.perf_counter()
    steps = scale_load.load(ctx.deployment, layout, lo, hi)
    took = time.perf_counter() - started
    detail = ", ".join(f"{name} {seconds:.1f}" for name, seconds in steps)
    ctx.notes.append(f"bulk load to {hi.cases:,} cases, {hi.persons:,} persons, {hi.signals:,} signals, "
                     f"{hi.meetings:,} meetings, {hi.events:,} audit events: {took:.1f} s ({detail})")
    print(f"loaded {hi} in {took:.1f} s", file=sys.stderr)


def run(ctx: Context, factor: float, only: list[str] | None = None) -> list[Row]:
    """Expects a fresh deployment (bench.deployment.create): the small registry is what it loads first."""
    layout = scale_callers.create(ctx.deployment)
    _load(ctx, layout, Sizes(0, 0, 0), SMALL)
    measured = reads(ctx.deployment.dsn, layout, only)
    intake = not only or "intake" in only
    small = _measure(ctx, measured, scale_callers.tokens(ctx.deployment, layout), intake)
    _load(ctx, layout, SMALL, sizes(factor))
    large = _measure(ctx, measured, scale_callers.tokens(ctx.deployment, layout), intake)
    found = [_read_row(f"{r.name} ({len(r.paths)} ids)", small.loads[r.name], large.loads[r.name],
                       (_items(small, r.name), _items(large, r.name))) for r in measured]
    return found + ([_intake_row(small.intake, large.intake)] if intake else [])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench --scale", description=__doc__)
    parser.add_argument("--factor", type=float, default=1.0, help="size of the large registry: 1.0 (default) is "
                        "1,000,000 signals, 500,000 persons, 100,000 cases, 10,000,000 audit events")
    parser.add_argument("--seconds", type=int, default=5, help="duration of each load run (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="only the reads whose name contains one of these "
                        "(e.g. '/cases/{id}/items' or 'as partner'); 'intake' for the intake row")
    return parser.parse_args(argv)


def _table(results: list[Row]) -> str:
    lines = ["| read | figure (rate, p50, p99) | large / small | target | result |", "|---|---|---|---|---|"]
    return "\n".join(lines + [f"| {r.name} | {r.figure} | {r.ratio} | {r.target} | {r.verdict} |" for r in results])


def _context(deployed: deployment.Deployment, server, seconds: int) -> Context:
    """The scale rows use the deployment, the deployed server and the duration; the other servers the bench's
    rows compare against (audit off, a baseline service) are not started, and those fields stay None."""
    unused = {f.name: None for f in fields(Context) if f.default is MISSING and f.default_factory is MISSING}
    return Context(**unused | {"deployment": deployed, "server": server, "seconds": seconds, "events": 0})


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    wrk.require_wrk()
    started, load_average = time.monotonic(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="casus-scale-") as scratch:
        deployed = deployment.create(Path(scratch))
        print(f"bench database {deployed.database}, {args.workers} workers", file=sys.stderr)
        server = deployed.server("app.main:app", args.workers, "app").start()
        try:
            ctx = _context(deployed, server, args.seconds)
            results = run(ctx, args.factor, args.only)
        finally:
            server.stop()
            if not args.keep:
                deployment.drop(deployed)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"Casusregister scale bench, commit {revision}, factor {args.factor}, {CONNECTIONS} connections, "
          f"{args.seconds} s per read, uvicorn --workers {args.workers}, {os.cpu_count()} CPUs, "
          f"load average {load_average:.1f} at start, {os.getloadavg()[0]:.1f} at end\n")
    print(_table(results))
    print("\n" + "\n".join(f"- {note}" for note in ctx.notes + [f"whole run: {time.monotonic() - started:.0f} s"]))


if __name__ == "__main__":
    main()
