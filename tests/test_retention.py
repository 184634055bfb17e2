"""Retention: dry run, erasure of what is past its period (and only that), idempotent, audited with counts."""

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import func, select

from app.db import Session
from app.models import (
    Action,
    AgendaItem,
    AuditEvent,
    Case,
    ClosureProposal,
    InformationItem,
    OutboxMessage,
    Person,
    Signal,
)
from app.models.base import utcnow
from app.models.outbox import MessageStatus
from app.privacy import retention
from tests.case_helpers import API, new_case
from tests.db import inspect_connection, inspect_db
from tests.factories import submit
from tests.meeting_helpers import plan

NO_ACTION = {"outcome": "no_further_action", "reason": "Geen zorgen na navraag bij school."}


def counts(app) -> tuple[int, int, int, int]:
    with inspect_db(app) as session:
        return tuple(session.exec(select(func.count()).select_from(m)).one()
                     for m in (Signal, Case, InformationItem, Person))


def age(app, table: str, column: str, days: int) -> None:
    with inspect_connection(app, write=True) as connection:
        connection.execute(text(f"UPDATE {table} SET {column} = :at"), {"at": utcnow() - timedelta(days=days)})


def test_dry_run_then_run_then_nothing_left_to_do(client, auth, app):
    old = submit(client, auth("teacher"), name="Oud Signaal", bsn=None)
    client.post(f"{API}/signals/{old['id']}/triage", json=NO_ACTION, headers=auth("coordinator"))
    age(app, "signals", "triaged_at", 400)
    case = new_case(client, auth)
    client.post(f"{API}/cases/{case['id']}/items", headers=auth("coordinator"),
                json={"kind": "municipality", "text": "Gesprek gevoerd.", "source": "Regisseur", "date": "2026-01-05"})
    etag = client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).headers["etag"]
    client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "closure_reason": "Geen zorgen meer over."},
                 headers={**auth("coordinator"), "If-Match": etag})
    age(app, "cases", "updated_at", 2000)
    keep = submit(client, auth("teacher"), name="Recent Signaal", bsn=None)

    settings = app.state.settings
    with Session(app.state.engine) as session:
        planned = retention.dry_run(session, settings)
    assert (planned.signals, planned.cases, planned.information_items, planned.persons) == (2, 1, 1, 2)
    assert counts(app) == (3, 1, 1, 3)

    with Session(app.state.engine) as session:
        done = retention.run(session, settings, "fg-utrecht")
    assert (done.signals, done.cases, done.information_items, done.persons) == (2, 1, 1, 2)
    assert counts(app) == (1, 0, 0, 1)
    assert client.get(f"{API}/signals/{keep['id']}", headers=auth("coordinator")).status_code == 200

    with Session(app.state.engine) as session:
        again = retention.run(session, settings, "fg-utrecht")
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.operation == "erase").order_by(AuditEvent.seq)).all()
    assert (again.signals, again.cases, again.persons) == (0, 0, 0)
    assert [e.detail for e in events][0] == {"signals": 2, "cases": 1, "information_items": 1, "persons": 2,
                                        "outbox_messages": 0}
    assert "Oud Signaal" not in str([e.detail for e in events])


def test_erasing_a_case_erases_its_agenda_items_actions_and_proposals(client, auth, app):
    case = new_case(client, auth)
    coordinator = auth("coordinator")
    client.post(f"{API}/cases/{case['id']}/closure-proposals", json={"reason": "Doelen zijn bereikt."}, headers=coordinator)
    meeting = plan(client, auth, app)
    client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=coordinator)
    municipality = case["municipality_id"]
    client.post(f"{API}/cases/{case['id']}/actions", headers=coordinator, json={
        "description": "Afsluitend gesprek", "owner_organisation_id": municipality, "due_date": "2099-01-01"})
    etag = client.get(f"{API}/cases/{case['id']}", headers=coordinator).headers["etag"]
    client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "closure_reason": "Geen zorgen meer over."},
                 headers={**coordinator, "If-Match": etag})
    age(app, "cases", "updated_at", 2000)

    with Session(app.state.engine) as session:
        assert retention.run(session, app.state.settings, "fg-utrecht").cases == 1
    with inspect_db(app) as session:
        assert [session.exec(select(func.count()).select_from(m)).one()
                for m in (Action, AgendaItem, ClosureProposal)] == [0, 0, 0]


def test_finished_outbox_messages_are_dropped_after_their_period(app):
    settings, old = app.state.settings, utcnow() - timedelta(days=app.state.settings.retention_outbox_days + 1)
    with Session(app.state.engine) as session:
        session.add_all(OutboxMessage(kind="webhook", payload={}, status=status, created_at=at)
                        for status in MessageStatus for at in (old, utcnow()))
        session.commit()
        assert retention.dry_run(session, settings).outbox_messages == 2
        assert retention.run(session, settings, "fg-utrecht").outbox_messages == 2
        left = session.exec(select(OutboxMessage.status, OutboxMessage.created_at)).all()
    # The pending message stays however old it is; recent ones stay for the subscriber to inspect.
    assert sorted(status for status, _ in left) == ["dead", "delivered", "pending", "pending"]
