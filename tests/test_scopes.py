"""A partner system reads what an event points at only with the scope for it: actions:read for
action.assigned, signals:read (a municipality's own system) for signal.received. Without the scope it
cannot subscribe (400 naming the event); with it, the event's href answers 200, audited with the
person's pseudonym; and signals:read never reaches another municipality's signal, nor triages."""

import json

import httpx
import pytest

from app.models import Scope
from app.services import delivery
from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import api_client, submit
from tests.meeting_helpers import persons_of_event

CALLBACK = "https://127.0.0.1:9/hooks"


def subscribe(client, headers, event: str):
    return client.post(f"{API}/subscriptions", json={"callback_url": CALLBACK, "events": [event]}, headers=headers)


def delivered_events(app) -> list[dict]:
    """Runs the outbox worker against a receiver that takes everything; returns the events it got."""
    received = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(receive)) as receiver:
        delivery.deliver_due(app.state.engine, app.state.settings, receiver)
    return received


def refused_events(response) -> list[str]:
    assert response.status_code == 400 and response.json()["type"].endswith("/event-not-readable"), response.text
    return [e["reason"].split(":")[0] for e in response.json()["errors"] if e["name"] == "events"]


@pytest.mark.parametrize(("code", "event"), [("POL", "action.assigned"), ("UTR", "signal.received")])
def test_a_system_without_the_reading_scope_cannot_subscribe(client, auth, app, code, event):
    system = api_client(app, auth, f"{code.lower()}-webhooks-only", code, [Scope.webhooks_manage])
    assert refused_events(subscribe(client, system, event)) == [event]


def test_actions_read_follows_the_action_assigned_href(client, auth, app):
    system = api_client(app, auth, "pol-actions", "POL", [Scope.actions_read, Scope.webhooks_manage])
    assert subscribe(client, system, "action.assigned").status_code == 201
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    body = {"description": "Huisbezoek", "due_date": "2099-01-01",
            "owner_organisation_id": organisation_id(client, auth("coordinator"), "POL")}
    action = client.post(f"{API}/cases/{case['id']}/actions", json=body, headers=auth("coordinator")).json()
    [event] = delivered_events(app)
    assert (event["type"], event["data"]["href"]) == ("action.assigned", f"{API}/actions/{action['id']}")
    read = client.get(event["data"]["href"], headers=system)
    assert read.status_code == 200 and read.json()["id"] == action["id"], read.text
    assert persons_of_event(app, read.headers["x-request-id"], "action") == {case["person"]["pseudonym"]}
    # The same system, with a token that leaves the scope out, gets nothing.
    assert client.get(event["data"]["href"], headers=auth.client("pol-actions", ["webhooks:manage"])).status_code == 404


def test_signals_read_follows_the_signal_received_href_of_its_own_municipality_only(client, auth, app):
    system = api_client(app, auth, "utr-signals", "UTR", [Scope.signals_read, Scope.webhooks_manage])
    assert subscribe(client, system, "signal.received").status_code == 201
    signal = submit(client, auth("teacher"))
    [event] = delivered_events(app)
    read = client.get(event["data"]["href"], headers=system)
    assert read.status_code == 200, read.text
    assert (read.json()["id"], read.json()["subject"]["name"]) == (signal["id"], "Jan de Vries")
    assert persons_of_event(app, read.headers["x-request-id"], "signal") == {read.json()["person"]["pseudonym"]}
    arnhem = submit(client, auth.client("arnhem-system"))
    assert client.get(f"{API}/signals/{arnhem['id']}", headers=system).status_code == 404
    triage = {"outcome": "new_case"}
    assert client.post(f"{API}/signals/{signal['id']}/triage", json=triage, headers=system).status_code == 403
    assert client.post(f"{API}/signals/{arnhem['id']}/triage", json=triage, headers=system).status_code == 404


def test_signals_read_of_a_partner_system_subscribes_to_no_signal_it_cannot_read(client, auth, app):
    """signals:read reads the signals of the system's own municipality; a partner (Politie) has none it
    may read, so the subscription is one the rule on subscriptions refuses: its events would point at
    signals that answer this system 404."""
    system = api_client(app, auth, "pol-signals", "POL", [Scope.signals_read, Scope.webhooks_manage])
    signal = submit(client, auth("police"))
    assert client.get(f"{API}/signals/{signal['id']}", headers=system).status_code == 404
    assert refused_events(subscribe(client, system, "signal.received")) == ["signal.received"]
