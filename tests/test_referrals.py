"""Referrals from a case: the minimal data set, the lifecycle, requests for assessment, validation."""

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.db import Session
from app.models import AuditEvent, AuditEventPerson, Referral, ReferralItem
from app.privacy import retention
from tests.db import inspect_db
from tests.factories import VALID_BSN
from tests.referral_helpers import (
    API,
    case_with_items,
    inbound_body,
    link_arnhem,
    ok,
    refer,
    referral_body,
)
from tests.test_retention import age
from tests.webhook_helpers import add_subscription, messages


def _events(app, resource_id: str) -> list[tuple[AuditEvent, list[str]]]:
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.resource_id == resource_id)
                               .order_by(AuditEvent.seq)).all()
        return [(e, list(session.exec(select(AuditEventPerson.pseudonym)
                                      .where(AuditEventPerson.event_seq == e.seq)).all())) for e in events]


class TestCreate:
    def test_coordinator_refers_with_chosen_fields_and_items(self, client, auth):
        case = case_with_items(client, auth)
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"),
                               json=referral_body(client, auth, "GGZ", shared_item_ids=[case["shared_item"]]))
        body = ok(response, 201)
        assert response.headers["location"] == f"/api/v1/referrals/{body['id']}"
        assert (body["view"], body["kind"], body["status"], body["direction"]) == (
            "coordinator", "referral", "sent", "outgoing")
        assert body["case_id"] == case["id"]
        assert body["subject"] == {"name": "Jan de Vries", "date_of_birth": "2005-03-01", "bsn": None,
                                   "address": None, "district": None}
        assert [i["id"] for i in body["items"]] == [case["shared_item"]]

    def test_a_referral_to_the_expert_pool_is_a_request_for_assessment(self, client, auth):
        case = case_with_items(client, auth)
        assert refer(client, auth, case, "DPO")["kind"] == "assessment_request"

    def test_the_case_history_records_the_referral(self, client, auth):
        case = case_with_items(client, auth)
        referral = refer(client, auth, case, "GGZ")
        history = ok(client.get(f"{API}/cases/{case['id']}/history", headers=auth("coordinator")))["items"]
        assert {"referral_id": referral["id"], "recipient_organisation_id": referral["recipient_organisation_id"],
                "kind": "referral"} in [h["details"] for h in history if h["change"] == "referral_sent"]

    def test_idempotency_key_replays_the_same_referral(self, client, auth):
        case = case_with_items(client, auth)
        body = referral_body(client, auth, "GGZ")
        headers = auth("coordinator") | {"Idempotency-Key": "ref-1"}
        first = ok(client.post(f"{API}/cases/{case['id']}/referrals", json=body, headers=headers), 201)
        again = client.post(f"{API}/cases/{case['id']}/referrals", json=body, headers=headers)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == first
        other = client.post(f"{API}/cases/{case['id']}/referrals", json=body | {"purpose": "Iets anders."},
                            headers=headers)
        assert other.status_code == 409
        listed = ok(client.get(f"{API}/referrals", params={"direction": "sent"}, headers=auth("coordinator")))
        assert [r["id"] for r in listed["items"]] == [first["id"]]


class TestValidation:
    @pytest.mark.parametrize(("overrides", "field"), [
        ({"legal_basis": "because"}, "legal_basis"),
        ({"shared_fields": ["name", "favourite_colour"]}, "shared_fields.1"),
        ({"shared_fields": ["name", "name"]}, "shared_fields"),
        ({"due_date": (date.today() - timedelta(days=1)).isoformat()}, "due_date"),
        ({"purpose": ""}, "purpose"),
        ({"shared_item_ids": [str(uuid.uuid4())]}, "shared_item_ids"),
        ({"recipient_organisation_id": str(uuid.uuid4())}, "recipient_organisation_id"),
        ({"extra": 1}, "extra"),
    ])
    def test_invalid_input_answers_400(self, client, auth, overrides, field):
        case = case_with_items(client, auth)
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"),
                               json=referral_body(client, auth, "GGZ") | overrides)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["name"] for e in response.json()["errors"]]

    def test_items_of_another_case_cannot_be_shared(self, client, auth):
        case, other = case_with_items(client, auth), case_with_items(client, auth)
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"),
                               json=referral_body(client, auth, "GGZ", shared_item_ids=[other["shared_item"]]))
        assert response.status_code == 400

    @pytest.mark.parametrize("code", ["UTR", "ARN"])
    def test_own_municipality_and_unlinked_municipality_are_no_recipients(self, client, auth, code):
        case = case_with_items(client, auth)
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"),
                               json=referral_body(client, auth, code))
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "unknown_recipient"

    @pytest.mark.parametrize("fields", [["name"], ["name", "date_of_birth", "address"]])
    def test_another_registry_receives_name_date_of_birth_and_bsn_only(self, client, auth, app, fields):
        link_arnhem(app)
        case = case_with_items(client, auth)
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"),
                               json=referral_body(client, auth, "ARN", shared_fields=fields))
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "not_deliverable"

    def test_a_closed_case_makes_no_referrals(self, client, auth):
        case = case_with_items(client, auth)
        coordinator = auth("coordinator")
        etag = client.get(f"{API}/cases/{case['id']}", headers=coordinator).headers["etag"]
        ok(client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "closure_reason": "Afgerond traject."},
                        headers=coordinator | {"If-Match": etag}))
        response = client.post(f"{API}/cases/{case['id']}/referrals", headers=coordinator,
                               json=referral_body(client, auth, "GGZ"))
        assert response.status_code == 409


class TestRecipient:
    def test_sees_only_the_shared_fields_and_items_and_is_audited(self, client, auth, app):
        case = case_with_items(client, auth)
        referral = refer(client, auth, case, "GGZ", shared_fields=["name", "bsn"],
                         shared_item_ids=[case["shared_item"]])
        listed = ok(client.get(f"{API}/referrals", params={"direction": "received"}, headers=auth("care")))
        [seen] = listed["items"]
        read = ok(client.get(f"{API}/referrals/{referral['id']}", headers=auth("care")))
        for view in (seen, read):
            assert view["view"] == "recipient"
            assert "case_id" not in view and "signal_id" not in view
            assert view["subject"] == {"name": "Jan de Vries", "date_of_birth": None, "bsn": VALID_BSN,
                                       "address": None, "district": None}
            assert [(i["id"], i["text"]) for i in view["items"]] == [(case["shared_item"], "Gedeelde informatie.")]
        reads = [(e, p) for e, p in _events(app, referral["id"]) if e.operation == "read"]
        assert [(e.outcome, e.detail["view"], e.detail["item_ids"]) for e, _ in reads] == [
            ("allowed", "recipient", [case["shared_item"]])]
        assert reads[0][1] == [case["person"]["pseudonym"]]

    def test_the_case_itself_stays_out_of_sight(self, client, auth):
        case = case_with_items(client, auth)
        refer(client, auth, case, "GGZ", shared_item_ids=[case["shared_item"]])
        assert client.get(f"{API}/cases/{case['id']}", headers=auth("care")).status_code == 404
        assert client.get(f"{API}/cases/{case['id']}/items", headers=auth("care")).status_code == 404

    def test_access_ends_with_the_referral(self, client, auth):
        case = case_with_items(client, auth)
        referral = refer(client, auth, case, "GGZ")
        care = auth("care")
        ok(client.post(f"{API}/referrals/{referral['id']}/accept", json={"note": "Intake gepland."}, headers=care))
        done = ok(client.post(f"{API}/referrals/{referral['id']}/complete", json={"note": "Traject afgerond."},
                              headers=care))
        assert done["status"] == "completed" and done["subject"]["name"] is None and done["items"] == []
        assert client.get(f"{API}/referrals/{referral['id']}", headers=care).status_code == 404
        assert ok(client.get(f"{API}/referrals", headers=care))["items"] == []
        coordinator_view = ok(client.get(f"{API}/referrals/{referral['id']}", headers=auth("coordinator")))
        assert (coordinator_view["status"], coordinator_view["status_note"]) == ("completed", "Traject afgerond.")


class TestLifecycle:
    @pytest.mark.parametrize(("steps", "last_status"), [
        ([("care", "accept"), ("care", "complete")], "completed"),
        ([("care", "decline")], "declined"),
        ([("coordinator", "withdraw")], "withdrawn"),
        ([("care", "accept"), ("coordinator", "withdraw")], "withdrawn"),
    ])
    def test_legal_transitions(self, client, auth, steps, last_status):
        referral = refer(client, auth, case_with_items(client, auth), "GGZ")
        for caller, action in steps:
            body = ok(client.post(f"{API}/referrals/{referral['id']}/{action}", json={}, headers=auth(caller)))
        assert body["status"] == last_status

    @pytest.mark.parametrize(("steps", "illegal"), [
        ([], ("care", "complete")),
        ([("care", "accept")], ("care", "accept")),
        ([("care", "accept")], ("care", "decline")),
        ([("care", "decline")], ("coordinator", "withdraw")),
        ([("care", "accept"), ("care", "complete")], ("coordinator", "withdraw")),
        ([("coordinator", "withdraw")], ("coordinator", "withdraw")),
    ])
    def test_illegal_transitions_answer_409(self, client, auth, steps, illegal):
        referral = refer(client, auth, case_with_items(client, auth), "GGZ")
        for caller, action in steps:
            ok(client.post(f"{API}/referrals/{referral['id']}/{action}", json={}, headers=auth(caller)))
        caller, action = illegal
        response = client.post(f"{API}/referrals/{referral['id']}/{action}", json={}, headers=auth(caller))
        assert response.status_code == 409, response.text

    def test_status_changes_are_in_the_case_history(self, client, auth):
        case = case_with_items(client, auth)
        referral = refer(client, auth, case, "GGZ")
        ok(client.post(f"{API}/referrals/{referral['id']}/accept", json={"note": "Ja."}, headers=auth("care")))
        history = ok(client.get(f"{API}/cases/{case['id']}/history", headers=auth("coordinator")))["items"]
        assert [h["change"] for h in history if h["change"].startswith("referral")] == [
            "referral_sent", "referral_accepted"]


class TestRequestForAssessment:
    def test_the_assessment_lands_in_the_case_and_access_ends(self, client, auth, app):
        case = case_with_items(client, auth)
        referral = refer(client, auth, case, "DPO", shared_item_ids=[case["shared_item"]])
        expert = auth("expert")
        seen = ok(client.get(f"{API}/referrals/{referral['id']}", headers=expert))
        assert seen["subject"]["name"] == "Jan de Vries" and len(seen["items"]) == 1
        assert client.get(f"{API}/cases/{case['id']}", headers=expert).status_code == 404
        ok(client.post(f"{API}/referrals/{referral['id']}/accept", json={}, headers=expert))
        missing = client.post(f"{API}/referrals/{referral['id']}/complete", json={"note": "Klaar."}, headers=expert)
        assert missing.status_code == 400
        done = ok(client.post(f"{API}/referrals/{referral['id']}/complete", headers=expert,
                              json={"note": "Duiding gegeven.", "assessment": "Laag risico; blijf volgen."}))
        assert done["status"] == "completed" and done["items"] == []
        assert client.get(f"{API}/referrals/{referral['id']}", headers=expert).status_code == 404
        coordinator = auth("coordinator")
        items = ok(client.get(f"{API}/cases/{case['id']}/items", headers=coordinator))["items"]
        [assessment] = [i for i in items if i["kind"] == "assessment"]
        assert assessment["text"] == "Laag risico; blijf volgen."
        landed = ok(client.get(f"{API}/referrals/{referral['id']}", headers=coordinator))["assessment_item_id"]
        assert landed == assessment["id"]

    def test_an_assessment_only_answers_a_request_for_assessment(self, client, auth):
        referral = refer(client, auth, case_with_items(client, auth), "GGZ")
        ok(client.post(f"{API}/referrals/{referral['id']}/accept", json={}, headers=auth("care")))
        response = client.post(f"{API}/referrals/{referral['id']}/complete", json={"assessment": "Iets."},
                               headers=auth("care"))
        assert response.status_code == 400


class TestNotifications:
    """Webhook events for the other party: ids and kinds only; the details are read through the API."""

    def _events(self, app) -> list[tuple[str, str, str]]:
        return [(m.payload["type"], str(m.subscription_id), m.payload["data"]["resource_id"])
                for m in messages(app, kind="webhook")]

    def test_the_recipient_hears_of_a_referral_and_the_sender_of_its_answer(self, client, auth, app):
        ggz, _ = add_subscription(app, "https://ggz.example.nl/hooks", ["referral.received"], code="GGZ")
        utr, _ = add_subscription(app, "https://utrecht.example.nl/hooks", ["referral.status_changed"])
        referral = refer(client, auth, case_with_items(client, auth), "GGZ")
        ok(client.post(f"{API}/referrals/{referral['id']}/accept", json={"note": "Ja."}, headers=auth("care")))
        assert self._events(app) == [("referral.received", str(ggz), referral["id"]),
                                     ("referral.status_changed", str(utr), referral["id"])]
        assert all("Jan" not in str(m.payload) for m in messages(app))

    def test_a_withdrawal_is_told_to_the_recipient(self, client, auth, app):
        ggz, _ = add_subscription(app, "https://ggz.example.nl/hooks", ["referral.status_changed"], code="GGZ")
        referral = refer(client, auth, case_with_items(client, auth), "GGZ")
        ok(client.post(f"{API}/referrals/{referral['id']}/withdraw", json={}, headers=auth("coordinator")))
        assert self._events(app) == [("referral.status_changed", str(ggz), referral["id"])]

    def test_a_referral_to_another_registry_is_queued_with_its_id_only(self, client, auth, app):
        link_arnhem(app)
        referral = refer(client, auth, case_with_items(client, auth), "ARN")
        assert [m.payload for m in messages(app, kind="referral.deliver")] == [{"referral_id": referral["id"]}]
        local = refer(client, auth, case_with_items(client, auth), "GGZ")
        assert local["id"] not in str([m.payload for m in messages(app)])


class TestRetention:
    def test_referrals_go_with_their_case_and_with_the_signal_an_incoming_one_became(self, client, auth, app):
        case = case_with_items(client, auth)
        refer(client, auth, case, "GGZ", shared_item_ids=[case["shared_item"]])
        coordinator = auth("coordinator")
        etag = client.get(f"{API}/cases/{case['id']}", headers=coordinator).headers["etag"]
        ok(client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "closure_reason": "Afgerond traject."},
                        headers=coordinator | {"If-Match": etag}))
        link_arnhem(app)
        receipt = ok(client.post(f"{API}/inbound-referrals", json=inbound_body(), headers=auth.client("arnhem-system")),
                     201)
        signal_id = ok(client.get(f"{API}/referrals/{receipt['id']}", headers=coordinator))["signal_id"]
        ok(client.post(f"{API}/signals/{signal_id}/triage", headers=coordinator,
                       json={"outcome": "no_further_action", "reason": "Al bekend, geen actie nodig."}))
        age(app, "cases", "updated_at", 2000)
        age(app, "signals", "triaged_at", 400)
        with Session(app.state.engine) as session:
            retention.run(session, app.state.settings, "fg-utrecht")
        with inspect_db(app) as session:
            assert session.exec(select(Referral)).all() == [] and session.exec(select(ReferralItem)).all() == []
