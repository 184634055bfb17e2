"""The subscriptions API: secrets shown once, callback URL rules, deliveries, redelivery, authorization."""

import json
import uuid

import pytest
from sqlmodel import Session, select

from app.models import ApiClient, AuditEvent, Role, Scope, Subscription, User
from app.services import accounts, delivery, outbox, targets
from tests.db import inspect_db
from tests.factories import OTHER_BSN, VALID_BSN, submit
from tests.webhook_helpers import Receiver, messages, readme_receiver, serve

BASE = "/api/v1/subscriptions"
PUBLIC_URL = "https://hooks.example.nl/casusregister"


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    server = serve(receiver)
    yield receiver
    server.should_exit = True


@pytest.fixture
def public_dns(monkeypatch):
    """Production rules (https, public addresses only) with a resolver that needs no network."""
    names = {"hooks.example.nl": ["93.184.216.34"], "internal.example.nl": ["10.1.2.3"],
             "mixed.example.nl": ["93.184.216.34", "192.168.1.10"]}
    monkeypatch.setattr(targets, "resolve", lambda host, port: names.get(host) or [host])
    return monkeypatch


@pytest.fixture
def production(app, public_dns):
    public_dns.setattr(app.state.settings, "webhook_allow_private_targets", False)


def _account(app, auth, code: str, roles: list[Role]) -> dict[str, str]:
    """Bearer headers of a user of organisation `code` with these roles, created once per database."""
    username = f"{code.lower()}-{'-'.join(sorted(roles))}"
    with Session(app.state.engine) as session:
        if session.exec(select(User).where(User.username == username)).first() is None:
            accounts.create_user(session, app.state.hasher, username, username, accounts.find_organisation(session, code),
                                 roles, "a-password-of-16-chars")
            session.commit()
    return auth(username)


def _client(app, auth, code: str, scopes: list[Scope]) -> dict[str, str]:
    """Bearer headers of an API client of organisation `code` with these scopes, created once per database."""
    client_id = f"{code.lower()}-system"
    with Session(app.state.engine) as session:
        if session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).first() is None:
            accounts.create_client(session, app.state.hasher, client_id, accounts.find_organisation(session, code),
                                   scopes)
            session.commit()
    return auth.client(client_id)


def create(client, headers, url=PUBLIC_URL, events=("signal.received",)):
    response = client.post(BASE, json={"callback_url": url, "events": list(events)}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestCreate:
    def test_the_secret_is_returned_once_and_stored_encrypted(self, app, client, auth, production):
        events = ["referral.received", "referral.status_changed"]
        created = create(client, auth.client("arnhem-system"), events=events)
        assert created["secret"].startswith("whsec_") and created["key_id"].startswith("whk_")
        assert created["events"] == events
        read = client.get(f"{BASE}/{created['id']}", headers=auth.client("arnhem-system"))
        assert read.status_code == 200 and "secret" not in read.json()
        assert {k: v for k, v in created.items() if k != "secret"} == read.json()
        with Session(app.state.engine) as session:
            stored = session.get(Subscription, uuid.UUID(created["id"]))
            assert created["secret"] not in stored.secret_encrypted and stored.created_by.startswith("client:")

    def test_location_header_and_the_admin_of_the_municipality(self, client, auth, production):
        response = client.post(BASE, json={"callback_url": PUBLIC_URL, "events": ["action.assigned"]},
                               headers=auth("admin"))
        assert response.status_code == 201
        assert response.headers["location"] == f"{BASE}/{response.json()['id']}"

    @pytest.mark.parametrize("url", [
        "http://hooks.example.nl/x", "https://127.0.0.1/x", "https://10.0.0.8/x", "https://172.16.3.4/x",
        "https://192.168.0.1/x", "https://169.254.169.254/latest", "https://0.0.0.0/x", "https://[::1]/x",
        "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "https://100.64.0.1/x", "https://224.0.0.1/x",
        "https://[64:ff9b::a9fe:a9fe]/x", "https://[2002:a9fe:a9fe::1]/x", "https://[::7f00:1]/x",
        "https://internal.example.nl/x", "https://mixed.example.nl/x", "https://user:pw@hooks.example.nl/x",
        "ftp://hooks.example.nl/x", "https:///nohost", "https://hooks.example.nl:99999/x",
        "https://hooks.example.nl/x#frag"])
    def test_refused_callback_urls(self, client, auth, production, url):
        response = client.post(BASE, json={"callback_url": url, "events": ["referral.received"]},
                               headers=auth.client("arnhem-system"))
        assert response.status_code == 400, url
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["name"] == "callback_url"

    def test_an_event_the_subscriber_cannot_read_is_refused(self, client, auth, app, production):
        """A system without signals:read, or a partner's administrator, would get an href that answers 404."""
        police_admin = _account(app, auth, "POL", [Role.admin])
        response = client.post(BASE, json={"callback_url": "https://internal.example.nl/x",
                                           "events": ["signal.received", "action.assigned"]},
                               headers=auth.client("arnhem-system"))
        assert response.status_code == 400
        assert [(e["name"], e["reason"].split(":")[0]) for e in response.json()["errors"]] == [
            ("callback_url", "the host resolves to a private, loopback, link-local or unspecified address"),
            ("events", "signal.received"),
            ("events", "action.assigned")]
        refused = client.post(BASE, json={"callback_url": PUBLIC_URL, "events": ["signal.received"]},
                              headers=police_admin)
        assert refused.status_code == 400 and refused.json()["type"].endswith("/event-not-readable")
        assert create(client, police_admin, events=("action.assigned",))["events"] == ["action.assigned"]
        reader = _client(app, auth, "UTR", [Scope.webhooks_manage, Scope.signals_read, Scope.actions_read])
        assert create(client, reader, events=("signal.received", "action.assigned"))

    def test_a_name_that_does_not_resolve_is_refused(self, client, auth, app, monkeypatch):
        monkeypatch.setattr(app.state.settings, "webhook_allow_private_targets", False)
        response = client.post(BASE, json={"callback_url": "https://nonexistent.invalid/x",
                                           "events": ["signal.received"]}, headers=auth("admin"))
        assert response.status_code == 400 and "does not resolve" in response.json()["detail"]

    def test_private_targets_when_allowed(self, client, auth, receiver):
        assert create(client, auth("admin"), url=receiver.url)["callback_url"] == receiver.url

    @pytest.mark.parametrize("url", ["http://hooks.example.nl/x", "http://internal.example.nl/x"])
    def test_private_targets_allowed_still_need_https_beyond_this_machine(self, client, auth, public_dns, url):
        response = client.post(BASE, json={"callback_url": url, "events": ["signal.received"]}, headers=auth("admin"))
        assert response.status_code == 400 and response.json()["errors"][0]["reason"] == "must be an https URL"

    @pytest.mark.parametrize("body", [
        {"callback_url": PUBLIC_URL}, {"callback_url": PUBLIC_URL, "events": []},
        {"callback_url": PUBLIC_URL, "events": ["signal.deleted"]},
        {"callback_url": PUBLIC_URL, "events": ["signal.received", "signal.received"]},
        {"callback_url": PUBLIC_URL, "events": ["signal.received"], "secret": "mine"},
        {"callback_url": "https://h.example.nl/" + "x" * 2000, "events": ["signal.received"]},
        {"events": ["signal.received"]}])
    def test_invalid_bodies_answer_400(self, client, auth, production, body):
        response = client.post(BASE, json=body, headers=auth("admin"))
        assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"


class TestListAndDelete:
    def test_each_organisation_sees_only_its_own(self, client, auth, production):
        mine = [create(client, auth("admin"))["id"] for _ in range(3)]
        create(client, auth.client("arnhem-system"), events=("referral.received",))
        first = client.get(BASE, params={"pageSize": 2}, headers=auth("admin")).json()
        second = client.get(BASE, params={"pageSize": 2, "cursor": first["next_cursor"]},
                            headers=auth("admin")).json()
        assert [s["id"] for s in first["items"] + second["items"]] == mine[::-1]
        assert second["next_cursor"] is None and all("secret" not in s for s in first["items"])

    def test_delete_stops_deliveries_and_hides_the_subscription(self, client, auth, production, app):
        created = create(client, auth("admin"))
        submit(client, auth("teacher"))
        assert client.delete(f"{BASE}/{created['id']}", headers=auth("admin")).status_code == 204
        assert client.get(f"{BASE}/{created['id']}", headers=auth("admin")).status_code == 404
        assert client.get(BASE, headers=auth("admin")).json()["items"] == []
        assert client.delete(f"{BASE}/{created['id']}", headers=auth("admin")).status_code == 404
        run = delivery.deliver_due(app.state.engine, app.state.settings)
        assert run.counts["dead"] == 1 and messages(app)[0].last_error == "the subscription was deleted"

    def test_changes_are_audited(self, app, client, auth, production):
        created = create(client, auth("admin"))
        client.delete(f"{BASE}/{created['id']}", headers=auth("admin"))
        with inspect_db(app) as session:
            events = session.exec(select(AuditEvent.operation, AuditEvent.outcome, AuditEvent.resource_id)
                                  .where(AuditEvent.resource_type == "subscription")).all()
        assert sorted(events) == [("create", "allowed", created["id"]), ("delete", "allowed", created["id"])]


class TestDeliveries:
    def test_signal_received_is_delivered_without_personal_data(self, app, client, auth, receiver):
        receiver.reset()
        created = create(client, auth("admin"), url=receiver.url)
        signal = submit(client, auth("teacher"), name="Fatima el Amrani", bsn=OTHER_BSN, district="Kanaleneiland",
                        description="Uitingen over de strijd.")
        submit(client, auth("teacher"))
        assert delivery.deliver_due(app.state.engine, app.state.settings).counts["delivered"] == 2
        sent = [readme_receiver()["verify"](created["secret"], d.headers, d.body) for d in receiver.deliveries]
        assert {e["type"] for e in sent} == {"signal.received"}
        assert signal["id"] in {e["data"]["resource_id"] for e in sent}
        everything = json.dumps([m.payload for m in messages(app)]) + b"".join(
            d.body for d in receiver.deliveries).decode()
        for personal in ("Fatima", "Amrani", OTHER_BSN, "Jan de Vries", VALID_BSN, "2005-03-01", "Kanaleneiland",
                         "Overvecht", "strijd", "extremistische"):
            assert personal not in everything

    def test_other_outbox_kinds_for_the_subscription_are_not_listed_as_deliveries(self, app, client, auth, production):
        created = create(client, auth("admin"))
        with Session(app.state.engine) as session:
            other = outbox.enqueue(session, kind="test.document", payload={"document_id": str(uuid.uuid4())},
                                   subscription_id=uuid.UUID(created["id"]))
            session.commit()
            other_id = other.id
        url = f"{BASE}/{created['id']}/deliveries"
        listed = client.get(url, headers=auth("admin"))
        assert listed.status_code == 200 and listed.json()["items"] == []
        assert client.post(f"{url}/{other_id}/redeliver", headers=auth("admin")).status_code == 404

    def test_a_signal_in_another_municipality_is_not_announced_here(self, app, client, auth, receiver):
        create(client, auth("admin"), url=receiver.url)
        submit(client, auth.client("arnhem-system"))
        assert messages(app) == []

    def test_list_deliveries_and_redeliver_with_the_same_event_id(self, app, client, auth, receiver):
        receiver.reset()
        created = create(client, auth("admin"), url=receiver.url)
        submit(client, auth("teacher"))
        delivery.deliver_due(app.state.engine, app.state.settings)
        url = f"{BASE}/{created['id']}/deliveries"
        [item] = client.get(url, headers=auth("admin")).json()["items"]
        assert (item["status"], item["attempts"], item["event_type"], item["next_attempt_at"]) == (
            "delivered", 1, "signal.received", None)
        again = client.post(f"{url}/{item['id']}/redeliver", headers=auth("admin"))
        assert again.status_code == 202 and (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
        assert client.post(f"{url}/{item['id']}/redeliver", headers=auth("admin")).status_code == 409
        delivery.deliver_due(app.state.engine, app.state.settings)
        assert [d.headers["webhook-id"] for d in receiver.deliveries] == [item["id"], item["id"]]

    def test_a_dead_delivery_can_be_redelivered(self, app, client, auth, receiver, monkeypatch):
        receiver.reset()
        monkeypatch.setattr(app.state.settings, "webhook_max_attempts", 1)
        receiver.statuses.append(500)
        created = create(client, auth("admin"), url=receiver.url)
        submit(client, auth("teacher"))
        delivery.deliver_due(app.state.engine, app.state.settings)
        url = f"{BASE}/{created['id']}/deliveries"
        [item] = client.get(url, headers=auth("admin")).json()["items"]
        assert (item["status"], item["last_error"]) == ("dead", "the callback URL answered HTTP 500")
        assert client.post(f"{url}/{item['id']}/redeliver", headers=auth("admin")).status_code == 202
        assert delivery.deliver_due(app.state.engine, app.state.settings).counts["delivered"] == 1


def _subscription_with_delivery(client, auth, receiver, headers):
    created = create(client, headers, url=receiver.url)
    submit(client, auth("teacher"))
    return created["id"], client.get(f"{BASE}/{created['id']}/deliveries", headers=headers).json()["items"]


ENDPOINTS = [
    ("post", BASE, {"callback_url": PUBLIC_URL, "events": ["signal.received"]}),
    ("get", BASE, None),
    ("get", BASE + "/{id}", None),
    ("delete", BASE + "/{id}", None),
    ("get", BASE + "/{id}/deliveries", None),
    ("post", BASE + "/{id}/deliveries/{delivery_id}/redeliver", None),
]


class TestAuthorization:
    """Every endpoint x caller: anonymous 401; no right 403; another organisation or unknown 404."""

    @pytest.fixture
    def target(self, client, auth, receiver, app):
        subscription_id, deliveries = _subscription_with_delivery(client, auth, receiver, auth("admin"))
        delivery.deliver_due(app.state.engine, app.state.settings)
        return {"id": subscription_id, "delivery_id": deliveries[0]["id"]}

    def _call(self, client, method, path, body, target, headers):
        return client.request(method, path.format(**target), json=body, headers=headers)

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_anonymous(self, client, target, method, path, body):
        assert self._call(client, method, path, body, target, {}).status_code == 401

    @pytest.mark.parametrize("user", ["coordinator", "chair", "police", "privacy", "teacher"])
    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_users_without_the_admin_role(self, client, auth, target, method, path, body, user):
        assert self._call(client, method, path, body, target, auth(user)).status_code == 403

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_a_client_without_the_scope(self, client, auth, target, method, path, body):
        headers = auth.client("arnhem-system", ["signals:create", "referrals:send"])
        assert self._call(client, method, path, body, target, headers).status_code == 403

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[2:])
    def test_another_organisations_subscription_is_not_found(self, client, auth, target, method, path, body):
        assert self._call(client, method, path, body, target, auth.client("arnhem-system")).status_code == 404

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[2:])
    def test_an_unknown_subscription_is_not_found(self, client, auth, target, method, path, body):
        unknown = {"id": str(uuid.uuid4()), "delivery_id": target["delivery_id"]}
        assert self._call(client, method, path, body, unknown, auth("admin")).status_code == 404

    def test_a_delivery_of_another_subscription_is_not_found(self, client, auth, target, receiver):
        other, _ = _subscription_with_delivery(client, auth, receiver, auth("admin"))
        path = f"{BASE}/{other}/deliveries/{target['delivery_id']}/redeliver"
        assert client.post(path, headers=auth("admin")).status_code == 404

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[2:])
    def test_the_owner_may(self, client, auth, target, method, path, body):
        assert self._call(client, method, path, body, target, auth("admin")).status_code in (200, 202, 204)

    def test_denials_are_audited(self, client, auth, target):
        client.get(f"{BASE}/{target['id']}", headers=auth.client("arnhem-system"))
        client.get(BASE, headers=auth("coordinator"))
        with inspect_db(client.app) as session:
            denied = session.exec(select(AuditEvent.resource_type, AuditEvent.actor_name)
                                  .where(AuditEvent.outcome == "denied")).all()
        assert set(denied) == {("subscription", "arnhem-system"), ("subscription", "coordinator")}
