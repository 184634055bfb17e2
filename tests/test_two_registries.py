"""Two registries, Utrecht (A) and Arnhem (B), each its own app and database served by uvicorn on
127.0.0.1, exchanging a referral end to end: only the shared fields cross, the status comes back."""

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session, select

from app import demo
from app.audit import export as audit_export
from app.db import make_engine
from app.factory import create_app
from app.migrate import upgrade
from app.models import (
    AuditEvent,
    AuditEventPerson,
    OrganisationKind,
    OutboxMessage,
    Person,
    ProcessingActivity,
    Referral,
    Role,
    Scope,
    User,
)
from app.services import accounts, delivery, endpoints, referral_delivery
from tests import logboek_schema
from tests.conftest import (
    PASSWORD,
    _drop_pg_database,
    database_settings,
    make_settings,
    new_database,
)
from tests.db import inspect_db
from tests.factories import VALID_BSN, signal_body
from tests.servers import serve

API = "/api/v1"
B_CLIENT_SECRET = "utrecht-system-secret-0123456789"


@dataclass
class Registry:
    app: FastAPI
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    pg_name: str | None

    def session(self):
        """For the test's own reading and arranging (tests/db.py)."""
        return inspect_db(self.app)

    def deliver(self) -> dict[str, int]:
        return delivery.deliver_due(self.app.state.engine, self.app.state.settings).counts

    def token(self, **form: str) -> dict[str, str]:
        response = httpx.post(f"{self.url}{API}/auth/token", data=form)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def user(self, username: str) -> dict[str, str]:
        return self.token(grant_type="password", username=username, password=PASSWORD)


def _seed_arnhem(session: Session, hasher) -> None:
    """Arnhem's registry: its municipality, a coordinator, and Utrecht as an external municipality
    with the client Utrecht's registry uses here."""
    arnhem = accounts.create_organisation(session, "Gemeente Arnhem", OrganisationKind.municipality, "ARN", None)
    utrecht = accounts.create_organisation(session, "Gemeente Utrecht", OrganisationKind.external_municipality,
                                           "UTR", None)
    accounts.create_user(session, hasher, "coordinator", "Regisseur Arnhem", arnhem, [Role.coordinator], PASSWORD)
    accounts.create_client(session, hasher, "utrecht-system", utrecht,
                           [Scope.referrals_send, Scope.referrals_receive], secret=B_CLIENT_SECRET)


def _registry(name: str, backend: str, directory) -> Registry:
    database = new_database(backend, directory / name)
    app = create_app(make_settings(database.url, directory, jwt_issuer=f"https://{name}.test",
                                   webhook_allow_private_targets=True, **database_settings(database)))
    upgrade(app.state.settings, make_engine(app.state.settings, owner=True))
    with Session(app.state.engine) as session:
        if name == "utrecht":
            demo.seed(session, app.state.hasher, PASSWORD)
        else:
            _seed_arnhem(session, app.state.hasher)
        session.commit()
    return Registry(app, *serve(app), database.name)


def _link(registry: Registry, other: Registry, external: str, local: str, client_id: str, secret: str) -> None:
    with registry.session() as session:
        find = accounts.find_organisation
        endpoints.register(session, registry.app.state.settings, find(session, external), find(session, local),
                           other.url, f"{other.url}{API}/auth/token", client_id, secret)
        session.commit()


@pytest.fixture(scope="module")
def registries(backend, tmp_path_factory) -> Iterator[tuple[Registry, Registry]]:
    utrecht = _registry("utrecht", backend, tmp_path_factory.mktemp(f"utrecht-{backend}"))
    arnhem = _registry("arnhem", backend, tmp_path_factory.mktemp(f"arnhem-{backend}"))
    _link(utrecht, arnhem, "ARN", "UTR", "utrecht-system", B_CLIENT_SECRET)
    _link(arnhem, utrecht, "UTR", "ARN", "arnhem-system", PASSWORD)
    yield utrecht, arnhem
    for registry in (utrecht, arnhem):
        registry.server.should_exit = True
        registry.thread.join(timeout=10)
        registry.app.state.engine.dispose()
        if registry.pg_name:
            _drop_pg_database(registry.pg_name)


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _refer_to_arnhem(a: Registry, traceparent: str | None = None) -> tuple[dict, dict]:
    """In Utrecht: a case with a shared and a kept item, referred to Arnhem with name and date of birth
    (by an application that sends its `traceparent`, if given)."""
    coordinator = a.user("coordinator")
    signal = ok(httpx.post(f"{a.url}{API}/signals", json=signal_body(), headers=a.user("teacher")), 201)
    case_id = ok(httpx.post(f"{a.url}{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                            headers=coordinator))["case_id"]
    items = f"{a.url}{API}/cases/{case_id}/items"
    base = {"kind": "municipality", "source": "Huisbezoek", "date": "2025-02-01"}
    shared = ok(httpx.post(items, json=base | {"text": "Verhuist per maart naar Arnhem."}, headers=coordinator), 201)
    ok(httpx.post(items, json=base | {"text": "Interne afweging, blijft hier."}, headers=coordinator), 201)
    arnhem_id = next(o["id"] for o in ok(httpx.get(f"{a.url}{API}/organisations", headers=coordinator))["items"]
                     if o["code"] == "ARN")
    body = {"recipient_organisation_id": arnhem_id, "purpose": "Overdracht van de persoonsgerichte aanpak.",
            "legal_basis": "public_task", "shared_fields": ["name", "date_of_birth"],
            "shared_item_ids": [shared["id"]]}
    traced = coordinator | ({"traceparent": traceparent} if traceparent else {})
    referral = ok(httpx.post(f"{a.url}{API}/cases/{case_id}/referrals", json=body, headers=traced), 201)
    return referral, coordinator


def _received_in(b: Registry, sender_reference: str) -> tuple[dict, dict]:
    coordinator = b.user("coordinator")
    listed = ok(httpx.get(f"{b.url}{API}/referrals", params={"direction": "received"}, headers=coordinator))
    [referral] = [r for r in listed["items"] if r["sender_reference"] == sender_reference]
    return referral, coordinator


def _events(registry: Registry, referral_id: str) -> list[tuple[AuditEvent, list[str]]]:
    with registry.session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.resource_id == referral_id)
                              .order_by(AuditEvent.seq)).all()
        return [(e, list(session.exec(select(AuditEventPerson.pseudonym)
                                      .where(AuditEventPerson.event_seq == e.seq)).all())) for e in events]


def test_a_referral_travels_with_only_its_shared_fields_and_the_status_comes_back(registries):
    a, b = registries
    sent, a_coordinator = _refer_to_arnhem(a)
    assert a.deliver()["delivered"] == 1

    received, b_coordinator = _received_in(b, sent["id"])
    assert received["direction"] == "incoming" and received["status"] == "sent"
    assert received["shared_fields"] == ["name", "date_of_birth"]
    assert received["subject"] == {"name": "Jan de Vries", "date_of_birth": "2005-03-01", "bsn": None,
                                   "address": None, "district": None}
    assert "Verhuist per maart naar Arnhem." in received["summary"]
    assert "Interne afweging" not in received["summary"] and VALID_BSN not in str(received)
    with b.session() as session:
        assert [p.bsn for p in session.exec(select(Person)).all() if p.name == "Jan de Vries"] == [None]
    signal = ok(httpx.get(f"{b.url}{API}/signals/{received['signal_id']}", headers=b_coordinator))
    assert signal["subject"]["bsn"] is None and signal["status"] == "received"
    assert ok(httpx.get(f"{a.url}{API}/referrals/{sent['id']}", headers=a_coordinator))["external_reference"] == \
        received["id"]

    ok(httpx.post(f"{b.url}{API}/referrals/{received['id']}/accept", json={"note": "Wij nemen het over."},
                  headers=b_coordinator))
    assert b.deliver()["delivered"] == 1
    back = ok(httpx.get(f"{a.url}{API}/referrals/{sent['id']}", headers=a_coordinator))
    assert (back["status"], back["status_note"]) == ("accepted", "Wij nemen het over.")

    ok(httpx.post(f"{b.url}{API}/referrals/{received['id']}/complete", json={"note": "Overgedragen."},
                  headers=b_coordinator))
    assert b.deliver()["delivered"] == 1
    assert ok(httpx.get(f"{a.url}{API}/referrals/{sent['id']}", headers=a_coordinator))["status"] == "completed"

    a_events = _events(a, sent["id"])
    [disclosure] = [(e, p) for e, p in a_events if e.operation == "disclose"]
    assert disclosure[0].actor_kind == "system" and disclosure[0].detail["shared_fields"] == ["date_of_birth", "name"]
    assert disclosure[1] == [sent_pseudonym(a, sent["id"])]
    status_updates = [e for e, _ in a_events if e.operation == "update" and e.actor_kind == "client"]
    assert [e.detail["status"] for e in status_updates] == [["sent", "accepted"], ["accepted", "completed"]]
    b_events = _events(b, received["id"])
    assert [e.operation for e, _ in b_events if e.actor_kind == "system"] == ["disclose", "disclose"]
    assert all(persons for _, persons in b_events)


def sent_pseudonym(a: Registry, referral_id: str) -> str:
    with a.session() as session:
        referral = session.exec(select(Referral).where(Referral.id == uuid.UUID(referral_id))).one()
        return session.exec(select(Person.pseudonym).where(Person.id == referral.person_id)).one()


def test_a_withdrawal_travels_to_the_recipient(registries):
    a, b = registries
    sent, a_coordinator = _refer_to_arnhem(a)
    assert a.deliver()["delivered"] == 1
    ok(httpx.post(f"{a.url}{API}/referrals/{sent['id']}/withdraw", json={"note": "Verhuizing gaat niet door."},
                  headers=a_coordinator))
    assert a.deliver()["delivered"] == 1
    received, _ = _received_in(b, sent["id"])
    assert (received["status"], received["status_note"]) == ("withdrawn", "Verhuizing gaat niet door.")


def test_a_referral_withdrawn_before_delivery_never_leaves(registries):
    a, b = registries
    sent, a_coordinator = _refer_to_arnhem(a)
    ok(httpx.post(f"{a.url}{API}/referrals/{sent['id']}/withdraw", json={}, headers=a_coordinator))
    assert a.deliver()["delivered"] == 2
    listed = ok(httpx.get(f"{b.url}{API}/referrals", headers=b.user("coordinator")))
    assert sent["id"] not in [r["sender_reference"] for r in listed["items"]]


def test_a_repeated_delivery_answers_the_same_referral_and_the_outbox_holds_ids_only(registries):
    """As when the answer to a delivery was lost: the other registry answers with the same referral."""
    a, b = registries
    sent, _ = _refer_to_arnhem(a)
    references = set()
    for _ in range(2):
        with a.session() as session, httpx.Client() as http:
            session.info["settings"] = a.app.state.settings
            [message] = [m for m in session.exec(select(OutboxMessage)).all()
                         if m.payload.get("referral_id") == sent["id"]]
            assert message.payload == {"referral_id": sent["id"]}
            referral_delivery.deliver_referral(session, message, http)
            references.add(session.exec(select(Referral.external_reference)
                                        .where(Referral.id == uuid.UUID(sent["id"]))).one())
            session.commit()
    with b.session() as session:
        [received] = session.exec(select(Referral).where(Referral.sender_reference == sent["id"])).all()
    assert references == {str(received.id)}
    assert a.deliver() == {"delivered": 1, "retry": 0, "dead": 0}  # the worker's own attempt: answered alike


def logboek_records(registry: Registry) -> list[dict]:
    """The registry's whole log in the Logboek Dataverwerkingen form, each record checked against the
    standard's record (tests/logboek_record.schema.json)."""
    lines: list[str] = []
    audit_export.export(registry.app.state.engine, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
                        lines.append, "fg", form="logboek")
    records, check = [json.loads(line) for line in lines], logboek_schema.validator()
    for record in records:
        check.validate(record)
    return records


def unregistered(registry: Registry) -> list[tuple[str, int | None]]:
    """Events that name no version of a processing activity the register holds."""
    with registry.session() as session:
        registered = set(session.exec(select(ProcessingActivity.key, ProcessingActivity.version)).all())
        named = session.exec(select(AuditEvent.processing_activity, AuditEvent.processing_activity_version)).all()
    return [activity for activity in named if tuple(activity) not in registered]


def _hold_casusoverleg(a: Registry, case_id: str) -> None:
    with a.session() as session:
        chair = str(session.exec(select(User.id).where(User.username == "chair")).one())
    starts = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    meeting = ok(httpx.post(f"{a.url}{API}/meetings", json={"starts_at": starts, "chair_id": chair,
                                                            "attending_organisation_ids": []},
                            headers=a.user("coordinator")), 201)
    ok(httpx.post(f"{a.url}{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": case_id},
                  headers=a.user("chair")), 201)
    ok(httpx.get(f"{a.url}{API}/meetings/{meeting['id']}/agenda", headers=a.user("chair")))


def test_one_referral_is_one_trace_in_both_registries_and_the_log_exports_in_the_standards_form(registries):
    """Intake, triage, casusoverleg, a referral to Arnhem's registry and an access report: every event
    names a registered processing activity, both logs export as the standard's records, and the
    referral's trace runs from the coordinator's application through both registries."""
    a, b = registries
    trace, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    sent, coordinator = _refer_to_arnhem(a, f"00-{trace}-{caller_span}-01")
    _hold_casusoverleg(a, sent["case_id"])
    assert a.deliver()["delivered"] == 1

    # Our step under the caller's span; the delivery (a disclosure) under our step; Arnhem's under the delivery.
    [made] = [e for e, _ in _events(a, sent["id"]) if e.operation == "create"]
    assert (made.trace_id, made.parent_span_id) == (trace, caller_span)
    assert made.foreign_processor == "urn:nl:casusregister:user-application"  # the coordinator's application
    [disclosed] = [e for e, _ in _events(a, sent["id"]) if e.operation == "disclose"]
    assert (disclosed.trace_id, disclosed.parent_span_id, disclosed.foreign_processor) == (trace, made.span_id, None)
    received, _ = _received_in(b, sent["id"])
    [arrived] = [e for e, _ in _events(b, received["id"]) if e.operation == "create"]
    assert (arrived.trace_id, arrived.parent_span_id) == (trace, disclosed.span_id)
    assert arrived.foreign_processor == a.url  # Utrecht's registry, as Arnhem registered it

    person = ok(httpx.get(f"{a.url}{API}/cases/{sent['case_id']}", headers=coordinator))["person"]
    report = ok(httpx.get(f"{a.url}{API}/persons/{person['id']}/access-report", headers=a.user("privacy")))
    assert {"signal-intake", "signal-triage", "case-management", "casusoverleg",
            "referral-municipality"} <= {activity["activity"] for activity in report["activities"]}

    assert unregistered(a) == [] and unregistered(b) == []
    ours, theirs = logboek_records(a), logboek_records(b)
    activity = "urn:nl:casusregister:verwerkingsactiviteit:"
    for log in (ours, theirs):  # the referral is one trace, in both registries' logs
        assert activity + "referral-municipality" in {
            r["attributes"]["dpl.core.processing_activity_id"] for r in log if r["trace_id"] == trace}
    linked = [r for r in theirs if r["trace_id"] == trace]
    assert linked and all(r["attributes"]["dpl.core.foreign_operation.processor"] == a.url for r in linked)
    assert {r["parent_span_id"] for r in linked} <= {r["span_id"] for r in ours}
    assert {r["attributes"]["dpl.core.data_subject_id"] for r in ours} >= {person["pseudonym"]}
