"""Idempotency-Key handling: a retry with the same key and body gets the original answer."""

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.errors import ApiError
from app.models import IdempotencyRecord


def request_fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _find(session: Session, actor: str, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(IdempotencyRecord.actor == actor, IdempotencyRecord.key == key)
    return session.exec(query).first()


def _checked(record: IdempotencyRecord, fingerprint: str) -> IdempotencyRecord:
    if record.request_hash != fingerprint:
        raise ApiError(409, "This Idempotency-Key was already used with a different request body.",
                       "idempotency-key-reused")
    return record


def claim(session: Session, actor: str, key: str, fingerprint: str) -> IdempotencyRecord:
    """Returns the earlier answer to replay, or the key reserved for this request (`is_fresh`).

    Must be the first write of the transaction: a concurrent request with the same key makes the
    insert wait for the other to commit and then fail, and rolling back loses nothing of ours.
    """
    existing = _find(session, actor, key)
    if existing is not None:
        return _checked(existing, fingerprint)
    record = IdempotencyRecord(actor=actor, key=key, request_hash=fingerprint, status_code=0, response_body={})
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = _find(session, actor, key)
        if existing is None:
            raise
        return _checked(existing, fingerprint)
    return record


def is_fresh(record: IdempotencyRecord) -> bool:
    return record.status_code == 0


def complete(session: Session, record: IdempotencyRecord, status_code: int, body: dict[str, Any], resource_id) -> None:
    record.status_code, record.response_body, record.resource_id = status_code, body, resource_id
    session.add(record)
