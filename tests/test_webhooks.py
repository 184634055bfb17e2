"""Webhook deliveries to a real HTTP receiver (uvicorn on 127.0.0.1), checked with the README's verifier."""

import json
import time
import uuid

import httpx
import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Subscription
from app.services import delivery, outbox, targets, webhooks
from tests.db import inspect_db
from tests.webhook_helpers import (
    Receiver,
    add_subscription,
    make_due,
    messages,
    organisation_id,
    readme_receiver,
    serve,
)

README = readme_receiver()


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    server = serve(receiver)
    yield receiver
    server.should_exit = True


@pytest.fixture
def hook(app, client, receiver, monkeypatch):
    """A subscription of Utrecht to signal.received at the receiver, and one event for it."""
    receiver.reset()
    monkeypatch.setattr(app.state.settings, "webhook_max_attempts", 3)
    subscription_id, secret = add_subscription(app, receiver.url)
    resource_id = uuid.uuid4()
    with Session(app.state.engine) as session:
        outbox.notify(session, organisation_id=organisation_id(app, "UTR"), event_type="signal.received",
                      resource_type="signal", resource_id=resource_id)
        session.commit()
    return subscription_id, secret, resource_id


def deliver(app):
    return delivery.deliver_due(app.state.engine, app.state.settings)


def test_delivery_is_signed_and_verifies_with_the_readme_code(app, hook, receiver):
    subscription_id, secret, resource_id = hook
    assert deliver(app).counts["delivered"] == 1
    [sent] = receiver.deliveries
    [message] = messages(app)
    event = README["verify"](secret, sent.headers, sent.body)
    assert event == message.payload and event["id"] == sent.headers["webhook-id"] == str(message.id)
    assert event["data"]["href"] == f"/api/v1/signals/{resource_id}"
    with Session(app.state.engine) as session:
        assert sent.headers["webhook-key-id"] == session.get(Subscription, subscription_id).key_id
    assert sent.headers["content-type"] == "application/json" and sent.path == "/hooks"
    assert (message.status, message.attempts, message.last_error) == ("delivered", 1, None)


def test_the_readme_handler_deduplicates_by_event_id(app, hook, receiver):
    _, secret, _ = hook
    deliver(app)
    [sent] = receiver.deliveries
    seen: set[str] = set()
    assert README["handle"](secret, sent.headers, sent.body, seen) == 204
    assert README["handle"](secret, sent.headers, sent.body, seen) == 204
    assert seen == {sent.headers["webhook-id"]}


@pytest.mark.parametrize("tamper", ["body", "secret", "timestamp", "event_id", "signature"])
def test_the_verifier_refuses_what_was_not_signed_by_the_secret(app, hook, receiver, tamper):
    _, secret, _ = hook
    deliver(app)
    [sent] = receiver.deliveries
    headers, body = dict(sent.headers), sent.body
    if tamper == "body":
        body = body.replace(b"signal.received", b"signal.receivex")
    elif tamper == "secret":
        secret = webhooks.new_secret()
    elif tamper == "timestamp":
        old = int(time.time()) - 301
        headers = webhooks.signed_headers(secret, "k", headers["webhook-id"], body, timestamp=old)
    elif tamper == "event_id":
        headers["webhook-id"] = str(uuid.uuid4())
    else:
        headers["webhook-signature"] = "v2," + headers["webhook-signature"][3:]
    with pytest.raises(ValueError):
        README["verify"](secret, headers, body)
    assert README["handle"](secret, headers, body, set()) == 400


def test_a_failed_delivery_is_retried_with_the_same_event_id(app, hook, receiver):
    receiver.statuses.append(500)
    assert deliver(app).counts["retry"] == 1
    [message] = messages(app)
    assert (message.status, message.last_error) == ("pending", "the callback URL answered HTTP 500")
    assert deliver(app).claimed == 0, "waits for the backoff"
    make_due(app)
    assert deliver(app).counts["delivered"] == 1
    first, second = receiver.deliveries
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(message.id)
    assert messages(app)[0].status == "delivered"


def test_dead_after_the_maximum_number_of_attempts(app, hook, receiver):
    receiver.statuses.extend([500, 503, 502, 500])
    for _ in range(4):
        deliver(app)
        make_due(app)
    [message] = messages(app)
    assert (message.status, message.attempts, len(receiver.deliveries)) == ("dead", 3, 3)
    assert message.last_error == "the callback URL answered HTTP 502"


def test_redirects_are_not_followed(app, hook, receiver):
    receiver.statuses.append(307)
    assert deliver(app).counts["retry"] == 1
    assert len(receiver.deliveries) == 1
    assert "redirects are not followed" in messages(app)[0].last_error


def test_response_bodies_are_never_stored(app, hook, receiver):
    receiver.statuses.append(500)
    deliver(app)
    assert "must not store" not in json.dumps(messages(app)[0].model_dump(mode="json"))


def test_a_deleted_subscription_gets_nothing(app, hook, receiver):
    subscription_id, _, _ = hook
    with Session(app.state.engine) as session:
        session.get(Subscription, subscription_id).active = False
        session.commit()
    assert deliver(app).counts["dead"] == 1
    assert receiver.deliveries == [] and messages(app)[0].last_error == "the subscription was deleted"


def test_the_callback_url_is_checked_again_at_delivery(app, hook, receiver, monkeypatch):
    """Private targets allowed at registration, not any more at delivery: nothing is sent."""
    monkeypatch.setattr(app.state.settings, "webhook_allow_private_targets", False)
    assert deliver(app).counts["retry"] == 1
    assert receiver.deliveries == [] and "must be an https URL" in messages(app)[0].last_error


def test_the_outbound_client_refuses_private_addresses_on_connect(receiver, monkeypatch):
    """A name checked as public at registration that now resolves to 127.0.0.1 (DNS rebinding)."""
    receiver.reset()
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])
    with targets.http_client(allow_private=False, timeout=2) as client, pytest.raises(httpx.ConnectError) as info:
        client.post(f"http://hooks.example.nl:{receiver.port}/hooks", content=b"{}")
    assert "private" in str(info.value) and receiver.deliveries == []


def test_the_outbound_client_connects_to_the_checked_address(receiver, monkeypatch):
    """The connection goes to the address that passed the check, not to a second lookup."""
    receiver.reset()
    monkeypatch.setattr(targets, "_is_public", lambda address: address == "127.0.0.1")
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])
    with targets.http_client(allow_private=False, timeout=2) as client:
        assert client.post(f"http://hooks.example.nl:{receiver.port}/hooks", content=b"{}").status_code == 204
    assert receiver.deliveries[0].headers["host"] == f"hooks.example.nl:{receiver.port}"


def test_the_command_delivers_what_is_due_and_exits(receiver, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import Settings
    from app.factory import create_app

    receiver.reset()
    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "DATA_DIR": str(tmp_path),
                        "DEMO_MODE": "true", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "64"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    for args in (["migrate"], ["seed-demo", "--no-week"]):
        assert runner.invoke(cli, args).exit_code == 0
    app = create_app(Settings())
    add_subscription(app, receiver.url)
    with Session(app.state.engine) as session:
        outbox.notify(session, organisation_id=organisation_id(app, "UTR"), event_type="signal.received",
                      resource_type="signal", resource_id=uuid.uuid4())
        session.commit()
    result = runner.invoke(cli, ["webhooks", "deliver", "--once"])
    assert result.exit_code == 0 and result.output.strip() == "1 delivered, 0 retry, 0 dead"
    assert len(receiver.deliveries) == 1
    assert runner.invoke(cli, ["webhooks", "deliver", "--once"]).output.strip() == "0 delivered, 0 retry, 0 dead"


def test_a_submitted_signal_notifies_its_municipality_in_the_same_transaction(app, client, auth, receiver):
    from tests.factories import signal_body, submit

    add_subscription(app, receiver.url)
    signal = submit(client, auth("teacher"))
    [message] = messages(app)
    assert message.payload["data"] == {"resource_type": "signal", "resource_id": signal["id"],
                                       "href": f"/api/v1/signals/{signal['id']}"}
    replay = {"Idempotency-Key": "k-1", **auth("teacher")}
    for _ in range(2):
        client.post("/api/v1/signals", json=signal_body(), headers=replay)
    refused = client.post("/api/v1/signals", json=signal_body(categories=[]), headers=auth("teacher"))
    assert refused.status_code == 400 and len(messages(app)) == 2, "one per new signal, none for a replay"


def test_a_delivery_continues_the_trace_of_the_request_that_caused_it(app, client, auth, receiver):
    """The receiver's own log can link the event to the intake it came from (W3C traceparent)."""
    from tests.factories import signal_body

    add_subscription(app, receiver.url)
    trace, span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    response = client.post("/api/v1/signals", json=signal_body(),
                           headers=auth("teacher") | {"traceparent": f"00-{trace}-{span}-01"})
    assert response.status_code == 201
    with inspect_db(app) as session:
        [intake] = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace)).all()
    assert intake.parent_span_id == span and intake.span_id != span
    deliver(app)
    [delivery] = receiver.deliveries
    assert delivery.headers["traceparent"] == f"00-{trace}-{intake.span_id}-01"
