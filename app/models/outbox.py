"""The transactional outbox and webhook subscriptions.

Nothing here is personal data: messages carry ids, kinds and API paths; a subscription's signing
secret is stored only encrypted (see `app/services/webhooks.py`).
"""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, utcnow
from app.validation import Text


class WebhookEvent(StrEnum):
    signal_received = "signal.received"
    referral_received = "referral.received"
    referral_status_changed = "referral.status_changed"
    action_assigned = "action.assigned"


class MessageStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    callback_url: str = Field(max_length=2000)
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Fernet token of the signing secret (WEBHOOK_SECRET_KEY); the secret is shown once, on creation.
    secret_encrypted: str = Field(max_length=500)
    key_id: str = Field(max_length=40, unique=True)
    # Deleting deactivates: the deliveries stay inspectable for the record, nothing more is sent.
    active: bool = True
    created_by: str = Field(max_length=80)
    created_at: datetime = created_at_field()


class OutboxMessage(SQLModel, table=True):
    """One message to deliver; its id is the event id receivers deduplicate on."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_subscription_created", "subscription_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=40)
    subscription_id: uuid.UUID | None = Field(default=None, foreign_key="subscriptions.id")
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=MessageStatus.pending, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Why the last attempt failed, in our words (status code, error kind); never a response body.
    last_error: str | None = Field(default=None, max_length=500)
    # The W3C trace context of the step that wrote the message: its delivery continues that trace.
    traceparent: str | None = Field(default=None, max_length=55)
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SubscriptionCreate(SQLModel):
    model_config = {"extra": "forbid"}

    callback_url: Text(2000) = Field(description="https URL that receives the events (POST, signed)")
    events: list[WebhookEvent] = Field(min_length=1, max_length=len(WebhookEvent))

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[WebhookEvent]) -> list[WebhookEvent]:
        if len(set(value)) != len(value):
            raise ValueError("events must not repeat")
        return value


class SubscriptionPublic(SQLModel):
    id: uuid.UUID
    callback_url: str
    events: list[WebhookEvent]
    key_id: str = Field(description="Sent as webhook-key-id with every delivery signed by this secret")
    created_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="Signing secret (whsec_…): shown only in this response; store it safely")


class DeliveryPublic(SQLModel):
    """One event for a subscription and how its delivery went; `id` is the event id (webhook-id)."""

    id: uuid.UUID
    event_type: WebhookEvent
    resource_type: str
    resource_id: uuid.UUID
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, message: OutboxMessage) -> "DeliveryPublic":
        data = message.payload["data"]
        pending = message.status == MessageStatus.pending
        return cls(id=message.id, event_type=message.payload["type"], resource_type=data["resource_type"],
                   resource_id=data["resource_id"], status=message.status, attempts=message.attempts,
                   next_attempt_at=message.next_attempt_at if pending else None, last_error=message.last_error,
                   created_at=message.created_at, delivered_at=message.delivered_at)
