"""Retention of the audit log itself: a separate, configured, logged operation.

Only whole sealed batches go, oldest first, and only while every event in them is older than
RETENTION_AUDIT_DAYS; unsealed events and parts of a batch never go. The hash of the last removed
seal becomes an anchor (`audit_anchors`): verification starts there, so what remains stays
verifiable. On PostgreSQL the audit tables refuse DELETE unless the transaction sets
casusregister.audit_retention (migration 0003), which only this operation does.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, text
from sqlmodel import Session

from app.audit.chain import (
    ANCHORS,
    EVENTS,
    GENESIS,
    PERSONS,
    SEALS,
    anchor_hash,
    latest_anchor,
)
from app.audit.writer import write_system_event
from app.auth import tenancy
from app.config import Settings
from app.models.base import utcnow

log = logging.getLogger("casusregister.audit")
# Seals removed per transaction (at the default batch size, up to half a million events).
SEALS_PER_TRANSACTION = 50


@dataclass
class Purge:
    seals: int = 0
    events: int = 0
    persons: int = 0
    anchor: str | None = None


def _due_seals(connection: Connection, cutoff: datetime, limit: int | None = None) -> list:
    """The oldest seals whose batches hold only events older than the cutoff, oldest first.

    Batches follow the event sequence, so the seals before the first event at or after the cutoff
    are exactly a prefix of the chain.
    """
    young = connection.execute(select(EVENTS.c.seq).where(EVENTS.c.occurred_at >= cutoff)
                               .order_by(EVENTS.c.seq).limit(1)).scalar()
    query = select(SEALS.c.seq, SEALS.c.last_event_seq, SEALS.c.seal_hash).order_by(SEALS.c.seq).limit(limit)
    if young is not None:
        query = query.where(SEALS.c.last_event_seq < young)
    return list(connection.execute(query))


def _cutoff(settings: Settings) -> datetime:
    return utcnow() - timedelta(days=settings.retention_audit_days)


def dry_run(session: Session, settings: Settings) -> Purge:
    """What a purge would remove now; changes nothing."""
    with tenancy.maintenance("audit purge", session):
        return _dry_run(session, settings)


def _dry_run(session: Session, settings: Settings) -> Purge:
    connection = session.connection()
    seals = _due_seals(connection, _cutoff(settings))
    if not seals:
        return Purge()
    last = seals[-1].last_event_seq
    return Purge(seals=len(seals), events=_count_through(connection, EVENTS.c.seq, last),
                 persons=_count_through(connection, PERSONS.c.event_seq, last))


def _count_through(connection: Connection, column, last: int) -> int:
    return connection.execute(select(func.count()).where(column <= last)).scalar_one()


def _remove(connection: Connection, seals: list) -> Purge:
    """Removes these seals (a prefix of the chain), their events and persons, and anchors what remains."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL casusregister.audit_retention = 'on'"))
    last = seals[-1]
    persons = connection.execute(delete(PERSONS).where(PERSONS.c.event_seq <= last.last_event_seq)).rowcount
    events = connection.execute(delete(EVENTS).where(EVENTS.c.seq <= last.last_event_seq)).rowcount
    connection.execute(delete(SEALS).where(SEALS.c.seq <= last.seq))
    previous = latest_anchor(connection)
    prev = previous["anchor_hash"] if previous else GENESIS
    anchored = anchor_hash(prev, last.seq, last.last_event_seq, last.seal_hash, len(seals), events)
    connection.execute(ANCHORS.insert().values(
        seal_seq=last.seq, last_event_seq=last.last_event_seq, seal_hash=last.seal_hash, seals=len(seals),
        events=events, prev_hash=prev, anchor_hash=anchored, created_at=utcnow()))
    return Purge(seals=len(seals), events=events, persons=persons, anchor=anchored)


def purge(session: Session, settings: Settings, operator: str) -> Purge:
    """Removes what is due, one transaction per chunk; each chunk is audited with its counts and anchor.

    A run with nothing to remove is audited too, with zero counts and the current anchor. Runs as the
    owner of the audit tables on PostgreSQL (OWNER_DATABASE_URL): the application's role may not delete.
    """
    with tenancy.maintenance("audit purge", session):
        return _purge(session, settings, operator)


def _purge(session: Session, settings: Settings, operator: str) -> Purge:
    cutoff, total = _cutoff(settings), Purge()
    while seals := _due_seals(session.connection(), cutoff, SEALS_PER_TRANSACTION):
        done = _remove(session.connection(), seals)
        write_system_event(session, operator, "erase", "audit_event", "retention", asdict(done))
        session.commit()
        log.info("audit retention: removed %d seals, %d events; anchor %s", done.seals, done.events, done.anchor)
        total = Purge(total.seals + done.seals, total.events + done.events, total.persons + done.persons, done.anchor)
    if not total.seals:
        anchor = latest_anchor(session.connection())
        total.anchor = anchor["anchor_hash"] if anchor else None
        write_system_event(session, operator, "erase", "audit_event", "retention", asdict(total))
        session.commit()
        log.info("audit retention: nothing due")
    return total
