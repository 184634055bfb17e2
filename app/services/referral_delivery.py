"""Referrals between registries, through the outbox: a referral to an external municipality is
delivered to its registry's POST /inbound-referrals; status changes travel to the other registry's
POST /referrals/{id}/accept|decline|complete|withdraw. Each call uses a client-credentials token of
the other registry (the client it registered for us, see `casusregister register-endpoint`).

Outbox messages hold ids only; the personal data are rendered at delivery time by
`app.auth.policies.referrals`, which audits the disclosure."""

import uuid
from collections.abc import Callable

import httpx
from sqlmodel import Session, select

from app import tracing
from app.auth.policies import referrals as referral_access
from app.models import ExternalEndpoint, OutboxMessage, Scope
from app.models.outbox import MessageStatus
from app.models.referral import Referral, ReferralDirection, ReferralStatus
from app.services import outbox
from app.services.endpoints import client_secret, endpoint_of
from app.services.outbox import DeliveryFailed

DELIVER = "referral.deliver"
STATUS = "referral.status"
ACTIONS = {ReferralStatus.accepted: "accept", ReferralStatus.declined: "decline",
           ReferralStatus.completed: "complete", ReferralStatus.withdrawn: "withdraw"}
# Answers that a retry cannot change (409: the other registry refuses the transition in its state).
PERMANENT = {400, 401, 403, 404, 405, 409, 413, 415, 422}


def is_external(session: Session, referral: Referral) -> bool:
    """Whether the other party of the referral is another registry."""
    if referral.direction == ReferralDirection.incoming:
        return True
    return endpoint_of(session, referral.recipient_organisation_id) is not None


def queue_delivery(session: Session, referral: Referral) -> None:
    outbox.enqueue(session, kind=DELIVER, payload={"referral_id": str(referral.id)})


def queue_status(session: Session, referral: Referral) -> None:
    outbox.enqueue(session, kind=STATUS, payload={"referral_id": str(referral.id), "status": referral.status})


def _token(http: httpx.Client, session: Session, link: ExternalEndpoint, scope: Scope) -> str:
    form = {"grant_type": "client_credentials", "client_id": link.client_id, "scope": scope.value,
            "client_secret": client_secret(session.info["settings"], link)}
    response = _call(http, "POST", link.token_url, data=form)
    try:
        return response.json()["access_token"]
    except (ValueError, KeyError) as exc:
        raise DeliveryFailed("the token endpoint answered without an access token") from exc


def _call(http: httpx.Client, method: str, url: str, headers: dict | None = None, **kwargs) -> httpx.Response:
    # The span of the latest step (the disclosure, where one was audited): the other registry's events link to it.
    headers = (headers or {}) | {"traceparent": tracing.outgoing_traceparent()}
    try:
        response = http.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__} calling the other registry") from exc
    if response.status_code in (200, 201):
        return response
    reason = f"the other registry answered HTTP {response.status_code} on {method} {httpx.URL(url).path}"
    raise DeliveryFailed(reason, permanent=response.status_code in PERMANENT)


def _send(http: httpx.Client, session: Session, link: ExternalEndpoint, scope: Scope, path: str,
          render: Callable[[], dict]) -> httpx.Response:
    """The document is rendered (and its disclosure audited) only once a token was granted."""
    token = _token(http, session, link, scope)
    return _call(http, "POST", link.base_url.rstrip("/") + path, json=render(),
                 headers={"Authorization": f"Bearer {token}"})


def deliver_referral(session: Session, message: OutboxMessage, http: httpx.Client) -> None:
    """POST {base}/api/v1/inbound-referrals with only the shared fields; remembers the id it got there."""
    referral = referral_access.referral_for_delivery(session, uuid.UUID(message.payload["referral_id"]))
    if referral.status != ReferralStatus.sent:
        return  # withdrawn before it was delivered: nothing goes out
    link = endpoint_of(session, referral.recipient_organisation_id)
    if link is None:
        raise DeliveryFailed("the recipient's registry is no longer registered", permanent=True)
    response = _send(http, session, link, Scope.referrals_send, "/api/v1/inbound-referrals",
                     lambda: referral_access.delivery_document(session, referral))
    referral.external_reference = str(response.json()["id"])
    session.add(referral)


def _delivery_pending(session: Session, referral_id: uuid.UUID) -> bool:
    query = select(OutboxMessage).where(OutboxMessage.kind == DELIVER, OutboxMessage.status == MessageStatus.pending)
    return any(m.payload.get("referral_id") == str(referral_id) for m in session.exec(query).all())


def deliver_status(session: Session, message: OutboxMessage, http: httpx.Client) -> None:
    """The status change, to the other registry: the recipient's answer to the sender (scope
    referrals:receive there), the sender's withdrawal to the recipient (scope referrals:send)."""
    referral = referral_access.referral_for_delivery(session, uuid.UUID(message.payload["referral_id"]))
    incoming = referral.direction == ReferralDirection.incoming
    other = referral.sender_organisation_id if incoming else referral.recipient_organisation_id
    reference = referral.sender_reference if incoming else referral.external_reference
    link = endpoint_of(session, other)
    if link is None:
        raise DeliveryFailed("the other registry is no longer registered", permanent=True)
    if reference is None:
        if not _delivery_pending(session, referral.id):
            return  # never delivered (withdrawn first, or the delivery failed): nothing to tell
        raise DeliveryFailed("the other registry has not confirmed the referral yet")
    action = ACTIONS[ReferralStatus(message.payload["status"])]
    scope = Scope.referrals_receive if incoming else Scope.referrals_send
    _send(http, session, link, scope, f"/api/v1/referrals/{reference}/{action}",
          lambda: referral_access.status_document(session, referral))


outbox.register_deliverer(DELIVER, deliver_referral)
outbox.register_deliverer(STATUS, deliver_status)
