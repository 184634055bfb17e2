"""Actions (afspraken): who does what by when, for a case, usually agreed in a meeting."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field
from app.validation import Text


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_owner_created", "owner_organisation_id", "created_at", "id"),
                      Index("ix_actions_case_status", "case_id", "status"),
                      Index("ix_actions_agenda_item_id", "agenda_item_id"))

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="cases.id")
    agenda_item_id: uuid.UUID | None = Field(default=None, foreign_key="agenda_items.id")
    description: str = Field(max_length=2000)
    owner_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    owner_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    due_date: date
    status: str = Field(default=ActionStatus.open, max_length=10)
    result_note: str | None = Field(default=None, max_length=2000)
    created_by: uuid.UUID
    created_at: datetime = created_at_field()
    closed_by: uuid.UUID | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Bumped on every change; the ETag is derived from it.
    version: int = 1


class ActionCreate(SQLModel):
    model_config = {"extra": "forbid"}

    description: Text(2000)
    owner_organisation_id: uuid.UUID
    owner_user_id: uuid.UUID | None = None
    due_date: date
    agenda_item_id: uuid.UUID | None = Field(default=None, description="The agenda item it was agreed at")


class ActionUpdate(SQLModel):
    """An open action becomes done or cancelled, with a note on the result."""

    model_config = {"extra": "forbid"}

    status: Literal[ActionStatus.done, ActionStatus.cancelled]
    result_note: Text(2000)


class ActionView(SQLModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    agenda_item_id: uuid.UUID | None
    description: str
    owner_organisation_id: uuid.UUID
    owner_user_id: uuid.UUID | None
    due_date: date
    status: ActionStatus
    overdue: bool
    result_note: str | None
    created_at: datetime
    closed_at: datetime | None
