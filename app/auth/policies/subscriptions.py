"""Webhook subscriptions and their deliveries: managed per organisation, by its administrator or by
its system with scope webhooks:manage. Another organisation's subscription does not exist for you.

They hold no personal data (events carry ids and an API path), but an event is only of use to a
subscriber that can read what it points at: a subscription is refused for an event whose resources
the subscriber cannot read (READABLE)."""

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import select

from app.audit.writer import Auditor, AuditorDep
from app.auth.principal import Principal, forbidden
from app.errors import not_found
from app.models import OutboxMessage, Role, Scope, Subscription
from app.models.audit import Operation
from app.models.outbox import WebhookEvent
from app.pagination import PageParams, keyset
from app.services.outbox import WEBHOOK_KIND

ACTIVITY = "webhook-management"
_OPERATIONS = {"GET": Operation.read, "DELETE": Operation.delete, "POST": Operation.update}


# Who can read the resource of an event, by the account that subscribes: a system by its scopes; the
# administrator for the organisation's systems, which must be the municipality itself for signals.
READABLE = {
    WebhookEvent.signal_received: lambda p: p.works_for_municipality and (
        p.has_scope(Scope.signals_read) if p.kind == "client" else True),
    WebhookEvent.action_assigned: lambda p: p.has_scope(Scope.actions_read) if p.kind == "client" else True,
    WebhookEvent.referral_received: lambda p: p.has_scope(Scope.referrals_receive) if p.kind == "client" else True,
    WebhookEvent.referral_status_changed: lambda p: p.has_scope(Scope.referrals_receive) if p.kind == "client"
    else True,
}


def unreadable_events(principal: Principal, events: list[WebhookEvent]) -> list[WebhookEvent]:
    return [event for event in events if not READABLE[event](principal)]


def require_manager(auditor: Auditor, operation: Operation, resource_id=None) -> Principal:
    principal = auditor.principal
    if not (principal.has_role(Role.admin) or principal.has_scope(Scope.webhooks_manage)):
        auditor.denied(operation, "subscription", resource_id, [], ACTIVITY)
        raise forbidden("Subscriptions are managed by the administrator or a system with scope webhooks:manage.")
    return principal


def _own(principal: Principal):
    return select(Subscription).where(Subscription.organisation_id == principal.organisation_id,
                                      Subscription.active)


def list_subscriptions(auditor: Auditor, page: PageParams) -> tuple[list[Subscription], bool]:
    principal = require_manager(auditor, Operation.list)
    rows = list(auditor.session.exec(keyset(_own(principal), page, Subscription.created_at, Subscription.id)).all())
    return rows[: page.size], len(rows) > page.size


def own_subscription(id: Annotated[uuid.UUID, Path(description="Subscription id")], auditor: AuditorDep) -> Subscription:
    operation = _OPERATIONS[auditor.request.method]
    principal = require_manager(auditor, operation, id)
    subscription = auditor.session.exec(_own(principal).where(Subscription.id == id)).first()
    if subscription is None:
        auditor.denied(operation, "subscription", id, [], ACTIVITY)
        raise not_found()
    return subscription


OwnSubscription = Annotated[Subscription, Depends(own_subscription)]


def _webhook_messages(subscription: Subscription):
    """The subscription's webhook events: other outbox kinds may name a subscription too (the outbox
    contract allows it) but are not events the deliveries API can describe."""
    return select(OutboxMessage).where(OutboxMessage.subscription_id == subscription.id,
                                       OutboxMessage.kind == WEBHOOK_KIND)


def list_deliveries(auditor: Auditor, subscription: Subscription, page: PageParams) -> tuple[list[OutboxMessage], bool]:
    query = _webhook_messages(subscription)
    rows = list(auditor.session.exec(keyset(query, page, OutboxMessage.created_at, OutboxMessage.id)).all())
    return rows[: page.size], len(rows) > page.size


def own_delivery(subscription: OwnSubscription,
                 delivery_id: Annotated[uuid.UUID, Path(description="Delivery (event) id")],
                 auditor: AuditorDep) -> OutboxMessage:
    message = auditor.session.exec(_webhook_messages(subscription).where(OutboxMessage.id == delivery_id)).first()
    if message is None:
        auditor.denied(Operation.update, "webhook_delivery", delivery_id, [], ACTIVITY)
        raise not_found()
    return message


OwnDelivery = Annotated[OutboxMessage, Depends(own_delivery)]
