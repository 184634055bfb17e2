"""The transactional outbox and webhook subscriptions.

Nothing here is personal data: messages carry ids, kinds and API paths; a subscription's signing
secret is stored only encrypted (see `app/services/webhooks.py`).
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, utcnow


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
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
