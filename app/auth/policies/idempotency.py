"""Idempotency records: a retry with the same key and body gets the original answer.

| relationship | who | may |
|---|---|---|
| own | the caller that sent the key (a sending organisation, for inbound referrals) | replay |

A stored answer may hold personal data, so a record is read only by the key's own caller, and carries
the municipality whose data it holds (the tenant for row-level security). Plain statements on the
table rather than the ORM's unit of work: every intake with a key runs this, and a claim is one round
trip to the database when the key is new.
"""

import hashlib
import json
import uuid
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from app.auth import guard
from app.db import DIALECT_INSERTS, dialect_name
from app.errors import ApiError
from app.models import IdempotencyRecord
from app.models.base import utcnow

RECORDS = IdempotencyRecord.__table__
IN_PROGRESS = 0
# Statements built once and reused with parameters: SQLAlchemy then neither rebuilds nor re-keys them.
CLAIMS = {name: insert(RECORDS).on_conflict_do_nothing(index_elements=["actor", "key"]).returning(RECORDS.c.id)
          for name, insert in DIALECT_INSERTS.items()}
EARLIER = select(RECORDS.c.id, RECORDS.c.status_code, RECORDS.c.response_body, RECORDS.c.resource_id,
                 RECORDS.c.request_hash).where(RECORDS.c.actor == bindparam("actor"), RECORDS.c.key == bindparam("key"))
COMPLETE = update(RECORDS).where(RECORDS.c.id == bindparam("record_id"))


class Claim(NamedTuple):
    """A key reserved for this request (`is_fresh`), or the earlier answer to replay."""

    id: uuid.UUID
    status_code: int
    response_body: dict[str, Any]
    resource_id: uuid.UUID | None


def request_fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _earlier(session: Session, actor: str, key: str, fingerprint: str) -> Claim:
    with guard.access("idempotency policy"):
        row = session.execute(EARLIER, {"actor": actor, "key": key}).one()
    if row.request_hash != fingerprint:
        raise ApiError(409, "This Idempotency-Key was already used with a different request body.",
                       "idempotency-key-reused")
    return Claim(*row[:4])


def claim(session: Session, actor: str, key: str, fingerprint: str, municipality_id: uuid.UUID | None) -> Claim:
    """Reserves the key, or returns the earlier answer when another request has it.

    Must be the first write of the transaction: a concurrent request with the same key makes the
    insert wait until the other commits (then this one replays its answer) or rolls back (then the
    key is ours), and nothing of ours is written before.
    """
    record = {"id": uuid.uuid4(), "actor": actor, "key": key, "request_hash": fingerprint,
              "status_code": IN_PROGRESS, "response_body": {}, "created_at": utcnow(), "municipality_id": municipality_id}
    with guard.access("idempotency policy"):
        inserted = session.execute(CLAIMS[dialect_name(session)], record).first()
    if inserted is None:
        return _earlier(session, actor, key, fingerprint)
    return Claim(record["id"], IN_PROGRESS, {}, None)


def is_fresh(record: Claim) -> bool:
    return record.status_code == IN_PROGRESS


def complete(session: Session, record: Claim, status_code: int, body: dict[str, Any], resource_id) -> None:
    with guard.access("idempotency policy"):
        session.execute(COMPLETE, {"record_id": record.id, "status_code": status_code, "response_body": body,
                                   "resource_id": resource_id})
