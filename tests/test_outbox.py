"""The outbox contract (notify, enqueue, deliverers) and the worker: claims, retries, dead letters."""

import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from app.models import OutboxMessage, Subscription
from app.models.base import utcnow
from app.services import delivery, outbox
from app.services.outbox import DeliveryFailed
from tests.webhook_helpers import add_subscription, make_due, messages, organisation_id

RECORDED: list[uuid.UUID] = []
_lock = threading.Lock()


def _record(session, message, http_client):
    with _lock:
        RECORDED.append(message.id)


def _fail(session, message, http_client):
    raise DeliveryFailed("the other registry answered HTTP 503")


def _give_up(session, message, http_client):
    raise DeliveryFailed("no endpoint registered for the recipient", permanent=True)


def _buggy(session, message, http_client):
    session.add(Subscription(organisation_id=uuid.uuid4(), callback_url="x", events=[], secret_encrypted="x",
                             key_id="whk_should_roll_back", created_by="bug"))
    raise RuntimeError("Jan de Vries")


def _slow(session, message, http_client):
    time.sleep(0.01)
    _record(session, message, http_client)


for _kind, _fn in {"test.record": _record, "test.fail": _fail, "test.give_up": _give_up, "test.buggy": _buggy,
                   "test.slow": _slow}.items():
    outbox.register_deliverer(_kind, _fn)


@pytest.fixture
def settings(app, client, monkeypatch):
    RECORDED.clear()
    monkeypatch.setattr(app.state.settings, "webhook_max_attempts", 3)
    return app.state.settings


def _enqueue(app, kind: str, count: int = 1) -> list[uuid.UUID]:
    with Session(app.state.engine) as session:
        ids = [outbox.enqueue(session, kind=kind, payload={"n": n}).id for n in range(count)]
        session.commit()
    return ids


def _run(app):
    no_network = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(599)))
    return delivery.deliver_due(app.state.engine, app.state.settings, no_network)


class TestNotify:
    def _notify(self, app, code="UTR", event="signal.received"):
        resource_id = uuid.uuid4()
        with Session(app.state.engine) as session:
            outbox.notify(session, organisation_id=organisation_id(app, code), event_type=event,
                          resource_type="signal", resource_id=resource_id)
            session.commit()
        return resource_id

    def test_one_message_per_active_subscription_of_the_organisation_for_the_event(self, app, settings):
        mine, _ = add_subscription(app, "https://a.example/h", ["signal.received", "referral.received"])
        add_subscription(app, "https://b.example/h", ["referral.received"])
        add_subscription(app, "https://c.example/h", ["signal.received"], code="ARN")
        inactive, _ = add_subscription(app, "https://d.example/h", ["signal.received"])
        with Session(app.state.engine) as session:
            session.get(Subscription, inactive).active = False
            session.commit()
        resource_id = self._notify(app)
        [message] = messages(app)
        assert (message.kind, message.subscription_id, message.status) == ("webhook", mine, "pending")
        assert message.payload == {
            "id": str(message.id), "type": "signal.received", "occurred_at": message.payload["occurred_at"],
            "data": {"resource_type": "signal", "resource_id": str(resource_id),
                     "href": f"/api/v1/signals/{resource_id}"}}

    def test_nothing_without_subscriptions(self, app, settings):
        self._notify(app)
        assert messages(app) == []

    def test_an_unknown_event_type_is_a_programming_error(self, app, settings):
        with pytest.raises(ValueError):
            self._notify(app, event="signal.deleted")

    def test_written_in_the_callers_transaction(self, app, settings):
        add_subscription(app, "https://a.example/h")
        with Session(app.state.engine) as session:
            outbox.notify(session, organisation_id=organisation_id(app, "UTR"), event_type="signal.received",
                          resource_type="signal", resource_id=uuid.uuid4())
            session.rollback()
        assert messages(app) == []


class TestWorker:
    def test_delivers_through_the_registered_deliverer(self, app, settings):
        [message_id] = _enqueue(app, "test.record")
        run = _run(app)
        [message] = messages(app)
        assert run.counts == {"delivered": 1, "retry": 0, "dead": 0} and RECORDED == [message_id]
        assert (message.status, message.attempts, message.last_error) == ("delivered", 1, None)
        assert message.delivered_at is not None
        assert _run(app).claimed == 0 and RECORDED == [message_id]

    def test_a_failure_is_retried_later_with_backoff(self, app, settings):
        _enqueue(app, "test.fail")
        before = utcnow()
        assert _run(app).counts["retry"] == 1
        [message] = messages(app)
        assert (message.status, message.attempts) == ("pending", 1)
        assert message.last_error == "the other registry answered HTTP 503"
        base = settings.webhook_retry_base_seconds
        assert before + timedelta(seconds=base / 2) <= message.next_attempt_at
        assert message.next_attempt_at <= utcnow() + timedelta(seconds=base)
        assert _run(app).claimed == 0, "not due yet"

    def test_dead_after_the_maximum_number_of_attempts(self, app, settings):
        _enqueue(app, "test.fail")
        outcomes = []
        for _ in range(4):
            outcomes.append(_run(app).counts)
            make_due(app)
        assert [o["retry"] for o in outcomes] == [1, 1, 0, 0] and [o["dead"] for o in outcomes] == [0, 0, 1, 0]
        [message] = messages(app)
        assert (message.status, message.attempts) == ("dead", 3)

    def test_a_permanent_failure_is_dead_at_once(self, app, settings):
        _enqueue(app, "test.give_up")
        assert _run(app).counts["dead"] == 1
        assert messages(app)[0].last_error == "no endpoint registered for the recipient"

    def test_an_unexpected_error_is_retried_and_its_writes_rolled_back(self, app, settings, caplog):
        _enqueue(app, "test.buggy")
        assert _run(app).counts["retry"] == 1
        assert messages(app)[0].last_error == "internal error (RuntimeError)"
        with Session(app.state.engine) as session:
            assert session.exec(select(Subscription).where(Subscription.created_by == "bug")).first() is None
        assert "Jan de Vries" not in caplog.text

    def test_an_unknown_kind_waits_for_a_deliverer(self, app, settings):
        _enqueue(app, "test.nobody")
        assert _run(app).counts["retry"] == 1
        assert messages(app)[0].last_error == "no deliverer for kind 'test.nobody'"

    def test_a_claimed_message_is_claimed_again_only_after_its_lease(self, app, settings):
        """A worker that dies after claiming loses nothing: the message returns when the lease ends."""
        [message_id] = _enqueue(app, "test.record")
        assert delivery.claim(app.state.engine, settings, utcnow(), 10).ids == [message_id]
        assert _run(app).claimed == 0
        [message] = messages(app)
        lease = message.next_attempt_at - utcnow()
        assert timedelta(seconds=settings.webhook_lease_seconds - 5) < lease
        make_due(app)
        assert _run(app).counts["delivered"] == 1 and messages(app)[0].attempts == 1

    def test_a_message_whose_lease_ran_out_in_a_slow_batch_is_left_to_its_new_claim(self, app, settings):
        """Worker A claimed a batch; its deliveries took longer than the lease, so worker B claimed and
        delivered the rest meanwhile. A must not deliver them a second time, nor count an attempt."""
        ids = _enqueue(app, "test.record", 2)
        first = delivery.claim(app.state.engine, settings, utcnow(), 10)
        make_due(app)
        second = delivery.claim(app.state.engine, settings, utcnow(), 10)
        assert set(first.ids) == set(second.ids) == set(ids) and first.lease_until != second.lease_until
        client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(599)))
        for message_id in ids:
            assert delivery.deliver_one(app.state.engine, settings, client, message_id, first.lease_until) is None
            assert delivery.deliver_one(app.state.engine, settings, client, message_id, second.lease_until) == "delivered"
            assert delivery.deliver_one(app.state.engine, settings, client, message_id, first.lease_until) is None
        assert sorted(RECORDED) == sorted(ids)
        assert {(m.status, m.attempts) for m in messages(app)} == {("delivered", 1)}


def test_backoff_is_exponential_capped_and_jittered(app):
    settings = app.state.settings
    base, cap = settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds
    assert delivery.backoff_seconds(1, settings, rng=lambda: 0.0) == base / 2
    assert delivery.backoff_seconds(1, settings, rng=lambda: 1.0) == base
    assert delivery.backoff_seconds(3, settings, rng=lambda: 1.0) == 4 * base
    assert delivery.backoff_seconds(30, settings, rng=lambda: 1.0) == cap


@pytest.fixture
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are a PostgreSQL feature; SQLite runs one worker")


def test_a_claim_skips_rows_another_worker_holds(app, settings, postgresql_only):
    ids = _enqueue(app, "test.record", 6)
    with Session(app.state.engine) as other_worker:
        held = other_worker.exec(select(OutboxMessage).order_by(OutboxMessage.next_attempt_at).limit(2)
                                 .with_for_update()).all()
        claimed = delivery.claim(app.state.engine, settings, utcnow(), 100).ids
        assert set(claimed) == set(ids) - {m.id for m in held} and len(claimed) == 4
        other_worker.rollback()


def test_concurrent_workers_never_deliver_a_message_twice(app, settings, postgresql_only):
    ids = _enqueue(app, "test.slow", 40)
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(599)))
    workers = [threading.Thread(target=delivery.deliver_due, args=(app.state.engine, settings, client, 3))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(RECORDED) == sorted(ids), "each message delivered exactly once"
    assert {m.status for m in messages(app)} == {"delivered"}


@pytest.mark.parametrize(("key", "message"), [(None, "WEBHOOK_SECRET_KEY must be set"),
                                              ("not-a-fernet-key", "Fernet key")])
def test_production_refuses_the_demo_or_an_invalid_secret_key(tmp_path, key, message):
    from app.config import Settings

    values = dict(demo_mode=False, person_match_key="k" * 40, jwt_private_key_file=tmp_path / "k.pem")
    if key is not None:
        values["webhook_secret_key"] = key
    with pytest.raises(ValueError, match=message):
        Settings(**values)
