"""The outbox worker: claims due messages, hands each to its deliverer, records the outcome.

Any number of workers may run against PostgreSQL: a claim takes due rows with
`SELECT … FOR UPDATE SKIP LOCKED`, moves their `next_attempt_at` one lease ahead and commits, so
other workers skip them. Right before each delivery the worker renews the lease of that one message,
counting the attempt, but only while the message still carries the lease of its claim: in a slow
batch a lease may run out and another worker may have taken the message since. The outcome is
committed after the delivery. A worker that dies mid-delivery leaves the message to be claimed again
when the lease ends: delivery is at least once, and receivers deduplicate on the message id. SQLite
has no row locks and a single writer: run one worker there.
"""

import importlib
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from app import tracing
from app.auth import tenancy
from app.config import Settings
from app.db import Session
from app.models import OutboxMessage
from app.models.base import utcnow
from app.models.outbox import MessageStatus
from app.services import outbox, targets
from app.services.outbox import DeliveryFailed

# Modules that register a deliverer when imported.
DELIVERER_MODULES = ("app.services.webhooks", "app.services.referral_delivery")
logger = logging.getLogger(__name__)


@dataclass
class DeliveryRun:
    counts: dict[str, int] = field(default_factory=lambda: {"delivered": 0, "retry": 0, "dead": 0})

    @property
    def claimed(self) -> int:
        return sum(self.counts.values())


def backoff_seconds(attempts: int, settings: Settings, rng=random.random) -> float:
    """Exponential, capped, with jitter (half fixed, half random) so failed receivers are not hit in step."""
    delay = min(settings.webhook_retry_max_seconds, settings.webhook_retry_base_seconds * 2 ** (attempts - 1))
    return delay / 2 + rng() * delay / 2


@dataclass(frozen=True)
class Claim:
    ids: list[uuid.UUID]
    lease_until: datetime  # what the claim wrote into next_attempt_at: the mark that the messages are ours


def _lease(settings: Settings) -> datetime:
    return utcnow() + timedelta(seconds=settings.webhook_lease_seconds)


def claim(engine: Engine, settings: Settings, due_before: datetime, limit: int) -> Claim:
    query = (select(OutboxMessage)
             .where(OutboxMessage.status == MessageStatus.pending, OutboxMessage.next_attempt_at <= due_before)
             .order_by(OutboxMessage.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
    lease_until = _lease(settings)
    with Session(engine) as session:
        messages = session.exec(query).all()
        for message in messages:
            message.next_attempt_at = lease_until
        session.commit()
        return Claim([m.id for m in messages], lease_until)


def _renew(engine: Engine, settings: Settings, message_id: uuid.UUID, lease_until: datetime) -> bool:
    """A full lease for this one delivery, and the attempt counted; False when the claim's lease is
    no longer on the message (it ran out and another worker claimed it, or it was delivered)."""
    with Session(engine) as session:
        message = session.exec(select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.pending,
            OutboxMessage.next_attempt_at == lease_until).with_for_update()).first()
        if message is None:
            return False
        message.attempts += 1
        message.next_attempt_at = _lease(settings)
        session.commit()
        return True


def _attempt(session: Session, message: OutboxMessage, http_client: httpx.Client) -> DeliveryFailed | None:
    fn = outbox.deliverer(message.kind)
    token = tracing.use(tracing.Trace.continued(message.traceparent))  # the delivery continues the sender's trace
    try:
        if fn is None:
            raise DeliveryFailed(f"no deliverer for kind {message.kind!r}")
        fn(session, message, http_client)
    except DeliveryFailed as failure:
        return failure
    except Exception as exc:  # a deliverer's bug must not stop the worker; its message may hold personal data
        logger.error("deliverer for %s failed with %s", message.kind, type(exc).__name__)
        return DeliveryFailed(f"internal error ({type(exc).__name__})")
    finally:
        tracing.reset(token)
    return None


def _record(message: OutboxMessage, failure: DeliveryFailed | None, settings: Settings) -> str:
    now = utcnow()
    if failure is None:
        message.status, message.delivered_at, message.last_error = MessageStatus.delivered, now, None
        return "delivered"
    message.last_error = failure.reason[:500]
    if failure.permanent or message.attempts >= settings.webhook_max_attempts:
        message.status = MessageStatus.dead
        return "dead"
    message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts, settings))
    return "retry"


def deliver_one(engine: Engine, settings: Settings, http_client: httpx.Client, message_id: uuid.UUID,
                lease_until: datetime) -> str | None:
    """The outcome, or None when the claim on the message was lost before its turn came."""
    if not _renew(engine, settings, message_id, lease_until):
        logger.info("outbox message %s: lease ran out before delivery; left to the next claim", message_id)
        return None
    with Session(engine) as session:
        session.info["settings"] = settings
        # A deliverer renders what it sends through the policies, for any municipality's data.
        tenancy.act_for(session, tenancy.ALL)
        message = session.get(OutboxMessage, message_id)
        failure = _attempt(session, message, http_client)
        if failure is not None:
            session.rollback()  # nothing a failed deliverer wrote is kept
            message = session.get(OutboxMessage, message_id)
        outcome, kind = _record(message, failure, settings), message.kind
        session.commit()
    logger.info("outbox message %s (%s): %s", message_id, kind, outcome)
    return outcome


def load_deliverers() -> None:
    for module in DELIVERER_MODULES:
        importlib.import_module(module)


def deliver_due(engine: Engine, settings: Settings, http_client: httpx.Client | None = None,
                batch: int = 50) -> DeliveryRun:
    """Delivers every message due now, batch by batch; retries fall due later and wait for the next run."""
    load_deliverers()
    started, run = utcnow(), DeliveryRun()
    client = http_client or targets.http_client(settings.webhook_private_targets_allowed,
                                                settings.webhook_timeout_seconds)
    try:
        while (claimed := claim(engine, settings, started, batch)).ids:
            for message_id in claimed.ids:
                if outcome := deliver_one(engine, settings, client, message_id, claimed.lease_until):
                    run.counts[outcome] += 1
    finally:
        if http_client is None:
            client.close()
    return run
