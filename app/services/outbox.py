"""The transactional outbox: what other code calls to send something out.

Contract:

- `notify(session, *, organisation_id, event_type, resource_type, resource_id) -> None`
  Call it in the same transaction as the change. Writes one webhook message per active subscription
  of `organisation_id` that subscribed to `event_type` (a `WebhookEvent` value: `signal.received`,
  `referral.received`, `referral.status_changed`, `action.assigned`); `resource_type` is a key of
  `RESOURCE_PATHS` (`signal`, `referral`, `action`). The event carries its id, type, time, the
  resource's type and id and the API path to fetch it; never personal data, so the receiver reads
  the details through the API, where access checks and audit apply.
- `enqueue(session, *, kind, payload, subscription_id=None) -> OutboxMessage`
  Any other kind of message (e.g. a referral document for another registry). Same transaction
  rule. `payload` is JSON without personal data (the outbox is not access-controlled like cases):
  store ids, and let the deliverer load what it sends at delivery time.
- `register_deliverer(kind, fn)` with `fn(session, message, http_client: httpx.Client) -> None`:
  performs one delivery of `message` or raises `DeliveryFailed(reason)` (retried with backoff,
  dead after WEBHOOK_MAX_ATTEMPTS) or `DeliveryFailed(reason, permanent=True)` (dead at once).
  `reason` is stored and shown to the subscriber: say what failed, never include a response body.
  `fn` must not commit; the worker commits the outcome and rolls back `fn`'s writes on failure.
  `session.info["settings"]` holds the worker's `Settings`.
  Delivery is at least once: receivers deduplicate on the message id. A message carries the trace
  context of the step that wrote it; `fn` runs inside that trace (app.tracing.current()) and sends
  `traceparent` on every request it makes, so the receiver's log links back to ours. The `http_client` refuses
  redirects and, unless WEBHOOK_ALLOW_PRIVATE_TARGETS, connections to private addresses. Register
  at import time of your module and list the module in `app.services.delivery.DELIVERER_MODULES`.
"""

import uuid
from collections.abc import Callable

from sqlalchemy import bindparam, select
from sqlmodel import Session

from app import tracing
from app.models import OutboxMessage, Subscription
from app.models.base import utcnow
from app.models.outbox import WebhookEvent

WEBHOOK_KIND = "webhook"
SUBSCRIPTIONS = Subscription.__table__
# Two columns, built once: this runs in every intake, where usually nobody subscribed.
ACTIVE_SUBSCRIPTIONS = select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.events).where(
    SUBSCRIPTIONS.c.organisation_id == bindparam("organisation_id"), SUBSCRIPTIONS.c.active)
# Where a receiver fetches the resource an event is about.
RESOURCE_PATHS = {"signal": "/api/v1/signals", "referral": "/api/v1/referrals", "action": "/api/v1/actions"}

Deliverer = Callable[[Session, OutboxMessage, object], None]
_deliverers: dict[str, Deliverer] = {}


class DeliveryFailed(Exception):
    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


def register_deliverer(kind: str, fn: Deliverer) -> None:
    _deliverers[kind] = fn


def deliverer(kind: str) -> Deliverer | None:
    return _deliverers.get(kind)


def enqueue(session: Session, *, kind: str, payload: dict, subscription_id: uuid.UUID | None = None) -> OutboxMessage:
    message = OutboxMessage(kind=kind, payload=payload, subscription_id=subscription_id,
                            traceparent=tracing.current_traceparent())
    session.add(message)
    return message


def notify(session: Session, *, organisation_id: uuid.UUID, event_type: str, resource_type: str,
           resource_id: uuid.UUID) -> None:
    event_type = WebhookEvent(event_type)
    path = f"{RESOURCE_PATHS[resource_type]}/{resource_id}"
    for subscription in session.execute(ACTIVE_SUBSCRIPTIONS, {"organisation_id": organisation_id}):
        if event_type not in subscription.events:
            continue
        # One id per delivery: it is the event id in the payload and the receiver's dedup key.
        event_id = uuid.uuid4()
        payload = {"id": str(event_id), "type": event_type.value, "occurred_at": utcnow().isoformat(),
                   "data": {"resource_type": resource_type, "resource_id": str(resource_id), "href": path}}
        session.add(OutboxMessage(id=event_id, kind=WEBHOOK_KIND, payload=payload, subscription_id=subscription.id,
                                  traceparent=tracing.current_traceparent()))
