"""Tamper evidence for the audit log: batches of events sealed by a Merkle root, seals hash-chained.

Why batches and not a per-event chain: a per-event chain makes every audited request wait for the
previous event's hash, one writer at a time. Here requests only insert; a sealer closes batches
afterwards (`casusregister audit seal`, also run by `audit verify --seal`), and verification
recomputes every root and link. An event altered, inserted or deleted inside a sealed batch
changes that batch's root; a seal altered or removed breaks the chain. Once the audit log's own
retention removed the oldest batches (`audit_retention.py`), the chain starts at the latest anchor.
"""

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import Connection, func, select, text

from app.audit import leaves as audit_leaves
from app.audit.leaves import Batch, merkle_root
from app.auth import tenancy
from app.db import database_now
from app.models import AuditAnchor, AuditEvent, AuditEventPerson, AuditSeal

GENESIS = "0" * 64
EVENTS = AuditEvent.__table__
PERSONS = AuditEventPerson.__table__
SEALS = AuditSeal.__table__
ANCHORS = AuditAnchor.__table__
FETCH = 5000


def plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def seal_hash(prev_hash: str, root: str, first: int, last: int, count: int) -> str:
    return hashlib.sha256(f"{prev_hash}|{root}|{first}|{last}|{count}".encode()).hexdigest()


def anchor_hash(prev_hash: str, seal_seq: int, last_event_seq: int, sealed: str, seals: int, events: int) -> str:
    return hashlib.sha256(f"{prev_hash}|{seal_seq}|{last_event_seq}|{sealed}|{seals}|{events}".encode()).hexdigest()


def latest_anchor(connection: Connection):
    return connection.execute(select(ANCHORS).order_by(ANCHORS.c.seq.desc()).limit(1)).mappings().first()


def events_with_persons(connection: Connection, after: int, until: int | None = None) -> Iterator[tuple[dict, list[str]]]:
    """Events with seq > after (and <= until), in order, each with its persons."""
    where = [EVENTS.c.seq > after] + ([EVENTS.c.seq <= until] if until is not None else [])
    person_where = [PERSONS.c.event_seq > after] + ([PERSONS.c.event_seq <= until] if until is not None else [])
    streamed = {"stream_results": True, "yield_per": FETCH}
    events = connection.execute(
        select(EVENTS).where(*where).order_by(EVENTS.c.seq).execution_options(**streamed)).mappings()
    persons = connection.execute(
        select(PERSONS.c.event_seq, PERSONS.c.pseudonym).where(*person_where)
        .order_by(PERSONS.c.event_seq, PERSONS.c.pseudonym).execution_options(**streamed))
    grouped = groupby(persons, key=lambda row: row[0])
    pending = next(grouped, None)
    for event in events:
        while pending is not None and pending[0] < event["seq"]:
            pending = next(grouped, None)
        names: list[str] = []
        if pending is not None and pending[0] == event["seq"]:
            names = [row[1] for row in pending[1]]
            pending = next(grouped, None)
        yield dict(event), names


def _last_seal(connection: Connection):
    return connection.execute(select(SEALS).order_by(SEALS.c.seq.desc()).limit(1)).mappings().first()


def chain_end(connection: Connection) -> tuple[int, str]:
    """The last sealed event and the hash to link to: the newest seal, else the anchor, else genesis."""
    last = _last_seal(connection) or latest_anchor(connection)
    return (last["last_event_seq"], last["seal_hash"]) if last else (0, GENESIS)


# Sealers on other workers wait for none: the one holding this lock for its transaction seals, and
# the others find nothing to do (two sealers linking to the same seal would fork the chain).
SEAL_LOCK = 0x7365616C  # "seal"


def seal(connection: Connection, margin_seconds: int, batch_size: int) -> int:
    """Seals every event older than the margin, in batches; returns the number of seals written (0 too
    when another sealer is at work). The margin is counted on the database's clock, which every replica
    shares; the events carry their replica's clock, so the margin must exceed any clock skew (NTP)."""
    if connection.dialect.name == "postgresql" and not connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK}).scalar_one():
        return 0
    with tenancy.maintenance("audit seal", connection):
        return _seal(connection, database_now(connection), margin_seconds, batch_size)


# Transactions of this database that have written and are still open: an event one of them added
# may hold a lower sequence number than events already committed, so the cut-off stays before them.
OPEN_WRITERS = text("SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")


def _cutoff(connection: Connection, now: datetime, margin_seconds: int) -> datetime:
    cutoff = now - timedelta(seconds=margin_seconds)
    if connection.dialect.name == "postgresql":
        oldest = connection.execute(OPEN_WRITERS).scalar()
        cutoff = min(cutoff, oldest) if oldest is not None else cutoff
    return cutoff


def _ready(connection: Connection, after: int, cutoff: datetime, batch_size: int) -> list[int]:
    """The events after `after` up to the first one younger than the cut-off: never one beyond it."""
    rows = connection.execute(select(EVENTS.c.seq, EVENTS.c.occurred_at).where(EVENTS.c.seq > after)
                              .order_by(EVENTS.c.seq).limit(batch_size)).all()
    ready = []
    for seq, occurred_at in rows:
        if occurred_at >= cutoff:
            break
        ready.append(seq)
    return ready


def _seal(connection: Connection, now: datetime, margin_seconds: int, batch_size: int) -> int:
    written, cutoff = 0, _cutoff(connection, now, margin_seconds)
    while True:
        after, prev = chain_end(connection)
        ready = _ready(connection, after, cutoff, batch_size)
        if not ready:
            return written
        leaves = audit_leaves.leaves(connection, after, ready[-1])
        if len(leaves) != len(ready):  # an event in the span committed meanwhile: seal it on the next run
            return written
        root = merkle_root(leaves)
        connection.execute(SEALS.insert().values(
            first_event_seq=ready[0], last_event_seq=ready[-1], event_count=len(leaves), merkle_root=root,
            prev_hash=prev, seal_hash=seal_hash(prev, root, ready[0], ready[-1], len(leaves)), sealed_at=now))
        written += 1


@dataclass
class Verification:
    events: int = 0
    seals: int = 0
    unsealed: int = 0
    broken: str | None = None
    # The anchor hash verification started from, when retention removed the oldest batches.
    anchor: str | None = None


def _check_seal(s, prev: str, batch: Batch) -> str | None:
    if s["prev_hash"] != prev:
        return f"seal {s['seq']}: does not link to the seal before it (a seal was removed or altered)"
    if s["seal_hash"] != seal_hash(prev, s["merkle_root"], s["first_event_seq"], s["last_event_seq"],
                                   s["event_count"]):
        return f"seal {s['seq']}: its own hash does not match its contents (the seal was altered)"
    if batch.count != s["event_count"] or batch.root != s["merkle_root"] or (
            batch.first is not None and batch.first != s["first_event_seq"]):
        span = f"events {s['first_event_seq']}..{s['last_event_seq']}"
        return (f"seal {s['seq']} ({span}): holds {batch.count} events where {s['event_count']} were sealed, "
                "or one was altered, inserted or deleted")
    return None


def _check_anchors(connection: Connection) -> tuple[dict | None, str | None]:
    """The latest anchor, after following the chain of anchors; or the first broken link in it."""
    prev, last = GENESIS, None
    for a in connection.execute(select(ANCHORS).order_by(ANCHORS.c.seq)).mappings():
        if a["prev_hash"] != prev:
            return None, f"anchor {a['seq']}: does not link to the anchor before it (an anchor was removed or altered)"
        if a["anchor_hash"] != anchor_hash(prev, a["seal_seq"], a["last_event_seq"], a["seal_hash"], a["seals"],
                                           a["events"]):
            return None, f"anchor {a['seq']}: its own hash does not match its contents (the anchor was altered)"
        prev, last = a["anchor_hash"], a
    return last, None


def _start(connection: Connection, result: Verification) -> tuple[str, int]:
    """Where the chain of seals starts: the latest anchor, checked, with nothing left before it."""
    anchor, result.broken = _check_anchors(connection)
    if anchor is None:
        return GENESIS, 0
    result.anchor = anchor["anchor_hash"]
    after = anchor["last_event_seq"]
    if connection.execute(select(EVENTS.c.seq).where(EVENTS.c.seq <= after).limit(1)).first():
        result.broken = (f"anchor {anchor['seq']}: events at or before event {after} remain, which retention "
                         "removed (the anchor was forged, or such an event inserted)")
    return anchor["seal_hash"], after


def verify(connection: Connection) -> Verification:
    """Recomputes every sealed batch and follows the chain; stops at the first broken link."""
    with tenancy.maintenance("audit verify", connection):
        return _verify(connection)


def _verify(connection: Connection) -> Verification:
    result = Verification()
    prev, after = _start(connection, result)
    if result.broken:
        return result
    seals = connection.execute(select(SEALS).order_by(SEALS.c.seq)).mappings().all()
    ends = [s["last_event_seq"] for s in seals]
    spans = list(zip([after, *ends], ends, strict=False))
    for s, batch in zip(seals, audit_leaves.batches(connection, spans, sum(s["event_count"] for s in seals)),
                        strict=True):
        result.broken = _check_seal(s, prev, batch)
        if result.broken:
            return result
        result.events += batch.count
        result.seals += 1
        prev, after = s["seal_hash"], s["last_event_seq"]
    result.unsealed = connection.execute(select(func.count()).select_from(EVENTS).where(EVENTS.c.seq > after)).scalar_one()
    return result
