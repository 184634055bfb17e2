"""POST /inbound-referrals: another municipality's system sends a referral; idempotent by its reference."""

import pytest
from sqlmodel import select

from app.models import AuditEvent, AuditEventPerson, Referral
from tests.db import inspect_db
from tests.referral_helpers import API, inbound_body, link_arnhem, ok
from tests.webhook_helpers import add_subscription, messages

INBOUND = f"{API}/inbound-referrals"


@pytest.fixture
def arnhem(app, auth):
    link_arnhem(app)
    return auth.client("arnhem-system")


class TestReceive:
    def test_creates_a_received_referral_and_a_signal_for_triage(self, client, auth, arnhem):
        response = client.post(INBOUND, json=inbound_body(), headers=arnhem)
        receipt = ok(response, 201)
        assert set(receipt) == {"id", "sender_reference", "status", "created_at"}
        assert (receipt["sender_reference"], receipt["status"]) == ("ARN-2026-0001", "sent")
        assert "Piet" not in response.text
        coordinator = auth("coordinator")
        [referral] = ok(client.get(f"{API}/referrals", params={"direction": "received"}, headers=coordinator))["items"]
        assert (referral["id"], referral["direction"], referral["view"]) == (receipt["id"], "incoming", "coordinator")
        assert referral["shared_fields"] == ["name", "date_of_birth", "bsn"]
        assert referral["subject"] | {"address": None} == {"name": "Piet Jansen", "date_of_birth": "2001-07-14",
                                                           "bsn": "123456782", "address": None, "district": None}
        assert referral["summary"].startswith("Sinds 2025")
        signal = ok(client.get(f"{API}/signals/{referral['signal_id']}", headers=coordinator))
        assert (signal["status"], signal["subject"]["bsn"], signal["channel"]) == (
            "received", "123456782", "registration_system")
        assert "ARN-2026-0001" in signal["description"]

    def test_the_receipt_is_audited_with_the_person(self, client, app, arnhem):
        receipt = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        with inspect_db(app) as session:
            event = session.exec(select(AuditEvent).where(AuditEvent.resource_id == receipt["id"])).one()
            persons = session.exec(select(AuditEventPerson).where(AuditEventPerson.event_seq == event.seq)).all()
        assert (event.operation, event.outcome, event.actor_kind, event.detail["inbound"]) == (
            "create", "allowed", "client", True)
        assert len(persons) == 1

    def test_the_coordinator_answers_and_the_sender_may_withdraw(self, client, auth, arnhem):
        receipt = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        coordinator = auth("coordinator")
        assert client.post(f"{API}/referrals/{receipt['id']}/withdraw", json={}, headers=coordinator).status_code == 403
        ok(client.post(f"{API}/referrals/{receipt['id']}/accept", json={"note": "Wij nemen het over."},
                       headers=coordinator))
        assert client.post(f"{API}/referrals/{receipt['id']}/accept", json={}, headers=arnhem).status_code == 403
        assert client.get(f"{API}/referrals/{receipt['id']}", headers=arnhem).status_code == 404
        withdrawn = ok(client.post(f"{API}/referrals/{receipt['id']}/withdraw", json={}, headers=arnhem))
        assert withdrawn["status"] == "withdrawn" and withdrawn["subject"]["name"] is None
        assert ok(client.get(f"{API}/referrals/{receipt['id']}", headers=coordinator))["status"] == "withdrawn"


class TestIdempotency:
    def test_the_same_reference_answers_the_same_referral(self, client, app, arnhem):
        first = client.post(INBOUND, json=inbound_body(), headers=arnhem)
        again = client.post(INBOUND, json=inbound_body(), headers=arnhem)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        with inspect_db(app) as session:
            assert len(session.exec(select(Referral)).all()) == 1

    def test_any_client_of_the_sending_organisation_repeats_the_same_referral(self, client, auth, arnhem):
        first = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        narrower = auth.client("arnhem-system", ["referrals:send"])
        assert ok(client.post(INBOUND, json=inbound_body(), headers=narrower)) == first

    def test_the_same_reference_with_another_body_is_a_conflict(self, client, arnhem):
        ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        response = client.post(INBOUND, json=inbound_body(purpose="Een ander verzoek."), headers=arnhem)
        assert response.status_code == 409
        assert response.json()["type"].endswith("/sender-reference-reused")

    def test_another_reference_is_another_referral(self, client, arnhem):
        first = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        second = ok(client.post(INBOUND, json=inbound_body("ARN-2026-0002"), headers=arnhem), 201)
        assert first["id"] != second["id"]


class TestValidation:
    @pytest.mark.parametrize(("body", "field"), [
        (inbound_body(subject={"name": "Piet Jansen", "date_of_birth": "2001-07-14", "bsn": "123456789"}),
         "subject.bsn"),
        (inbound_body(subject={"name": "Piet Jansen", "date_of_birth": "2999-01-01"}), "subject.date_of_birth"),
        (inbound_body(subject={"name": "Piet Jansen", "date_of_birth": "2001-07-14", "address": "Straat 1"}),
         "subject.address"),
        (inbound_body(legal_basis="because"), "legal_basis"),
        (inbound_body(sender_reference=""), "sender_reference"),
        (inbound_body(summary="x" * 120001), "summary"),
        ({k: v for k, v in inbound_body().items() if k != "purpose"}, "purpose"),
    ])
    def test_invalid_input_answers_400_and_creates_nothing(self, client, app, arnhem, body, field):
        response = client.post(INBOUND, json=body, headers=arnhem)
        assert response.status_code == 400, response.text
        assert field in [e["name"] for e in response.json()["errors"]]
        with inspect_db(app) as session:
            assert session.exec(select(Referral)).all() == []


class TestWhoMaySend:
    def test_an_unlinked_organisation_is_refused(self, client, auth):
        response = client.post(INBOUND, json=inbound_body(), headers=auth.client("arnhem-system"))
        assert response.status_code == 403

    @pytest.mark.parametrize("scopes", [["referrals:receive", "signals:create"], []])
    def test_a_client_without_referrals_send_is_refused(self, client, auth, arnhem, scopes):
        response = client.post(INBOUND, json=inbound_body(), headers=auth.client("arnhem-system", scopes))
        assert response.status_code == 403

    @pytest.mark.parametrize("user", ["coordinator", "care", "admin"])
    def test_users_do_not_send_inbound_referrals(self, client, auth, arnhem, user):
        assert client.post(INBOUND, json=inbound_body(), headers=auth(user)).status_code == 403

    def test_anonymous_is_refused(self, client, arnhem):
        assert client.post(INBOUND, json=inbound_body()).status_code == 401


class TestAnnouncements:
    def test_the_municipality_hears_of_it_and_the_answer_is_queued_for_the_sender(self, client, auth, app, arnhem):
        subscription, _ = add_subscription(app, "https://utrecht.example.nl/hooks", ["referral.received"])
        receipt = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        [event] = messages(app, kind="webhook")
        assert (event.subscription_id, event.payload["data"]["resource_id"]) == (subscription, receipt["id"])
        ok(client.post(f"{API}/referrals/{receipt['id']}/accept", json={"note": "Ja."}, headers=auth("coordinator")))
        assert [m.payload for m in messages(app, kind="referral.status")] == [
            {"referral_id": receipt["id"], "status": "accepted"}]

    def test_a_change_by_the_sender_is_not_sent_back_to_it(self, client, app, arnhem):
        receipt = ok(client.post(INBOUND, json=inbound_body(), headers=arnhem), 201)
        ok(client.post(f"{API}/referrals/{receipt['id']}/withdraw", json={}, headers=arnhem))
        assert messages(app, kind="referral.status") == []
