"""Every read, create and denial leaves an audit event; no audit, no data."""

import uuid

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from app.models import AuditEvent, AuditEventPerson, Person, Signal
from tests.case_helpers import new_case
from tests.db import inspect_connection, inspect_db
from tests.factories import signal_body, submit
from tests.referral_helpers import refer

SIGNALS = "/api/v1/signals"


def events(app) -> list[tuple[AuditEvent, list[str]]]:
    with inspect_db(app) as session:
        rows = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        return [(e, sorted(session.exec(select(AuditEventPerson.pseudonym)
                                        .where(AuditEventPerson.event_seq == e.seq)).all())) for e in rows]


def pseudonym(app, signal_id: str) -> str:
    with inspect_db(app) as session:
        query = select(Person.pseudonym).join(Signal, Signal.person_id == Person.id)
        return session.exec(query.where(Signal.id == uuid.UUID(signal_id))).one()


def test_create_is_audited_with_request_id_and_person(client, auth, app):
    response = client.post(SIGNALS, json=signal_body(), headers=auth("teacher"))
    [(event, persons)] = events(app)
    assert (event.operation, event.resource_type, event.outcome) == ("create", "signal", "allowed")
    assert event.trace_id == response.headers["x-request-id"]
    assert event.resource_id == response.json()["id"]
    assert event.actor_name == "teacher" and event.roles == "melder"
    assert event.processing_activity == "signal-intake" and event.legal_basis
    assert persons == [pseudonym(app, response.json()["id"])]


def test_read_is_audited(client, auth, app):
    created = submit(client, auth("teacher"))
    response = client.get(f"{SIGNALS}/{created['id']}", headers=auth("coordinator"))
    event, persons = events(app)[-1]
    assert (event.operation, event.outcome, event.actor_name) == ("read", "allowed", "coordinator")
    assert event.trace_id == response.headers["x-request-id"]
    assert event.detail["view"] == "full"
    assert persons == [pseudonym(app, created["id"])]


def test_list_writes_one_event_naming_every_person_in_the_page(client, auth, app):
    created = [submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None) for i in range(3)]
    before = len(events(app))
    client.get(SIGNALS, headers=auth("coordinator"))
    after = events(app)
    assert len(after) == before + 1
    event, persons = after[-1]
    assert event.operation == "list" and event.detail["count"] == 3
    assert persons == sorted(pseudonym(app, c["id"]) for c in created)


@pytest.mark.parametrize("username", ["youthworker", "care", "privacy"])
def test_denied_read_is_audited_with_the_person(client, auth, app, username):
    created = submit(client, auth("teacher"))
    response = client.get(f"{SIGNALS}/{created['id']}", headers=auth(username))
    assert response.status_code == 404
    event, persons = events(app)[-1]
    assert (event.operation, event.outcome, event.actor_name) == ("read", "denied", username)
    assert event.resource_id == created["id"] and event.trace_id == response.headers["x-request-id"]
    assert persons == [pseudonym(app, created["id"])]


def test_probe_of_unknown_id_is_audited_as_denied(client, auth, app):
    unknown = str(uuid.uuid4())
    client.get(f"{SIGNALS}/{unknown}", headers=auth("coordinator"))
    event, persons = events(app)[-1]
    assert (event.outcome, event.resource_id, persons) == ("denied", unknown, [])


def test_denied_list_and_create_are_audited(client, auth, app):
    client.get(SIGNALS, headers=auth("admin"))
    client.post(SIGNALS, json=signal_body(), headers=auth("privacy"))
    (listing, _), (creating, _) = events(app)[-2:]
    assert (listing.operation, listing.outcome) == ("list", "denied")
    assert (creating.operation, creating.outcome) == ("create", "denied")


@pytest.fixture
def audit_table_refusing_inserts(app, backend):
    """Makes the database itself refuse audit writes, as a full disk or lost privilege would."""
    with inspect_connection(app, write=True, owner=True) as conn:
        if backend == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                              "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
                              "RAISE EXCEPTION 'audit unavailable'; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"))
    yield
    with inspect_connection(app, write=True, owner=True) as conn:
        conn.execute(text("DROP TRIGGER refuse_audit" + ("" if backend == "sqlite" else " ON audit_events")))
        if backend != "sqlite":
            conn.execute(text("DROP FUNCTION refuse_audit()"))


def test_no_audit_no_data_on_read(client, auth, app, request):
    created = submit(client, auth("teacher"))
    request.getfixturevalue("audit_table_refusing_inserts")
    response = client.get(f"{SIGNALS}/{created['id']}", headers=auth("coordinator"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "Jan de Vries" not in response.text and "111222333" not in response.text


def test_no_audit_no_data_on_list(client, auth, app, request):
    submit(client, auth("teacher"))
    request.getfixturevalue("audit_table_refusing_inserts")
    response = client.get(SIGNALS, headers=auth("coordinator"))
    assert response.status_code == 500 and "Jan de Vries" not in response.text


def test_no_audit_no_signal_stored(client, auth, app, audit_table_refusing_inserts):
    response = client.post(SIGNALS, json=signal_body(), headers=auth("teacher"))
    assert response.status_code == 500
    with inspect_db(app) as session:
        assert session.exec(select(func.count()).select_from(Signal)).one() == 0
        assert session.exec(select(func.count()).select_from(Person)).one() == 0


def test_a_list_of_two_processing_activities_writes_an_event_for_each_with_its_own_persons(client, auth, app):
    """Rows of one page under different activities (a referral and an assessment request) are audited
    by one event each, naming only the persons of its own rows, in the order they were written."""
    cases = [new_case(client, auth, name=name) for name in ("Anna Jansen", "Bram de Vries")]
    sent = {refer(client, auth, cases[0], "GGZ")["id"]: cases[0], refer(client, auth, cases[1], "DPO")["id"]: cases[1]}
    listed = client.get("/api/v1/referrals", headers=auth("coordinator"))
    assert {r["id"] for r in listed.json()["items"]} == set(sent)
    lists = [(e, persons) for e, persons in events(app) if (e.operation, e.resource_type) == ("list", "referral")]
    assert len(lists) == 2 and len({e.processing_activity for e, _ in lists}) == 2
    assert lists[0][0].seq < lists[1][0].seq
    for event, persons in lists:
        [referral_id] = event.detail["ids"]
        assert persons == [sent[referral_id]["person"]["pseudonym"]], event.processing_activity
