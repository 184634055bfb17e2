"""`.venv/bin/python -m bench`: the benchmarks of issues 7 and 13 against a real uvicorn on PostgreSQL, beside a
plain FastAPI + SQLModel baseline service; prints a table."""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import deployment, rows, scale, versus, wrk
from bench.rows import Context, Row

ROWS = {"health": rows.health, "intake8": versus.intake, "intake32": lambda ctx: rows.intake(ctx, 32),
        "signal_list": versus.signal_list, "case_read": rows.case_read, "agenda_build": rows.agenda_build,
        "access_report": rows.access_report, "verification": rows.verification}
# What a row needs run before it: intake32 is a ratio to health; verification runs over the report's events.
NEEDS = {"intake32": "health", "verification": "access_report"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load run (default 10)")
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events loaded for the report and "
                        "verification rows (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    parser.add_argument("--only", nargs="+", choices=ROWS, metavar="ROW",
                        help=f"run only these rows (and what they need): {', '.join(ROWS)}")
    parser.add_argument("--scale", action="store_true", help="the scale bench instead (bench/scale.py): a large "
                        "registry, every read as each role; the options after it are its own (--scale --help)")
    return parser.parse_args()


def _machine(dsn: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) / 1024 / 1024
    with psycopg.connect(dsn) as db:
        server_version = db.execute("SHOW server_version").fetchone()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB RAM, PostgreSQL {server_version}, "
            f"Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.1f}")


def _table(results: list[Row]) -> str:
    lines = ["| row | figure | ratio | target | result |", "|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.figure} | {r.ratio} | {r.target} | {r.verdict} |" for r in results]
    return "\n".join(lines)


def _selected(only: list[str] | None) -> list[str]:
    wanted = set(only or ROWS)
    wanted |= {NEEDS[name] for name in wanted if name in NEEDS}
    return [name for name in ROWS if name in wanted]


def _measure(ctx: Context, names: list[str]) -> list[Row]:
    wrk.run(ctx.server.url, 8, 2, "signal", "/api/v1/signals", ctx.token("bench-melder"))  # warm-up
    wrk.run(ctx.baseline.server.url, 8, 2, "item", "/items/", ctx.baseline.token)
    results = []
    for name in names:
        started = time.monotonic()
        ctx.deployment.analyze()
        produced = ROWS[name](ctx)
        for r in produced:
            print(f"  {r.name}: {r.figure} [{r.verdict}] ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        results += produced
    return results


def main() -> None:
    if sys.argv[1:2] == ["--scale"]:
        scale.main(sys.argv[2:])
        return
    args = _arguments()
    wrk.require_wrk()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="casus-bench-") as scratch:
        deployed = deployment.create(Path(scratch))
        print(f"bench database {deployed.database}, {args.workers} workers per server", file=sys.stderr)
        machine = _machine(deployed.dsn)
        server = deployed.server("app.main:app", args.workers, "app").start()
        unaudited = deployed.server("bench.noaudit:app", args.workers, "noaudit").start()
        base = None
        try:
            base = versus.start(deployed, args.workers)
            ctx = Context(deployed, server, unaudited, base, args.seconds, args.events)
            results = _measure(ctx, _selected(args.only))
        finally:
            server.stop()
            unaudited.stop()
            versus.stop(base)
            if not args.keep:
                deployment.drop(deployed)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"Casusregister bench, commit {revision}, uvicorn --workers {args.workers}, wrk on loopback\n{machine}, "
          f"load average at end {os.getloadavg()[0]:.1f}\n")
    print(_table(results))
    print("\n" + "\n".join(f"- {note}" for note in ctx.notes + [f"whole run: {time.monotonic() - started:.0f} s"]))


if __name__ == "__main__":
    main()
