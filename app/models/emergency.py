"""Emergency access (break-the-glass): time-limited read access outside one's rights, reviewed later."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field
from app.validation import Text

MIN_REASON = 30


class ReviewStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    misuse = "misuse"


class EmergencyAccess(SQLModel, table=True):
    __tablename__ = "emergency_accesses"
    # The privacy officer's list pages newest grant first, with or without a review status (migration 0015).
    __table_args__ = (Index("ix_emergency_accesses_actor_case", "actor_id", "case_id", "expires_at"),
                      Index("ix_emergency_accesses_granted", "granted_at", "id"),
                      Index("ix_emergency_accesses_review_status_granted", "review_status", "granted_at", "id"))

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="cases.id")
    actor_id: uuid.UUID
    actor_name: str = Field(max_length=100)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    reason: str = Field(max_length=2000)
    granted_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    review_status: str = Field(default=ReviewStatus.pending, max_length=10)
    reviewed_by: uuid.UUID | None = None
    review_note: str | None = Field(default=None, max_length=2000)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EmergencyRequest(SQLModel):
    model_config = {"extra": "forbid"}

    reason: Text(2000, MIN_REASON)


class Review(SQLModel):
    model_config = {"extra": "forbid"}

    outcome: Literal["approved", "misuse"]
    note: Text(2000)


class EmergencyAccessView(SQLModel):
    id: uuid.UUID
    case_id: uuid.UUID
    actor_id: uuid.UUID
    actor_name: str
    organisation_id: uuid.UUID
    reason: str
    granted_at: datetime
    expires_at: datetime
    review_status: ReviewStatus
    reviewed_by: uuid.UUID | None
    review_note: str | None
    reviewed_at: datetime | None
