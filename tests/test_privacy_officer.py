"""The privacy officer: the audit log with filters, and access reports that match the log exactly."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.audit.writer import write_event
from app.models import AuditEvent, AuditEventPerson
from tests.case_helpers import API, add_member, new_case
from tests.db import inspect_db

EVENTS = f"{API}/audit-events"


def person_of(client, auth, case) -> dict:
    return client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).json()["person"]


def test_audit_events_filtered_by_pseudonym_and_outcome(client, auth):
    case = new_case(client, auth)
    client.get(f"{API}/cases/{case['id']}", headers=auth("care"))  # denied: not a member
    pseudonym = person_of(client, auth, case)["pseudonym"]
    page = client.get(EVENTS, params={"pseudonym": pseudonym}, headers=auth("privacy")).json()
    assert page["items"] and all(pseudonym in e["persons"] for e in page["items"])
    denied = client.get(EVENTS, params={"outcome": "denied", "pseudonym": pseudonym}, headers=auth("privacy")).json()
    assert [e["actor_name"] for e in denied["items"]] == ["care"]
    assert "Jan de Vries" not in str(page)


def this_week() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"since": (now - timedelta(days=3)).isoformat(), "until": (now + timedelta(days=4)).isoformat()}


def test_audit_events_paginate_and_validate(client, auth):
    for _ in range(3):
        new_case(client, auth)
    first = client.get(EVENTS, params={"pageSize": 2} | this_week(), headers=auth("privacy")).json()
    second = client.get(EVENTS, params={"pageSize": 2, "cursor": first["next_cursor"]} | this_week(),
                        headers=auth("privacy")).json()
    assert {e["seq"] for e in first["items"]}.isdisjoint({e["seq"] for e in second["items"]})
    assert client.get(EVENTS, params={"outcome": "maybe"}, headers=auth("privacy")).status_code == 400
    assert client.get(EVENTS, params={"since": "yesterday"}, headers=auth("privacy")).status_code == 400


def test_a_query_names_a_trace_activity_or_person_or_a_period_of_at_most_31_days(client, auth, app):
    """The read rule of the Logboek Dataverwerkingen read extension: never the whole log at once."""
    case = new_case(client, auth)
    now = datetime.now(UTC)
    broad = [{}, {"outcome": "allowed"}, {"since": (now - timedelta(days=1)).isoformat()},
             {"since": (now - timedelta(days=32)).isoformat(), "until": now.isoformat()},
             {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}]
    for params in broad:
        response = client.get(EVENTS, params=params, headers=auth("privacy"))
        assert response.status_code == 400 and response.json()["title"], params
    with inspect_db(app) as session:
        [created] = session.exec(select(AuditEvent).where(AuditEvent.operation == "create",
                                                          AuditEvent.resource_type == "case")).all()
    narrow = [{"traceId": created.trace_id}, {"processingActivity": "case-management"},
              {"pseudonym": person_of(client, auth, case)["pseudonym"]},
              {"since": (now - timedelta(days=31)).isoformat(), "until": now.isoformat()}]
    for params in narrow:
        response = client.get(EVENTS, params=params, headers=auth("privacy"))
        assert response.status_code == 200 and response.json()["items"], params
    assert {e["trace_id"] for e in client.get(EVENTS, params=narrow[0], headers=auth("privacy")).json()["items"]} == {
        created.trace_id}
    assert {e["processing_activity"] for e in client.get(EVENTS, params=narrow[1], headers=auth("privacy")).json()[
        "items"]} == {"case-management"}
    assert client.get(EVENTS, params={"traceId": "not-a-trace"}, headers=auth("privacy")).status_code == 400


@pytest.mark.parametrize("username", ["coordinator", "chair", "police", "teacher", "expert", "admin"])
def test_only_the_privacy_officer_reads_the_log(client, auth, username):
    assert client.get(EVENTS, headers=auth(username)).status_code == 403


def test_access_report_matches_the_audit_log_exactly(client, auth, app):
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    client.get(f"{API}/cases/{case['id']}", headers=auth("police"))
    client.get(f"{API}/cases/{case['id']}", headers=auth("care"))  # denied: not in the report
    person = person_of(client, auth, case)
    with inspect_db(app) as session:
        expected = session.exec(select(AuditEvent).join(AuditEventPerson, AuditEventPerson.event_seq == AuditEvent.seq)
                                .where(AuditEventPerson.pseudonym == person["pseudonym"],
                                       AuditEvent.outcome != "denied").order_by(AuditEvent.seq)).all()
    report = client.get(f"{API}/persons/{person['id']}/access-report", headers=auth("privacy")).json()
    assert [(r["operation"], r["resource_type"], r["activity"]) for r in report["processing"]] == [
        (e.operation, e.resource_type, e.processing_activity) for e in expected]
    assert {o["organisation"] for o in report["organisations"]} == {
        "Gemeente Utrecht", "Politie Midden-Nederland", "Stichting Onderwijs Utrecht"}
    assert sum(o["count"] for o in report["organisations"]) == len(expected)
    # Per processing activity: its purpose and legal basis in the register's words, and who processed.
    register = {a["key"]: a for a in client.get(f"{API}/processing-activities", headers=auth("privacy")).json()["items"]}
    by_activity = {a["activity"]: a for a in report["activities"]}
    assert set(by_activity) == {e.processing_activity for e in expected} >= {"signal-intake", "case-management",
                                                                             "case-participation"}
    for key, summary in by_activity.items():
        assert (summary["name"], summary["purpose"], summary["legal_basis"], summary["version"]) == (
            register[key]["name"], register[key]["purpose"], register[key]["legal_basis"], register[key]["version"])
        assert sum(o["count"] for o in summary["organisations"]) == sum(
            e.processing_activity == key for e in expected)
    assert {o["organisation"] for o in by_activity["case-participation"]["organisations"]} == {
        "Politie Midden-Nederland"}


def test_access_report_printable_and_escaped(client, auth):
    case = new_case(client, auth, name="<script>alert(1)</script> Jansen", bsn=None)
    person = person_of(client, auth, case)
    response = client.get(f"{API}/persons/{person['id']}/access-report",
                          headers={**auth("privacy"), "Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text
    assert "Politie" not in response.text and "Stichting Onderwijs Utrecht" in response.text
    # In the person's language: what for, on which legal basis, and their rights.
    assert "Waarvoor en op welke grond" in response.text and "Ontvangen van signalen" in response.text
    assert "Wet gegevensverwerking persoonsgerichte aanpak radicalisering" in response.text
    assert "Autoriteit Persoonsgegevens" in response.text and "vastgelegd" in response.text


def test_access_report_access(client, auth):
    person = person_of(client, auth, new_case(client, auth))
    url = f"{API}/persons/{person['id']}/access-report"
    assert client.get(url, headers=auth("coordinator")).status_code == 403
    assert client.get(f"{API}/persons/00000000-0000-0000-0000-000000000000/access-report",
                      headers=auth("privacy")).status_code == 404


def test_access_report_includes_events_recorded_before_their_tenancy(client, auth, app):
    """An event written before events carried a municipality still names the person: the access
    request is answered with it, on PostgreSQL too, where the privacy officer's own scope hides it."""
    case = new_case(client, auth)
    person = person_of(client, auth, case)
    with inspect_db(app) as session:
        write_event(session, AuditEvent(trace_id="before-0008", actor_kind="user", actor_name="Wijkagent",
                                        operation="read", resource_type="case", outcome="allowed",
                                        processing_activity="case-management"), [person["pseudonym"]])
        session.commit()
    report = client.get(f"{API}/persons/{person['id']}/access-report", headers=auth("privacy")).json()
    assert ("read", "case") in [(r["operation"], r["resource_type"]) for r in report["processing"]]
    listed = client.get(EVENTS, params={"pseudonym": person["pseudonym"]}, headers=auth("privacy")).json()
    assert "before-0008" not in [e["trace_id"] for e in listed["items"]]  # the log's lists stay per municipality
