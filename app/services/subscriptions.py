"""Webhook subscriptions: register a callback URL (its secret is shown once), delete, redeliver."""

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.subscription_access import ACTIVITY, require_manager
from app.config import Settings
from app.errors import ApiError
from app.models import OutboxMessage, Subscription
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.outbox import MessageStatus, SubscriptionCreate
from app.services import targets, webhooks


def _refused(reason: str) -> ApiError:
    return ApiError(400, f"The callback_url is not accepted: {reason}.", "callback-url-refused",
                    errors=[{"name": "callback_url", "location": "body", "code": "callback_url_refused",
                             "reason": reason}])


def create(session: Session, auditor: Auditor, settings: Settings, data: SubscriptionCreate) -> tuple[Subscription, str]:
    """Returns the subscription and its signing secret, which is stored only encrypted."""
    principal = require_manager(auditor, Operation.create)
    try:
        targets.check_callback_url(data.callback_url, settings.webhook_private_targets_allowed,
                                   settings.demo_mode)
    except targets.TargetRefused as exc:
        raise _refused(str(exc)) from exc
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
