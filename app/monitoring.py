"""What monitoring needs to see a stalled worker: how far behind sealing and delivery are.

Ages are counted on the database's clock, like the sealer's cut-off. Only counts and ages: nothing
here names a person or a municipality, so `/ready` may show it to anyone.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from app.audit.chain import EVENTS, SEALS, chain_end
from app.auth import tenancy
from app.config import Settings
from app.db import database_now
from app.models import OutboxMessage
from app.models.outbox import MessageStatus

OUTBOX = OutboxMessage.__table__
# Beyond its schedule, a job gets this long before it counts as stalled (a slow run, a restart).
GRACE_SECONDS = 60


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


@dataclass(frozen=True)
class Backlog:
    newest_seal_age_seconds: float | None
    oldest_unsealed_event_age_seconds: float | None
    outbox_pending: int
    outbox_oldest_due_age_seconds: float | None
    outbox_dead: int
    sealing_stalled: bool
    delivery_stalled: bool

    def as_dict(self) -> dict:
        return asdict(self)


def backlog(connection: Connection, settings: Settings) -> Backlog:
    with tenancy.maintenance("monitoring", connection):
        now = database_now(connection)
        sealed_until, _ = chain_end(connection)
        newest_seal = connection.execute(select(func.max(SEALS.c.sealed_at))).scalar()
        first_unsealed = connection.execute(select(EVENTS.c.occurred_at).where(EVENTS.c.seq > sealed_until)
                                            .order_by(EVENTS.c.seq).limit(1)).scalar()
        pending = OUTBOX.c.status == MessageStatus.pending
        count, oldest_due = connection.execute(
            select(func.count(), func.min(OUTBOX.c.next_attempt_at).filter(OUTBOX.c.next_attempt_at <= now))
            .where(pending)).one()
        dead = connection.execute(select(func.count()).where(OUTBOX.c.status == MessageStatus.dead)).scalar_one()
    unsealed_age, due_age = _age(now, first_unsealed), _age(now, oldest_due)
    seal_limit = settings.audit_seal_margin_seconds + 2 * settings.worker_seal_interval_seconds + GRACE_SECONDS
    delivery_limit = 2 * settings.worker_delivery_interval_seconds + GRACE_SECONDS
    return Backlog(_age(now, newest_seal), unsealed_age, count, due_age, dead,
                   sealing_stalled=unsealed_age is not None and unsealed_age > seal_limit,
                   delivery_stalled=due_age is not None and due_age > delivery_limit)
