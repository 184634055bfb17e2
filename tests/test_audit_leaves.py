"""The generated leaf encoder gives exactly the canonical json.dumps encoding, on awkward values too."""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.audit import leaves as audit_leaves
from app.audit import leaves_pg as audit_leaves_pg
from app.audit.chain import events_with_persons, plain
from app.audit.writer import write_event
from app.models import AuditEvent
from tests.db import inspect_connection, inspect_db

AWKWARD = 'q" b\\ t\t n\n r\r \x07 \x7f é 💥 \u2028 \ufeff \x1f'


def reference_leaf(event: dict, persons: list[str]) -> bytes:
    """The definition of a leaf (see app/audit/leaves.py), computed the slow, obvious way."""
    document = {key: plain(value) for key, value in event.items()
                if not (key in audit_leaves.LATER_COLUMNS and value is None)} | {"persons": persons}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(b"\x00" + encoded).digest()


def test_leaves_equal_the_canonical_json_encoding(client, app):
    with inspect_db(app) as session:
        write_event(session, AuditEvent(
            trace_id=AWKWARD, actor_kind="user", actor_id=None, actor_name=AWKWARD, organisation_id=uuid.uuid4(),
            municipality_id=uuid.uuid4(), roles="coordinator,privacy_officer", on_behalf_of=AWKWARD, operation="read", resource_type="case",
            resource_id="Z-2026-0001", outcome="allowed", processing_activity="case-management",
            legal_basis=AWKWARD, client_address="::1",
            occurred_at=datetime(2026, 3, 29, 1, 30, 0, tzinfo=UTC),  # no microseconds: isoformat drops them
            detail={"z": [1, 2.5, None, True], "a": {"y": AWKWARD, "b": "é"}, "é": "x", "10": 1, "9": 2}),
            ["P-bbbbbbbbbbbbbbbb", "P-aaaaaaaaaaaaaaaa"])
        write_event(session, AuditEvent(trace_id="t", actor_kind="system", operation="erase",
                                        resource_type="retention", outcome="allowed", processing_activity="x"), [])
        session.commit()
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        expected = [reference_leaf(event, persons) for event, persons in events_with_persons(connection, 0, last)]
        assert len(expected) == 2
        assert audit_leaves.leaves(connection, 0, last) == expected
        assert audit_leaves.leaves(connection, last - 1, last) == expected[1:]


# Awkward for the database's documents: what JSON escapes, text that looks like a placeholder or like
# the document's own keys, and characters outside ASCII.
STRANGE = ['"', "\\", "\x01", "\x1f", "\n\t\r\b\f", "%s %d %.0a %%", '","detail":{},"x":"', "\u2028\u2029",
           "💥 é ß 中", "\x7f\x80\u00ff", "", " "]
DETAILS = [{}, {"b": 1, "a": [2, {"d": None, "c": True}], "é": "\x01", "10": 1.5, "9": STRANGE[6]},
           {"z": STRANGE[0] + STRANGE[1], "y": ["%s", "\u2028"]}, {"view": "partner"}]


def _strange_event(i: int) -> AuditEvent:
    """Event i: every string column holds STRANGE[i] (or a plain value), some columns NULL."""
    value = STRANGE[i % len(STRANGE)]
    optional = None if i % 3 == 0 else value
    moment = datetime(2026, 1, 2, 3, 4, 5, [0, 1, 500000, 999999][i % 4], tzinfo=UTC)
    return AuditEvent(
        trace_id=value, actor_kind=value[:10], actor_id=optional, actor_name=optional,
        organisation_id=None if i % 2 else uuid.uuid4(), municipality_id=None if i % 5 < 2 else uuid.uuid4(),
        roles=optional, on_behalf_of=optional,
        operation=value[:20], resource_type=value[:40], resource_id=optional, outcome=value[:10],
        processing_activity=value, legal_basis=optional, client_address=optional, occurred_at=moment,
        processing_activity_version=None if i % 4 == 1 else i, span_id=None if optional is None else optional[:16],
        parent_span_id=None if i % 2 else value[:16], foreign_processor=optional,
        detail=DETAILS[i % len(DETAILS)])


def test_both_paths_equal_the_canonical_json_encoding_on_awkward_values(client, app):
    """On PostgreSQL `leaves` has the database hash; `reference_leaves` is the generated encoder."""
    persons = [[], ["P-one"], ["P-b", "P-a", "P-" + STRANGE[0] + STRANGE[1]], ["P-\x01", "P-💥"], ["P-\\"]]
    with inspect_db(app) as session:
        for i in range(3 * len(STRANGE)):
            write_event(session, _strange_event(i), persons[i % len(persons)])
        session.commit()
    with inspect_connection(app, write=True) as connection:
        # Stored JSON text as another writer may leave it: spacing, escapes, duplicate keys, numbers.
        connection.execute(text(
            "INSERT INTO audit_events (event_id, occurred_at, trace_id, actor_kind, operation, resource_type, outcome, "
            "processing_activity, detail) VALUES (:id, :at, 't', 'user', 'read', 'case', 'allowed', 'x', :detail)"),
            {"id": str(uuid.uuid4()), "at": datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
             "detail": '{ "b" : "caf\\u00e9", "a":[1, 2.50, 1E2, -0], "a" : "last" , "c":"\\"\\u0001"}'})
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        expected = [reference_leaf(event, names) for event, names in events_with_persons(connection, 0, last)]
        assert len(expected) == 3 * len(STRANGE) + 1
        assert audit_leaves.reference_leaves(connection, 0, last) == expected
        assert audit_leaves.leaves(connection, 0, last) == expected
        assert audit_leaves.leaves(connection, last - 5, last - 2) == expected[-5:-2]


def test_postgresql_hashes_utf_8_whatever_the_client_encoding(client, app, backend):
    """The database builds and hashes the documents, and no text crosses to the client: a client
    encoding that cannot even represent a value changes nothing."""
    if backend != "postgresql":
        pytest.skip("client encodings are PostgreSQL's")
    with inspect_db(app) as session:
        write_event(session, AuditEvent(trace_id="café 💥", actor_kind="user", operation="read", resource_type="case",
                                        outcome="allowed", processing_activity="é", detail={"é": "ß 💥"}), ["P-ß"])
        session.commit()
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        expected = [reference_leaf(event, names) for event, names in events_with_persons(connection, last - 1, last)]
        connection.execute(text("SET client_encoding TO 'LATIN1'"))
        assert audit_leaves_pg.usable(connection)
        assert audit_leaves.leaves(connection, last - 1, last) == expected


def _character_event(character: str, at: datetime) -> AuditEvent:
    return AuditEvent(trace_id="t" + character, actor_kind="user", actor_name=character, operation="read",
                      resource_type="case", outcome="allowed", processing_activity="x", occurred_at=at,
                      legal_basis=None if character == "a" else "L" + character, span_id=character,
                      processing_activity_version=2147483647, detail={"c": character, character: [10 ** 30, -0.0, 1e-9]})


# Every character JSON escapes, and some it does not, around it; the moments: DST changes, leap day,
# the last microsecond of a year, a whole second.
CHARACTERS = [chr(c) for c in range(1, 128)] + ["\u0080", "\u00ff", "\u2028", "\ue000", "\uffff", "\U0001f4a5"]
MOMENTS = [datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC),
           datetime(2028, 2, 29, 12, 0, 0, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]


def test_every_character_and_moment_hash_as_json_dumps_writes_them(client, app):
    """One event per character, alone with a plain pseudonym, beside another, or in a pseudonym itself:
    on PostgreSQL each branch of the database's document (as it is, escaped; one person, several)."""
    with inspect_db(app) as session:
        for i, character in enumerate(CHARACTERS):
            persons = [["P-a"], ["P-" + character], ["P-" + character, "P-a"], []][i % 4]
            write_event(session, _character_event(character, MOMENTS[i % len(MOMENTS)]), persons)
        session.commit()
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        first = last - len(CHARACTERS)
        expected = [reference_leaf(event, names) for event, names in events_with_persons(connection, first, last)]
        assert len(expected) == len(CHARACTERS)
        assert audit_leaves.leaves(connection, first, last) == expected
        if connection.dialect.name == "postgresql":  # timestamps are written in UTC, whatever the session's zone
            connection.execute(text("SET TIME ZONE 'Pacific/Chatham'"))
            assert audit_leaves.leaves(connection, first, last) == expected


def test_json_text_written_after_the_range_was_read_is_left_to_the_reference(client, app, backend, monkeypatch):
    """The canonical JSON texts are looked up before the leaves are computed; an event whose text was
    not among them (a write in between) must not be hashed with a guess."""
    if backend != "postgresql":
        pytest.skip("the database's leaves are PostgreSQL's")
    with inspect_db(app) as session:
        write_event(session, AuditEvent(trace_id="t", actor_kind="user", operation="read", resource_type="case",
                                        outcome="allowed", processing_activity="x", detail={"late": 1}), ["P-a"])
        session.commit()
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        expected = [reference_leaf(event, names) for event, names in events_with_persons(connection, last - 1, last)]
        monkeypatch.setattr(audit_leaves._postgresql, "details", audit_leaves._postgresql.details + " AND false")
        assert audit_leaves._postgresql.leaves(connection, last - 1, last) is None
        assert audit_leaves.leaves(connection, last - 1, last) == expected


def test_a_later_column_left_unset_keeps_the_leaf_of_an_event_written_before_it(client, app):
    """Events sealed before the later columns (`municipality_id`, the activity's version, the trace's
    spans) existed must keep their leaf; setting one changes the leaf."""
    event = AuditEvent(trace_id="t", actor_kind="user", operation="read", resource_type="case", outcome="allowed",
                       processing_activity="x", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
    with inspect_db(app) as session:
        write_event(session, event, ["P-a"])
        tenanted = event.model_copy(update={"seq": None, "event_id": uuid.uuid4(), "municipality_id": uuid.uuid4()})
        write_event(session, tenanted, ["P-a"])
        session.commit()
    with inspect_connection(app) as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        [before, after] = list(events_with_persons(connection, last - 2, last))
        document = {k: plain(v) for k, v in before[0].items()
                    if k not in audit_leaves.LATER_COLUMNS} | {"persons": ["P-a"]}
        encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        leaves = audit_leaves.leaves(connection, last - 2, last)
        assert leaves[0] == hashlib.sha256(b"\x00" + encoded).digest()
        assert leaves[1] == reference_leaf(*after) != reference_leaf(after[0] | {"municipality_id": None}, after[1])
