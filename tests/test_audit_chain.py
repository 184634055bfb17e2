"""Tamper evidence: sealed batches detect altered, inserted and deleted events; PostgreSQL refuses changes."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import chain as audit_chain
from tests.factories import submit

SIGNALS = "/api/v1/signals"


def make_events(client, auth, n: int = 6) -> None:
    for i in range(n):
        submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None)  # one create event each


def seal_all(app, batch_size: int = 4) -> int:
    with app.state.engine.begin() as connection:
        return audit_chain.seal(connection, margin_seconds=0, batch_size=batch_size)


def verify(app) -> audit_chain.Verification:
    with app.state.engine.connect() as connection:
        return audit_chain.verify(connection)


def tamper(app, backend, *statements: str) -> None:
    """What someone with direct database access could do, bypassing the PostgreSQL guard (superuser)."""
    with app.state.engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            connection.execute(text(statement))


def test_sealed_log_verifies(client, auth, app):
    make_events(client, auth)
    assert seal_all(app) == 2
    result = verify(app)
    assert (result.events, result.seals, result.unsealed, result.broken) == (6, 2, 0, None)
    client.get(SIGNALS, headers=auth("coordinator"))
    assert verify(app).unsealed == 1 and seal_all(app) == 1 and verify(app).broken is None


def test_margin_leaves_recent_events_unsealed(client, auth, app):
    make_events(client, auth, 2)
    with app.state.engine.begin() as connection:
        assert audit_chain.seal(connection, margin_seconds=3600, batch_size=10) == 0
    assert verify(app).unsealed == 2


def middle_seq(app) -> int:
    with app.state.engine.connect() as connection:
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


def test_postgresql_refuses_update_and_delete_on_the_audit_log(client, auth, app, backend):
    if backend != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    make_events(client, auth, 1)
    seal_all(app)
    for statement in ("UPDATE audit_events SET actor_name = 'x'", "DELETE FROM audit_events",
                      "DELETE FROM audit_event_persons", "UPDATE audit_seals SET merkle_root = 'x'",
                      "TRUNCATE audit_events CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            with app.state.engine.begin() as connection:
                connection.execute(text(statement))


def test_verification_in_worker_processes_finds_the_same(client, auth, app, backend, monkeypatch):
    from app.audit import leaves as audit_leaves

    monkeypatch.setattr(audit_leaves, "PARALLEL_MIN_EVENTS", 0)  # on PostgreSQL: one process per core
    make_events(client, auth)
    seal_all(app, batch_size=1)
    assert (verify(app).events, verify(app).broken) == (6, None)
    tamper(app, backend, f"UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = {middle_seq(app)}")
    assert "holds 1 events where 1 were sealed" in verify(app).broken
