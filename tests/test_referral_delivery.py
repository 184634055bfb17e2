"""Delivering a referral to another registry when that registry fails: retried, or dead at once for
an answer a retry cannot change; the disclosure is on record before anything is sent."""

import httpx
from sqlmodel import select

from app.models import AuditEvent
from app.services import delivery
from tests.db import inspect_db
from tests.referral_helpers import API, ARNHEM, case_with_items, link_arnhem, ok, refer
from tests.webhook_helpers import make_due, messages


def _deliver(app, answers: dict[str, int], traces: list[str] | None = None) -> tuple[dict, list[str]]:
    """One worker run against a fake Arnhem answering `answers` per path; returns counts and calls (and
    collects each call's `traceparent` in `traces`)."""
    calls = []

    def arnhem(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if traces is not None:
            traces.append(request.headers.get("traceparent"))
        status = answers.get(request.url.path, 201)
        body = {"access_token": "t"} if request.url.path.endswith("/token") else {"id": "b-1"}
        return httpx.Response(status, json=body)

    with httpx.Client(transport=httpx.MockTransport(arnhem)) as http:
        return delivery.deliver_due(app.state.engine, app.state.settings, http_client=http).counts, calls


def _disclosures(app, referral_id: str) -> int:
    with inspect_db(app) as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.resource_id == referral_id,
                                                         AuditEvent.operation == "disclose")).all())


def test_an_unreachable_registry_is_retried_and_the_attempt_is_audited(client, auth, app):
    link_arnhem(app)
    referral = refer(client, auth, case_with_items(client, auth), "ARN")
    counts, calls = _deliver(app, {"/api/v1/inbound-referrals": 503})
    assert counts["retry"] == 1 and calls == ["/api/v1/auth/token", "/api/v1/inbound-referrals"]
    assert _disclosures(app, referral["id"]) == 1
    make_due(app)
    counts, _ = _deliver(app, {})
    assert counts["delivered"] == 1 and _disclosures(app, referral["id"]) == 2
    [message] = messages(app, kind="referral.deliver")
    assert message.status == "delivered" and message.last_error is None


def test_a_refused_token_is_dead_at_once_and_sends_nothing(client, auth, app):
    link_arnhem(app)
    referral = refer(client, auth, case_with_items(client, auth), "ARN")
    counts, calls = _deliver(app, {"/api/v1/auth/token": 401})
    assert counts["dead"] == 1 and calls == ["/api/v1/auth/token"] and _disclosures(app, referral["id"]) == 0
    [message] = messages(app, kind="referral.deliver")
    assert message.last_error == "the other registry answered HTTP 401 on POST /api/v1/auth/token"
    assert ARNHEM not in message.last_error


def test_a_transition_the_other_registry_refuses_is_dead_at_once(client, auth, app):
    link_arnhem(app)
    referral = refer(client, auth, case_with_items(client, auth), "ARN")
    assert _deliver(app, {})[0]["delivered"] == 1
    ok(client.post(f"{API}/referrals/{referral['id']}/withdraw", json={}, headers=auth("coordinator")))
    counts, calls = _deliver(app, {"/api/v1/referrals/b-1/withdraw": 409})
    assert counts["dead"] == 1 and calls == ["/api/v1/auth/token", "/api/v1/referrals/b-1/withdraw"]


def test_every_call_to_the_other_registry_continues_the_referrals_trace(client, auth, app):
    """The token request and the delivery carry the trace of the request that made the referral; the
    delivery names the disclosure as its parent, so Arnhem's events link to it."""
    link_arnhem(app)
    referral = refer(client, auth, case_with_items(client, auth), "ARN")
    traces: list[str] = []
    assert _deliver(app, {}, traces)[0]["delivered"] == 1
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.resource_id == referral["id"])).all()
    [made] = [e for e in events if e.operation == "create"]
    [disclosed] = [e for e in events if e.operation == "disclose"]
    assert disclosed.trace_id == made.trace_id and disclosed.parent_span_id == made.span_id
    token, document = traces
    assert token == f"00-{made.trace_id}-{made.span_id}-01"  # before the disclosure: the step that made it
    assert document == f"00-{made.trace_id}-{disclosed.span_id}-01"
