"""Retention of the audit log itself: whole old sealed batches only, anchored, audited, still verifiable."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.audit import retention as audit_retention
from app.audit.writer import write_event
from app.db import Session
from app.models import AuditEvent
from app.models.base import utcnow
from tests.db import inspect_connection, inspect_db, owner_engine
from tests.test_audit_chain import seal_all, tamper, verify

OLD, RECENT = 3000, 10  # days; the default retention is 2557 days


def add_events(app, *ages: int) -> None:
    """Events that happened `ages` days ago, each about one person, in this order."""
    with inspect_db(app) as session:
        for i, days in enumerate(ages):
            write_event(session, AuditEvent(
                trace_id=f"trace-{i}", actor_kind="user", actor_name="Regisseur Utrecht", operation="read",
                resource_type="case", outcome="allowed", processing_activity="case-management",
                occurred_at=utcnow() - timedelta(days=days)), [f"P-{i:016d}"])
        session.commit()


def table_counts(app) -> tuple[int, ...]:
    with inspect_connection(app) as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("audit_events", "audit_event_persons", "audit_seals", "audit_anchors"))


def purge(app, dry_run: bool = False, days: int | None = None) -> audit_retention.Purge:
    settings = app.state.settings.model_copy(update={"retention_audit_days": days} if days else {})
    with Session(owner_engine(app)) as session:  # only the owner may remove from the audit log
        if dry_run:
            return audit_retention.dry_run(session, settings)
        return audit_retention.purge(session, settings, "fg-utrecht")


def purge_events(app) -> list[AuditEvent]:
    with inspect_db(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.resource_type == "audit_event",
                                                          AuditEvent.operation == "erase")
                                 .order_by(AuditEvent.seq)))


@pytest.fixture
def old_and_new(client, app):
    """Batches of two: [old, old] [old, recent] [recent, recent], then one unsealed event."""
    add_events(app, OLD, OLD, OLD, RECENT, RECENT, RECENT)
    assert seal_all(app, batch_size=2) == 3
    add_events(app, RECENT)
    return app


def test_dry_run_reports_and_changes_nothing(old_and_new):
    before = table_counts(old_and_new)
    planned = purge(old_and_new, dry_run=True)
    assert (planned.seals, planned.events, planned.persons) == (1, 2, 2)
    assert table_counts(old_and_new) == before and not purge_events(old_and_new)


def test_purge_removes_whole_old_batches_only_and_the_rest_verifies(old_and_new, caplog):
    caplog.set_level(logging.INFO, logger="casusregister.audit")
    done = purge(old_and_new)
    assert f"removed 1 seals, 2 events; anchor {done.anchor}" in caplog.text and "Regisseur" not in caplog.text
    assert (done.seals, done.events, done.persons) == (1, 2, 2) and done.anchor
    # The batch with one recent event stays whole; the unsealed event stays; the purge is audited.
    assert table_counts(old_and_new) == (5 + 1, 5, 2, 1)
    result = verify(old_and_new)
    assert (result.broken, result.events, result.seals, result.anchor) == (None, 4, 2, done.anchor)
    assert result.unsealed == 2
    [event] = purge_events(old_and_new)
    assert event.detail == {"seals": 1, "events": 2, "persons": 2, "anchor": done.anchor}
    assert event.actor_name == "fg-utrecht" and "Regisseur" not in str(event.detail)


def test_purge_is_idempotent_and_sealing_continues_after_it(old_and_new):
    first = purge(old_and_new)
    again = purge(old_and_new)
    assert (again.seals, again.events, again.anchor) == (0, 0, first.anchor)
    assert table_counts(old_and_new)[2:] == (2, 1)
    assert seal_all(old_and_new) == 1
    result = verify(old_and_new)
    assert result.broken is None and result.unsealed == 0 and result.events == 4 + 1 + 2


def test_a_purge_never_touches_unsealed_events(client, app):
    add_events(app, OLD, OLD, OLD, OLD)
    seal_all(app, batch_size=2)
    add_events(app, OLD, OLD)  # as old, but not sealed yet
    done = purge(app)
    assert (done.seals, done.events) == (2, 4)
    assert table_counts(app) == (2 + 1, 2, 0, 1)
    result = verify(app)
    assert (result.broken, result.events, result.unsealed) == (None, 0, 3)
    # With no seal left, the next seal links to the anchor.
    assert seal_all(app) == 1 and verify(app).broken is None and purge(app).events == 0


def test_a_second_purge_extends_the_chain_of_anchors(client, app, backend):
    add_events(app, OLD + 1000, OLD + 1000, OLD + 500, OLD + 500, RECENT)
    seal_all(app, batch_size=2)
    first, second = purge(app, days=OLD + 800), purge(app, days=OLD)
    assert (first.events, second.events) == (2, 2) and first.anchor != second.anchor
    assert verify(app).anchor == second.anchor and verify(app).broken is None
    tamper(app, backend, "DELETE FROM audit_anchors WHERE seq = (SELECT min(seq) FROM audit_anchors)")
    assert "does not link to the anchor before it" in verify(app).broken


def middle_remaining(app) -> int:
    with inspect_connection(app) as connection:
        return connection.execute(text("SELECT min(seq) + 1 FROM audit_events")).scalar_one()


@pytest.mark.parametrize("attack", ["alter_event", "drop_anchor", "alter_anchor", "forge_old_event", "drop_seal"])
def test_tampering_after_a_purge_is_detected(old_and_new, backend, attack):
    purge(old_and_new)
    seal_all(old_and_new)
    middle = middle_remaining(old_and_new)
    tamper(old_and_new, backend, *{
        "alter_event": [f"UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = {middle}"],
        "drop_anchor": ["DELETE FROM audit_anchors"],
        "alter_anchor": ["UPDATE audit_anchors SET events = events + 1"],
        "forge_old_event": ["INSERT INTO audit_events (seq, event_id, occurred_at, trace_id, actor_kind, operation, "
                            "resource_type, outcome, processing_activity, detail) VALUES (1, "
                            f"'{'ab' * 16}', CURRENT_TIMESTAMP, 'forged', 'user', 'read', 'case', 'allowed', 'x', "
                            "'{}')"],
        "drop_seal": ["DELETE FROM audit_seals WHERE seq = (SELECT min(seq) FROM audit_seals)"],
    }[attack])
    assert verify(old_and_new).broken.startswith({
        "alter_event": "seal", "drop_anchor": "seal", "alter_anchor": "anchor", "forge_old_event": "anchor",
        "drop_seal": "seal"}[attack])


def test_postgresql_refuses_changes_to_anchors_and_deletes_outside_retention(old_and_new, backend):
    if backend != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    purge(old_and_new)
    for statement in ("UPDATE audit_anchors SET events = 0", "DELETE FROM audit_anchors", "TRUNCATE audit_anchors",
                      "DELETE FROM audit_seals"):
        for owner, refusal in ((False, "permission denied"), (True, "append-only")):
            with pytest.raises(DBAPIError, match=refusal):
                with inspect_connection(old_and_new, write=True, owner=owner) as connection:
                    connection.execute(text(statement))
