"""Information items: what an organisation brings into a case, shared only where it says so."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field
from app.validation import IsoDate, Text, check_not_future_date

MAX_ITEM_TEXT = 10000


class ItemKind(StrEnum):
    police = "police"
    care = "care"
    education = "education"
    youth_work = "youth_work"
    municipality = "municipality"
    other = "other"
    # An expert pool's answer to a request for assessment (duidingsverzoek).
    assessment = "assessment"


class InformationItem(SQLModel, table=True):
    """One version of an item. A correction adds a version with the same item_id; none is edited."""

    __tablename__ = "information_items"
    __table_args__ = (UniqueConstraint("item_id", "version"), Index("ix_information_items_case", "case_id", "item_id"))

    id: uuid.UUID = id_field()
    item_id: uuid.UUID = Field(index=True)
    version: int = 1
    case_id: uuid.UUID = Field(foreign_key="cases.id")
    kind: str = Field(max_length=20)
    text: str = Field(max_length=MAX_ITEM_TEXT)
    source: str = Field(max_length=300)
    date: date
    contributor_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    contributor_id: uuid.UUID
    contributor_name: str = Field(max_length=100)
    correction_reason: str | None = Field(default=None, max_length=2000)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class ItemShare(SQLModel, table=True):
    """Which organisations an item (all its versions) is shared with."""

    __tablename__ = "item_shares"

    item_id: uuid.UUID = Field(primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True, index=True)


ItemText = Text(MAX_ITEM_TEXT)
Source = Text(300)
PastDate = Annotated[IsoDate, check_not_future_date]


class ItemCreate(SQLModel):
    model_config = {"extra": "forbid"}

    kind: ItemKind
    text: ItemText
    source: Source
    date: PastDate
    shared_with: list[uuid.UUID] | None = Field(default=None, max_length=50, description=(
        "Member organisations that may see the item; default: the municipality and your organisation"))


class ItemCorrection(SQLModel):
    model_config = {"extra": "forbid"}

    text: ItemText
    source: Source | None = None
    date: PastDate | None = None
    reason: Text(2000, 10)


class ItemVersion(SQLModel):
    version: int
    text: str
    source: str
    date: date
    contributor_name: str
    correction_reason: str | None
    created_at: datetime


class ItemView(SQLModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: ItemKind
    version: int
    text: str
    source: str
    date: date
    contributor_organisation_id: uuid.UUID
    contributor_name: str
    shared_with: list[uuid.UUID]
    previous_versions: list[ItemVersion]
    created_at: datetime
