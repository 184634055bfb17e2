"""Webhook subscriptions: register a callback URL (its secret is shown once), delete, redeliver."""

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies.subscriptions import ACTIVITY, require_manager, unreadable_events
from app.auth.principal import Principal
from app.config import Settings
from app.errors import ApiError
from app.models import OutboxMessage, Subscription
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.outbox import MessageStatus, SubscriptionCreate
from app.services import targets, webhooks


def _refusals(principal: Principal, settings: Settings, data: SubscriptionCreate) -> list[dict[str, str]]:
    """Every reason to refuse the subscription: a callback URL we will not call, and events whose
    resources the subscriber could not read (their href would answer 404 to it)."""
    errors = []
    try:
        targets.check_callback_url(data.callback_url, settings.webhook_private_targets_allowed, settings.demo_mode)
    except targets.TargetRefused as exc:
        errors.append({"name": "callback_url", "location": "body", "code": "callback_url_refused", "reason": str(exc)})
    errors += [{"name": "events", "location": "body", "code": "event_not_readable",
                "reason": f"{event}: you cannot read the resources this event is about"}
               for event in unreadable_events(principal, data.events)]
    return errors


def create(session: Session, auditor: Auditor, settings: Settings, data: SubscriptionCreate) -> tuple[Subscription, str]:
    """Returns the subscription and its signing secret, which is stored only encrypted."""
    principal = require_manager(auditor, Operation.create)
    errors = _refusals(principal, settings, data)
    if errors:
        detail = "; ".join(f"{e['name']}: {e['reason']}" for e in errors)
        slug = "callback-url-refused" if errors[0]["name"] == "callback_url" else "event-not-readable"
        raise ApiError(400, f"The subscription is not accepted ({detail}).", slug, errors=errors)
    secret = webhooks.new_secret()
    subscription = Subscription(organisation_id=principal.organisation_id, callback_url=data.callback_url,
                                events=[e.value for e in data.events], key_id=webhooks.new_key_id(),
                                secret_encrypted=webhooks.encrypt_secret(settings, secret),
                                created_by=principal.actor)
    session.add(subscription)
    session.flush()
    auditor.allowed(Operation.create, "subscription", subscription.id, [], ACTIVITY,
                    {"events": subscription.events})
    return subscription, secret


def delete(session: Session, auditor: Auditor, subscription: Subscription) -> None:
    """Deactivates: nothing more is delivered, pending deliveries included; the record stays."""
    subscription.active = False
    session.add(subscription)
    auditor.allowed(Operation.delete, "subscription", subscription.id, [], ACTIVITY)


def redeliver(session: Session, auditor: Auditor, message: OutboxMessage) -> OutboxMessage:
    """Sends a delivered or dead event again, with the same event id, as soon as a worker runs."""
    if message.status == MessageStatus.pending:
        raise ApiError(409, "This delivery is still pending; it is retried automatically.")
    message.status, message.attempts, message.next_attempt_at = MessageStatus.pending, 0, utcnow()
    message.last_error = message.delivered_at = None
    session.add(message)
    auditor.allowed(Operation.update, "webhook_delivery", message.id, [], ACTIVITY, {"redeliver": True})
    return message
