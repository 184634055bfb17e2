"""`casusregister worker`: the registry's background work in one long-running process.

It seals the audit log, delivers the outbox, erases what is past its retention period and purges old
login-throttle rows, each on its own schedule. Any number of workers may run against PostgreSQL: the
sealer takes an advisory lock for its transaction, retention one for its run, and delivery claims
its messages with `SKIP LOCKED`, so nothing runs twice. A job that fails (the database restarting,
a lost connection, a bug) is logged by its error class only, since messages may carry personal data,
and tried again after a growing pause; the worker itself keeps going until SIGTERM or Ctrl-C.
"""

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, delete

from app.audit import chain as audit_chain
from app.config import Settings
from app.db import Session, singleton
from app.models import LoginFailure
from app.models.base import utcnow
from app.privacy import retention
from app.services import delivery

logger = logging.getLogger("casusregister.worker")
RETENTION_LOCK = 0x72657465  # "rete"
OPERATOR = "casusregister worker"


@dataclass
class Job:
    """`action` returns True when more work is waiting: it then runs again without the pause."""

    name: str
    every: float
    action: Callable[[], bool | None]
    failures: int = 0
    due: float = 0.0


@dataclass
class Runner:
    jobs: list[Job]
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random

    def run(self) -> None:
        """Runs the due jobs until `stop` is set; a job in progress finishes first."""
        while not self.stop.is_set():
            for job in self.jobs:
                if self.stop.is_set():
                    return
                if job.due <= self.clock():
                    self._run(job)
            self.stop.wait(max(0.0, min(job.due for job in self.jobs) - self.clock()))

    def _run(self, job: Job) -> None:
        try:
            more = job.action()
        except Exception as exc:  # the worker outlives any failure; the class names it without personal data
            job.failures += 1
            pause = self.backoff(job.failures)
            logger.error("job %s failed with %s (failure %d); next try in %.1f s",
                         job.name, type(exc).__name__, job.failures, pause)
            job.due = self.clock() + pause
            return
        if job.failures:
            logger.info("job %s recovered after %d failure(s)", job.name, job.failures)
        job.failures = 0
        job.due = self.clock() + (0.0 if more else job.every)

    def backoff(self, failures: int) -> float:
        """Exponential and capped, half fixed and half random, so workers do not retry in step."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        return delay / 2 + self.rng() * delay / 2


def run_until_stopped(runner: Runner) -> None:
    """SIGTERM lets the job in progress finish (its transaction commits whole), then stops; Ctrl-C stops
    at once and the open transaction rolls back."""
    previous = signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def seal(engine: Engine, settings: Settings) -> bool:
    with engine.begin() as connection:
        written = audit_chain.seal(connection, settings.audit_seal_margin_seconds, settings.audit_seal_batch_size)
    if written:
        logger.info("audit seal: %d seal(s) written", written)
    return False


def deliver(engine: Engine, settings: Settings, batch: int = 50) -> bool:
    run = delivery.deliver_due(engine, settings, batch=batch)
    if run.claimed:
        logger.info("outbox: %s", ", ".join(f"{count} {outcome}" for outcome, count in run.counts.items()))
    return bool(run.claimed)


def erase_due(engine: Engine, settings: Settings) -> bool:
    with singleton(engine, RETENTION_LOCK) as ours:
        if ours:
            with Session(engine) as session:
                erased = retention.run(session, settings, OPERATOR)
            logger.info("retention: %s", erased)
    return False


def purge_login_failures(engine: Engine, settings: Settings) -> bool:
    """Failed logins older than the throttle's window count for nothing any more."""
    cutoff = utcnow() - timedelta(seconds=settings.login_window_seconds)
    with Session(engine) as session:
        purged = session.execute(delete(LoginFailure).where(LoginFailure.occurred_at < cutoff)).rowcount
        session.commit()
    if purged:
        logger.info("login throttle: %d expired row(s) purged", purged)
    return False


def jobs(engine: Engine, settings: Settings) -> list[Job]:
    return [Job("seal", settings.worker_seal_interval_seconds, lambda: seal(engine, settings)),
            Job("deliver", settings.worker_delivery_interval_seconds, lambda: deliver(engine, settings)),
            Job("retention", settings.worker_retention_interval_seconds, lambda: erase_due(engine, settings)),
            Job("login-throttle", settings.worker_throttle_purge_interval_seconds,
                lambda: purge_login_failures(engine, settings))]


def runner(engine: Engine, settings: Settings) -> Runner:
    return Runner(jobs(engine, settings), backoff_max=settings.worker_backoff_max_seconds)
