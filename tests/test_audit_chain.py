"""Tamper evidence: sealed batches detect altered, inserted and deleted events; PostgreSQL refuses changes."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import chain as audit_chain
from tests.db import inspect_connection
from tests.factories import submit

SIGNALS = "/api/v1/signals"


def make_events(client, auth, n: int = 6) -> None:
    for i in range(n):
        submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None)  # one create event each


def seal_all(app, batch_size: int = 4) -> int:
    with inspect_connection(app, write=True) as connection:
        return audit_chain.seal(connection, margin_seconds=0, batch_size=batch_size)


def verify(app) -> audit_chain.Verification:
    with inspect_connection(app) as connection:
        return audit_chain.verify(connection)


AUDIT_TABLES = ("audit_events", "audit_event_persons", "audit_seals", "audit_anchors")
# The owner may lift its own guards (triggers, and row-level security where an audit table has it).
LIFT = ("ALTER TABLE {} DISABLE TRIGGER USER", "ALTER TABLE {} NO FORCE ROW LEVEL SECURITY")
RESTORE = ("ALTER TABLE {} ENABLE TRIGGER USER", "ALTER TABLE {} FORCE ROW LEVEL SECURITY")


def tamper(app, backend, *statements: str) -> None:
    """What someone with the owner's access could do: lift the PostgreSQL guards for a moment."""
    postgresql = backend == "postgresql"
    with inspect_connection(app, write=True, owner=True) as connection:
        for table in AUDIT_TABLES if postgresql else ():
            for lift in LIFT:
                connection.execute(text(lift.format(table)))
        for statement in statements:
            connection.execute(text(statement))
        for table in AUDIT_TABLES if postgresql else ():
            for restore in RESTORE:
                connection.execute(text(restore.format(table)))


def test_sealed_log_verifies(client, auth, app):
    make_events(client, auth)
    assert seal_all(app) == 2
    result = verify(app)
    assert (result.events, result.seals, result.unsealed, result.broken) == (6, 2, 0, None)
    client.get(SIGNALS, headers=auth("coordinator"))
    assert verify(app).unsealed == 1 and seal_all(app) == 1 and verify(app).broken is None


def test_margin_leaves_recent_events_unsealed(client, auth, app):
    make_events(client, auth, 2)
    with inspect_connection(app, write=True) as connection:
        assert audit_chain.seal(connection, margin_seconds=3600, batch_size=10) == 0
    assert verify(app).unsealed == 2


def middle_seq(app) -> int:
    with inspect_connection(app) as connection:
        return connection.execute(text("SELECT min(seq) + 2 FROM audit_events")).scalar_one()


@pytest.mark.parametrize("attack", ["alter", "delete", "alter_person", "drop_seal", "alter_seal"])
def test_tampering_in_the_middle_is_detected(client, auth, app, backend, attack):
    make_events(client, auth)
    seal_all(app)
    middle = middle_seq(app)
    tamper(app, backend, *{
        "alter": [f"UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = {middle}"],
        "delete": [f"DELETE FROM audit_event_persons WHERE event_seq = {middle}",
                   f"DELETE FROM audit_events WHERE seq = {middle}"],
        "alter_person": [f"UPDATE audit_event_persons SET pseudonym = 'P-0000000000000000' WHERE event_seq = {middle}"],
        "drop_seal": ["DELETE FROM audit_seals WHERE seq = (SELECT min(seq) FROM audit_seals)"],
        "alter_seal": ["UPDATE audit_seals SET event_count = event_count - 1"],
    }[attack])
    result = verify(app)
    assert result.broken is not None and result.broken.startswith("seal ")


def test_inserting_an_event_in_the_middle_is_detected(client, auth, app, backend):
    make_events(client, auth)
    middle = middle_seq(app)
    # A free sequence number inside a batch: the event there is removed before sealing.
    tamper(app, backend, f"DELETE FROM audit_event_persons WHERE event_seq = {middle}",
           f"DELETE FROM audit_events WHERE seq = {middle}")
    seal_all(app, batch_size=10)
    assert verify(app).broken is None
    tamper(app, backend, "INSERT INTO audit_events (seq, event_id, occurred_at, trace_id, actor_kind, operation, "
           "resource_type, outcome, processing_activity, detail) VALUES "
           f"({middle}, '{'ab' * 16}', CURRENT_TIMESTAMP, 'forged', 'user', 'read', 'signal', 'allowed', 'x', '{{}}')")
    assert "holds 6 events where 5 were sealed" in verify(app).broken


CHANGES = ("UPDATE audit_events SET actor_name = 'x'", "DELETE FROM audit_events", "DELETE FROM audit_event_persons",
           "UPDATE audit_seals SET merkle_root = 'x'", "TRUNCATE audit_events CASCADE")


def test_postgresql_refuses_update_and_delete_on_the_audit_log(client, auth, app, backend):
    """The application's role may only add to the audit log, and cannot lift the owner's guard; the
    owner's own changes are refused by the database too, outside the retention operation."""
    if backend != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    make_events(client, auth, 1)
    seal_all(app)
    lifting = ("SET LOCAL casusregister.audit_retention = 'on'", "ALTER TABLE audit_events DISABLE TRIGGER USER",
               "ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY", "DROP TRIGGER audit_events_append_only ON audit_events")
    for statement in CHANGES + lifting[1:]:
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            with inspect_connection(app, write=True) as connection:
                connection.execute(text(lifting[0]))
                connection.execute(text(statement))
    for statement in CHANGES:  # the owner: refused by the trigger, or no row may be updated at all
        with inspect_connection(app, write=True, owner=True) as connection:
            try:
                assert connection.execute(text(statement)).rowcount == 0, statement
            except DBAPIError as refused:
                assert "append-only" in str(refused), statement
    assert verify(app).broken is None


def test_verification_in_parallel_threads_finds_the_same(client, auth, app, backend, monkeypatch):
    from app.audit import leaves as audit_leaves

    monkeypatch.setattr(audit_leaves, "PARALLEL_MIN_EVENTS", 0)  # on PostgreSQL: one thread and connection per core
    make_events(client, auth)
    seal_all(app, batch_size=1)
    assert (verify(app).events, verify(app).broken) == (6, None)
    tamper(app, backend, f"UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = {middle_seq(app)}")
    assert "holds 1 events where 1 were sealed" in verify(app).broken
