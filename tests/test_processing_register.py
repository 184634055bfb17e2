"""The register of processing activities: served, versioned, and named by every audit event, of every
route (tests/test_route_authorization.py checks each request's events) and every CLI command (here)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.audit import logboek
from app.audit.writer import write_event, write_system_event
from app.auth import guard
from app.cli import cli
from app.models import AuditEvent, ProcessingActivity
from app.privacy import register
from tests import logboek_schema
from tests.case_helpers import API, add_member, new_case
from tests.db import inspect_connection, inspect_db
from tests.factories import cli_environment, signal_body


def test_the_default_register_is_served_in_dutch_each_activity_once(client, auth):
    shipped = register.read()
    served = client.get(f"{API}/processing-activities", headers=auth("teacher")).json()["items"]
    assert [a["key"] for a in served] == sorted(a.key for a in shipped)
    for activity in served:
        assert activity["uri"] == "urn:nl:casusregister:verwerkingsactiviteit:" + activity["key"]
        assert activity["purpose"] and activity["legal_basis"] and activity["legal_basis_articles"]
    one = client.get(f"{API}/processing-activities/casusoverleg", headers=auth("teacher")).json()
    assert one["name"] == next(a.name for a in shipped if a.key == "casusoverleg")
    assert client.get(f"{API}/processing-activities/no-such-thing", headers=auth("teacher")).status_code == 404
    assert client.get(f"{API}/processing-activities/Not_A_Key", headers=auth("teacher")).status_code == 400


def test_a_changed_description_is_a_new_version_and_earlier_events_keep_theirs(client, auth, app):
    """The webhook subscriptions' activity: its events name no person, so other tests do not mind."""
    key = "webhook-management"
    shipped = register.read()
    changed = [a.model_copy(update={"purpose": a.purpose + " Gewijzigd."}) if a.key == key else a for a in shipped]
    subscribe = {"callback_url": "https://127.0.0.1:9/hook", "events": ["signal.received"]}
    with inspect_connection(app) as connection:
        before = register.activity(connection, key).version
    first = client.post(f"{API}/subscriptions", json=subscribe, headers=auth("admin"))
    with inspect_connection(app, owner=True) as connection:
        assert register.sync(connection, changed) == [f"{key} v{before + 1}"]
        assert register.sync(connection, changed) == []  # the same description again: nothing new
        connection.commit()
    register.forget()  # as CACHE_SECONDS after a change by another process
    try:
        client.delete(f"{API}/subscriptions/{first.json()['id']}", headers=auth("admin"))
        with inspect_db(app) as session:
            events = session.exec(select(AuditEvent).where(AuditEvent.processing_activity == key)
                                  .order_by(AuditEvent.seq)).all()
        assert [e.processing_activity_version for e in events] == [before, before + 1]
        versions = client.get(f"{API}/processing-activities/{key}/versions", headers=auth("admin")).json()["items"]
        assert [v["version"] for v in versions][-2:] == [before, before + 1]
        assert versions[-1]["purpose"].endswith("Gewijzigd.")
    finally:
        with inspect_connection(app, owner=True) as connection:
            register.sync(connection, shipped)  # the shipped text again, as the next version
            connection.commit()
        register.forget()


def test_the_writer_refuses_an_activity_the_register_does_not_hold(client, app):
    with inspect_db(app) as session:
        with pytest.raises(LookupError, match="not-registered"):
            write_system_event(session, "fg", "read", "case", "not-registered", {})
        session.rollback()
        assert session.exec(select(AuditEvent)).all() == []


def _run(*args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == 0, (args, result.output)
    return result


def commands() -> set[str]:
    """Every leaf command of `casusregister`, as its words."""
    found: set[str] = set()

    def walk(command, words: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (typer may bring its own click)
            for name, sub in command.commands.items():
                walk(sub, (*words, name))
        else:
            found.add(" ".join(words))

    walk(typer.main.get_command(cli), ())
    return found


def _traffic() -> None:
    """Some of everything for the commands to work on: intake, a case and a referral out."""
    from app.config import Settings
    from app.factory import create_app

    with TestClient(create_app(Settings())) as client:
        def token(user):
            form = {"grant_type": "password", "username": user, "password": "demo"}
            return {"Authorization": f"Bearer {client.post(f'{API}/auth/token', data=form).json()['access_token']}"}

        signal = client.post(f"{API}/signals", json=signal_body(), headers=token("teacher")).json()
        client.post(f"{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"}, headers=token("coordinator"))


def test_every_command_is_walked_and_its_events_name_a_registered_activity(tmp_path, monkeypatch):
    cli_environment(tmp_path, monkeypatch)
    monkeypatch.setenv("AUDIT_SEAL_MARGIN_SECONDS", "0")
    changed = tmp_path / "register.json"
    shipped = json.loads(register.DEFAULT.read_text(encoding="utf-8"))
    shipped["activities"][0]["purpose"] += " Aangevuld door de gemeente."
    changed.write_text(json.dumps(shipped), encoding="utf-8")
    now = datetime.now(UTC)
    period = [(now - timedelta(days=1)).isoformat(), (now + timedelta(days=1)).isoformat()]
    runs = {
        "migrate": [["migrate"]],
        "seed-demo": [["seed-demo"]],
        "serve": [],  # runs until stopped: tests/test_crash_safety.py serves the app as a process
        "create-organisation": [["create-organisation", "Gemeente Zeist", "municipality", "ZST"]],
        "join-network": [["join-network", "POL", "ZST"]],
        "create-user": [["create-user", "fg-zeist", "ZST", "--role", "privacy_officer", "--password", "a-long-password-1"]],
        "create-client": [["create-client", "zeist-system", "ZST", "--scope", "signals:create"]],
        "register-endpoint": [["register-endpoint", "ARN", "--municipality", "UTR", "--base-url", "https://arnhem.test",
                               "--token-url", "https://arnhem.test/api/v1/auth/token", "--client-id", "utrecht",
                               "--client-secret", "secret-of-arnhem"]],
        "openapi": [["openapi", "--output", str(tmp_path / "openapi.json")]],
        "audit seal": [["audit", "seal"]],
        "audit verify": [["audit", "verify"]],
        "audit export": [["audit", "export", *period, "--operator", "fg", "--output", str(tmp_path / "native.jsonl")],
                         ["audit", "export", *period, "--operator", "fg", "--format", "logboek",
                          "--output", str(tmp_path / "logboek.jsonl")]],
        "audit purge": [["audit", "purge", "--operator", "fg"]],
        "retention run": [["retention", "run", "--operator", "fg"]],
        "webhooks deliver": [["webhooks", "deliver", "--once"]],
        "processing-activities load": [["processing-activities", "load", str(changed)]],
        "processing-activities list": [["processing-activities", "list"]],
        "worker": [],  # runs until stopped: tests/test_worker.py and tests/test_replicas.py run it
        "status": [["status"]],
        "keys rotate": [["keys", "rotate"]],
        "keys list": [["keys", "list"]],
    }
    assert set(runs) == commands(), "a command without a run here: add it to `runs`"
    for args in runs["migrate"] + runs["seed-demo"]:
        _run(*args)
    _traffic()
    for name, invocations in runs.items():
        for args in invocations if name not in ("migrate", "seed-demo") else ():
            _run(*args)

    assert "signal-intake v2" in _run("processing-activities", "list").output
    _run("migrate")  # registers what is missing, and keeps the municipality's own version
    assert "signal-intake v2" in _run("processing-activities", "list").output
    from app.config import Settings
    from app.db import make_engine

    with Session(make_engine(Settings())) as session, guard.access("test inspection"):
        registered = set(session.exec(select(ProcessingActivity.key, ProcessingActivity.version)).all())
        named = session.exec(select(AuditEvent.processing_activity, AuditEvent.processing_activity_version)).all()
    assert named and [n for n in named if tuple(n) not in registered] == []
    assert {"signal-intake", "signal-triage", "privacy-supervision"} <= {key for key, _ in named}
    records = [json.loads(line) for line in (tmp_path / "logboek.jsonl").read_text().splitlines()]
    assert records and all(logboek_schema.validator().is_valid(record) for record in records)


def test_a_legal_basis_longer_than_an_audit_event_holds_is_refused():
    text = register.read()[0].model_dump() | {"legal_basis": "AVG art. 6 lid 1 sub e. " * 10}
    with pytest.raises(ValueError, match="legal_basis"):
        register.ActivityText.model_validate(text)


def test_events_from_before_the_register_are_read_under_the_activity_they_were_part_of(client, auth, app):
    """Three activities had other names; their events keep them (sealed leaves cannot change)."""
    case = new_case(client, auth)
    person = client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).json()["person"]

    def triage_count() -> int:
        report = client.get(f"{API}/persons/{person['id']}/access-report", headers=auth("privacy")).json()
        [triage] = [a for a in report["activities"] if a["activity"] == "signal-triage"]
        assert triage["name"] == "Wegen van signalen (triage)" and triage["legal_basis_articles"]
        return sum(o["count"] for o in triage["organisations"])

    before = triage_count()
    with inspect_db(app) as session:
        write_event(session, AuditEvent(trace_id="b" * 32, actor_kind="user", actor_name="Regisseur",
                                        organisation_id=None, municipality_id=None, operation="update",
                                        resource_type="signal", outcome="allowed",
                                        processing_activity="signal-follow-up"), [person["pseudonym"]])
        session.commit()
    listed = client.get(f"{API}/audit-events", params={"processingActivity": "signal-triage", "traceId": "b" * 32},
                        headers=auth("privacy")).json()["items"]
    assert listed == []  # the event has no municipality: the log's lists stay per municipality
    assert triage_count() == before + 1
    record = logboek.records({"trace_id": "b" * 32, "span_id": None, "event_id": "0" * 31 + "1",
                              "parent_span_id": None, "foreign_processor": None, "outcome": "allowed",
                              "occurred_at": datetime.now(UTC), "operation": "update", "resource_type": "signal",
                              "processing_activity": "signal-follow-up"}, ["P-1"])
    assert record[0]["attributes"]["dpl.core.processing_activity_id"].endswith(":signal-triage")


def test_a_list_through_two_relationships_is_one_event_per_activity_naming_its_own_rows(client, auth, app):
    member, broken = new_case(client, auth), new_case(client, auth, name="Piet Jansen", bsn=None)
    add_member(client, auth, member["id"], "GGZ")
    glass = client.post(f"{API}/cases/{broken['id']}/emergency-access", headers=auth("care"),
                        json={"reason": "Acute dreiging; informatie is vandaag nodig voor het veiligheidsoverleg."})
    assert glass.status_code == 201
    listed = client.get(f"{API}/cases", headers=auth("care"))
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.trace_id == listed.headers["x-request-id"])).all()
    assert {(e.processing_activity, e.outcome, tuple(e.detail["ids"])) for e in events} == {
        ("case-participation", "allowed", (member["id"],)), ("emergency-access", "emergency", (broken["id"],))}


def test_a_period_given_partly_without_a_time_zone_is_read_as_utc(client, auth):
    now = datetime.now(UTC)
    response = client.get(f"{API}/audit-events", headers=auth("privacy"), params={
        "since": (now - timedelta(days=1)).replace(tzinfo=None).isoformat(), "until": now.isoformat()})
    assert response.status_code == 200, response.text
