"""Webhook subscriptions of your organisation, and their deliveries."""

from fastapi import APIRouter, Request, Response

from app.audit.writer import AuditorDep
from app.auth.policies.subscriptions import (
    OwnDelivery,
    OwnSubscription,
    list_deliveries,
    list_subscriptions,
)
from app.db import SessionDep
from app.models.outbox import (
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)
from app.pagination import Page, PageDep, encode_cursor
from app.services import subscriptions

router = APIRouter(prefix="/subscriptions", tags=["webhooks"])


class SubscriptionPage(Page[SubscriptionPublic]):
    """One page of subscriptions, newest first."""


class DeliveryPage(Page[DeliveryPublic]):
    """One page of deliveries, newest first."""


@router.post("", status_code=201, response_model=SubscriptionCreated, summary="Subscribe a callback URL to events")
def create_subscription(data: SubscriptionCreate, request: Request, response: Response, session: SessionDep,
                        auditor: AuditorDep):
    subscription, secret = subscriptions.create(session, auditor, request.app.state.settings, data)
    response.headers["Location"] = f"{request.url.path}/{subscription.id}"
    return SubscriptionCreated(**SubscriptionPublic.model_validate(subscription, from_attributes=True).model_dump(),
                               secret=secret)


@router.get("", response_model=SubscriptionPage, summary="Your organisation's subscriptions")
def list_own_subscriptions(auditor: AuditorDep, page: PageDep):
    rows, more = list_subscriptions(auditor, page)
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return SubscriptionPage(items=[SubscriptionPublic.model_validate(r, from_attributes=True) for r in rows],
                            next_cursor=cursor)


@router.get("/{id}", response_model=SubscriptionPublic, summary="Read one subscription (without its secret)")
def read_subscription(subscription: OwnSubscription):
    return SubscriptionPublic.model_validate(subscription, from_attributes=True)


@router.delete("/{id}", status_code=204, summary="Delete a subscription: nothing more is delivered")
def delete_subscription(subscription: OwnSubscription, session: SessionDep, auditor: AuditorDep):
    subscriptions.delete(session, auditor, subscription)
    return Response(status_code=204)


@router.get("/{id}/deliveries", response_model=DeliveryPage, summary="The subscription's events and their delivery")
def list_subscription_deliveries(subscription: OwnSubscription, auditor: AuditorDep, page: PageDep):
    rows, more = list_deliveries(auditor, subscription, page)
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return DeliveryPage(items=[DeliveryPublic.of(r) for r in rows], next_cursor=cursor)


@router.post("/{id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryPublic,
             responses={409: {"description": "The delivery is still pending: it is retried automatically"}},
             summary="Deliver a delivered or dead event again, with the same event id")
def redeliver(delivery: OwnDelivery, session: SessionDep, auditor: AuditorDep):
    return DeliveryPublic.of(subscriptions.redeliver(session, auditor, delivery))
