"""Cases: triage into cases, numbering, lifecycle with ETags, history, members and who sees what."""

import re
from datetime import date

import pytest

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.db import inspect_db
from tests.factories import submit

CASES = f"{API}/cases"


def patch(client, auth, case_id, body, etag=None, user="coordinator"):
    if etag is None:
        etag = client.get(f"{CASES}/{case_id}", headers=auth("coordinator")).headers["etag"]
    return client.patch(f"{CASES}/{case_id}", json=body, headers={**auth(user), "If-Match": etag})


class TestTriage:
    def test_new_case_links_signal_and_reporter_sees_picked_up(self, client, auth):
        case = new_case(client, auth)
        assert re.fullmatch(rf"UTR-{date.today().year}-\d{{4}}", case["number"])
        assert case["status"] == "intake" and case["view"] == "full"
        own = client.get(f"{API}/signals/{case['signal_id']}", headers=auth("teacher")).json()
        assert own == {"view": "reporter", "id": case["signal_id"], "status": "picked_up",
                       "submitted_at": own["submitted_at"]}

    def test_case_numbers_count_up(self, client, auth):
        numbers = [new_case(client, auth, name=f"Persoon {i}", bsn=None)["number"] for i in range(3)]
        assert [int(n[-4:]) for n in numbers] == [1, 2, 3]

    def test_link_to_existing_case_of_same_person(self, client, auth):
        case = new_case(client, auth)
        second = submit(client, auth("police"))
        response = client.post(f"{API}/signals/{second['id']}/triage",
                               json={"outcome": "link_to_case", "case_id": case["id"]}, headers=auth("coordinator"))
        assert response.status_code == 200 and response.json()["case_id"] == case["id"]
        history = client.get(f"{CASES}/{case['id']}/history", headers=auth("coordinator")).json()["items"]
        assert [h["change"] for h in history] == ["created", "signal_linked", "signal_linked"]

    def test_link_to_case_of_other_person_is_409(self, client, auth):
        case = new_case(client, auth)
        other = submit(client, auth("teacher"), name="Iemand Anders", bsn=None)
        response = client.post(f"{API}/signals/{other['id']}/triage",
                               json={"outcome": "link_to_case", "case_id": case["id"]}, headers=auth("coordinator"))
        assert response.status_code == 409

    def test_no_further_action_needs_reason_and_cannot_repeat_without_reopen(self, client, auth):
        signal = submit(client, auth("teacher"))
        url, headers = f"{API}/signals/{signal['id']}", auth("coordinator")
        assert client.post(f"{url}/triage", json={"outcome": "no_further_action"}, headers=headers).status_code == 400
        body = {"outcome": "no_further_action", "reason": "Geen zorgen na gesprek met school."}
        assert client.post(f"{url}/triage", json=body, headers=headers).json()["status"] == "no_further_action"
        assert client.post(f"{url}/triage", json=body, headers=headers).status_code == 409
        reopened = client.post(f"{url}/reopen", json={"reason": "Nieuwe informatie van de wijkagent."}, headers=headers)
        assert reopened.status_code == 200 and reopened.json()["status"] == "in_triage"
        assert client.post(f"{url}/triage", json={"outcome": "new_case"}, headers=headers).status_code == 200

    def test_reporter_cannot_triage_own_signal(self, client, auth):
        signal = submit(client, auth("teacher"))
        response = client.post(f"{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                               headers=auth("teacher"))
        assert response.status_code == 403

    def test_matches_shown_to_coordinator_only(self, client, auth):
        case = new_case(client, auth)
        second = submit(client, auth("police"))
        full = client.get(f"{API}/signals/{second['id']}", headers=auth("coordinator")).json()
        kinds = {(m["kind"], m["reason"]) for m in full["matches"]}
        assert ("case", "bsn") in kinds and ("signal", "bsn") in kinds
        assert any(m.get("number") == case["number"] for m in full["matches"])
        assert "matches" not in client.get(f"{API}/signals/{second['id']}", headers=auth("police")).json()


class TestLifecycle:
    def test_walk_to_closed_and_reopen(self, client, auth):
        case = new_case(client, auth)
        for status in ("investigation", "approach", "monitoring"):
            response = patch(client, auth, case["id"], {"status": status})
            assert response.status_code == 200 and response.json()["status"] == status
        assert patch(client, auth, case["id"], {"status": "closed"}).status_code == 400  # closure_reason
        closed = patch(client, auth, case["id"], {"status": "closed", "closure_reason": "Doelen van de aanpak bereikt."})
        assert closed.json()["status"] == "closed"
        assert patch(client, auth, case["id"], {"status": "investigation"}).status_code == 400  # reason
        reopened = patch(client, auth, case["id"], {"status": "investigation", "reason": "Nieuw signaal ontvangen."})
        assert reopened.status_code == 200
        changes = [h["details"].get("status") for h in client.get(f"{CASES}/{case['id']}/history",
                                                                   headers=auth("coordinator")).json()["items"]]
        assert ["closed", "investigation"] in changes

    @pytest.mark.parametrize("target", ["approach", "monitoring"])
    def test_skipping_a_step_is_409(self, client, auth, target):
        case = new_case(client, auth)
        response = patch(client, auth, case["id"], {"status": target})
        assert response.status_code == 409 and response.json()["type"].endswith("/illegal-transition")

    def test_if_match_required_and_stale_etag_is_412(self, client, auth):
        case = new_case(client, auth)
        url, headers = f"{CASES}/{case['id']}", auth("coordinator")
        assert client.patch(url, json={"next_review_date": "2027-01-15"}, headers=headers).status_code == 428
        etag = client.get(url, headers=headers).headers["etag"]
        first = patch(client, auth, case["id"], {"next_review_date": "2027-01-15"}, etag=etag)
        assert first.status_code == 200 and first.headers["etag"] != etag
        stale = patch(client, auth, case["id"], {"next_review_date": "2027-02-01"}, etag=etag)
        assert stale.status_code == 412
        assert client.get(url, headers=headers).json()["next_review_date"] == "2027-01-15"

    def test_risk_assessment_and_invalid_input(self, client, auth):
        case = new_case(client, auth)
        body = {"risk_assessment": {"level": "high", "summary": "Toenemende radicalisering.", "assessed_on": "2026-11-01"}}
        response = patch(client, auth, case["id"], body)
        assessment = response.json()["risk_assessment"]
        assert assessment["level"] == "high" and assessment["assessed_by"]
        bad = patch(client, auth, case["id"], {"risk_assessment": {"level": "extreme"}, "status": "nope", "x": 1})
        assert bad.status_code == 400 and len(bad.json()["errors"]) >= 3


class TestMembers:
    def test_member_partner_reads_without_bsn_and_removal_ends_access(self, client, auth):
        case = new_case(client, auth)
        url = f"{CASES}/{case['id']}"
        assert client.get(url, headers=auth("police")).status_code == 404
        add_member(client, auth, case["id"], "POL")
        seen = client.get(url, headers=auth("police")).json()
        assert seen["view"] == "partner" and set(seen["person"]) == {"id", "pseudonym", "name", "date_of_birth",
                                                                      "district"}
        assert [c["id"] for c in client.get(CASES, headers=auth("police")).json()["items"]] == [case["id"]]
        police = organisation_id(client, auth("police"), "POL")
        assert client.delete(f"{url}/members/{police}", headers=auth("coordinator")).status_code == 204
        assert client.get(url, headers=auth("police")).status_code == 404
        assert client.get(CASES, headers=auth("police")).json()["items"] == []

    def test_member_rules(self, client, auth):
        case = new_case(client, auth)
        add_member(client, auth, case["id"], "POL")
        headers, url = auth("coordinator"), f"{CASES}/{case['id']}/members"
        police = organisation_id(client, headers, "POL")
        assert client.post(url, json={"organisation_id": police}, headers=headers).status_code == 409
        arnhem = organisation_id(client, headers, "ARN")
        assert client.post(url, json={"organisation_id": arnhem}, headers=headers).status_code == 400
        utrecht = organisation_id(client, headers, "UTR")
        assert client.delete(f"{url}/{utrecht}", headers=headers).status_code == 409
        assert {m["name"] for m in client.get(url, headers=auth("police")).json()["items"]} == {
            "Gemeente Utrecht", "Politie Midden-Nederland"}
        assert client.post(url, json={"organisation_id": police}, headers=auth("police")).status_code == 403


def test_organisation_directory_for_any_signed_in_caller(client, auth):
    assert client.get(f"{API}/organisations").status_code == 401
    names = {o["name"] for o in client.get(f"{API}/organisations", headers=auth("teacher")).json()["items"]}
    assert {"Gemeente Utrecht", "Politie Midden-Nederland", "Gemeente Arnhem"} <= names


def test_person_search_minimal_answer_audited_without_what_was_searched_for(client, auth, app):
    from sqlmodel import select

    from app.models import AuditEvent, AuditEventPerson

    case = new_case(client, auth)
    response = client.post(f"{API}/persons/search", json={"bsn": "111222333"}, headers=auth("coordinator"))
    [candidate] = response.json()["items"]
    assert candidate["match"] == "bsn" and candidate["cases"][0]["number"] == case["number"]
    assert "bsn" not in candidate and "address" not in candidate
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == response.headers["x-request-id"])).one()
        persons = session.exec(select(AuditEventPerson.pseudonym).where(AuditEventPerson.event_seq == event.seq)).all()
    assert event.operation == "search" and event.detail == {"criteria": ["bsn"], "count": 1}
    assert persons == [case["person"]["pseudonym"]] and "111222333" not in event.model_dump_json()
    assert client.post(f"{API}/persons/search", json={"name": "Jan"}, headers=auth("coordinator")).status_code == 400
    assert client.post(f"{API}/persons/search", json={"bsn": "111222333"}, headers=auth("police")).status_code == 403
