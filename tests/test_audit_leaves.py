"""The generated leaf encoder gives exactly the canonical json.dumps encoding, on awkward values too."""

import hashlib
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from app.auth import audit_leaves
from app.auth.audit import write_event
from app.auth.audit_chain import events_with_persons, plain
from app.models import AuditEvent

AWKWARD = 'q" b\\ t\t n\n r\r \x07 \x7f é 💥 \u2028 \ufeff \x1f'


def reference_leaf(event: dict, persons: list[str]) -> bytes:
    """The definition of a leaf (see app/auth/audit_leaves.py), computed the slow, obvious way."""
    document = {key: plain(value) for key, value in event.items()} | {"persons": persons}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(b"\x00" + encoded).digest()


def test_leaves_equal_the_canonical_json_encoding(client, app):
    with Session(app.state.engine) as session:
        write_event(session, AuditEvent(
            trace_id=AWKWARD, actor_kind="user", actor_id=None, actor_name=AWKWARD, organisation_id=uuid.uuid4(),
            roles="coordinator,privacy_officer", on_behalf_of=AWKWARD, operation="read", resource_type="case",
            resource_id="Z-2026-0001", outcome="allowed", processing_activity="case-management",
            legal_basis=AWKWARD, client_address="::1",
            occurred_at=datetime(2026, 3, 29, 1, 30, 0, tzinfo=UTC),  # no microseconds: isoformat drops them
            detail={"z": [1, 2.5, None, True], "a": {"y": AWKWARD, "b": "é"}, "é": "x", "10": 1, "9": 2}),
            ["P-bbbbbbbbbbbbbbbb", "P-aaaaaaaaaaaaaaaa"])
        write_event(session, AuditEvent(trace_id="t", actor_kind="system", operation="erase",
                                        resource_type="retention", outcome="allowed", processing_activity="x"), [])
        session.commit()
    with app.state.engine.connect() as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        expected = [reference_leaf(event, persons) for event, persons in events_with_persons(connection, 0, last)]
        assert len(expected) == 2
        assert audit_leaves.leaves(connection, 0, last) == expected
        assert audit_leaves.leaves(connection, last - 1, last) == expected[1:]
