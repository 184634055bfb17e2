"""Signals (signalen): one observation of concern from one reporter."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, field_validator
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, utcnow
from app.models.matching import SignalMatch
from app.models.person import PersonPublic
from app.validation import (
    Bsn,
    IsoDate,
    IsoDateTime,
    Text,
    check_date_of_birth,
    check_not_future,
)

MAX_DESCRIPTION = 5000


class SignalCategory(StrEnum):
    change_in_behaviour = "change_in_behaviour"
    extremist_expressions = "extremist_expressions"
    social_isolation = "social_isolation"
    travel_intent = "travel_intent"
    recruitment = "recruitment"
    online_propaganda = "online_propaganda"
    threat_of_violence = "threat_of_violence"
    family_concern = "family_concern"
    other = "other"


class Urgency(StrEnum):
    normal = "normal"
    high = "high"
    acute = "acute"


class Channel(StrEnum):
    in_person = "in_person"
    phone = "phone"
    email = "email"
    online = "online"
    registration_system = "registration_system"
    other = "other"


class SignalStatus(StrEnum):
    received = "received"
    in_triage = "in_triage"
    linked_to_case = "linked_to_case"
    no_further_action = "no_further_action"


class ReporterStatus(StrEnum):
    """What the reporter may know: whether the signal was picked up, nothing more."""

    received = "received"
    in_triage = "in_triage"
    picked_up = "picked_up"
    no_further_action = "no_further_action"


REPORTER_STATUS = {
    SignalStatus.received: ReporterStatus.received,
    SignalStatus.in_triage: ReporterStatus.in_triage,
    SignalStatus.linked_to_case: ReporterStatus.picked_up,
    SignalStatus.no_further_action: ReporterStatus.no_further_action,
}


class MatchReason(StrEnum):
    bsn = "bsn"
    name_and_date_of_birth = "name_and_date_of_birth"


class Signal(SQLModel, table=True):
    __tablename__ = "signals"
    __table_args__ = (
        # Carries what statistics count, so a period is read from the index alone (migration 0018).
        Index("ix_signals_municipality_created", "municipality_id", "created_at", "id",
              postgresql_include=["status", "urgency", "district", "triaged_at", "categories"]),
        Index("ix_signals_reporter_created", "reporter_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id")
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    # The subject as the reporter described them; the person record is the registry's.
    subject_name: str = Field(max_length=200)
    subject_date_of_birth: date
    subject_bsn: str | None = Field(default=None, max_length=9)
    subject_address: str | None = Field(default=None, max_length=300)
    reporter_kind: str = Field(max_length=10)
    reporter_id: uuid.UUID
    reporter_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    description: str = Field(max_length=MAX_DESCRIPTION)
    observed_at: datetime = Field(sa_type=UTCDateTime)
    urgency: str = Field(max_length=10)
    channel: str = Field(max_length=30)
    district: str | None = Field(default=None, max_length=100)
    status: str = Field(default=SignalStatus.received, max_length=20)
    match_reason: str | None = Field(default=None, max_length=30)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="cases.id", index=True)
    triage_reason: str | None = Field(default=None, max_length=2000)
    triaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    triaged_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


Text200 = Text(200)
Text300 = Text(300)
Text100 = Text(100)


class SubjectIn(SQLModel):
    model_config = {"extra": "forbid"}

    name: Text200
    date_of_birth: Annotated[IsoDate, AfterValidator(check_date_of_birth)]
    bsn: Bsn | None = None
    address: Text300 | None = None


class SubjectReported(SQLModel):
    name: str
    date_of_birth: date
    bsn: str | None
    address: str | None


class SignalCreate(SQLModel):
    model_config = {"extra": "forbid"}

    subject: SubjectIn
    categories: list[SignalCategory] = Field(min_length=1, max_length=len(SignalCategory),
                                             schema_extra={"json_schema_extra": {"uniqueItems": True}})
    description: Text(MAX_DESCRIPTION)
    observed_at: Annotated[IsoDateTime, AfterValidator(check_not_future)]
    urgency: Urgency = Urgency.normal
    channel: Channel
    district: Text100 | None = None
    municipality_id: uuid.UUID | None = Field(default=None, description=(
        "The municipality the signal is for, when your organisation works in several; "
        "by default your organisation's own"))

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[SignalCategory]) -> list[SignalCategory]:
        if len(set(value)) != len(value):
            raise ValueError("categories must not repeat")
        return value


class SignalReporterView(SQLModel):
    """A reporter's own signal: whether it was picked up, and nothing the registry knows."""

    view: Literal["reporter"] = "reporter"
    id: uuid.UUID
    status: ReporterStatus
    submitted_at: datetime


class ReporterRef(SQLModel):
    kind: Literal["user", "client"]
    id: uuid.UUID
    organisation_id: uuid.UUID


class SignalFullView(SQLModel):
    """The coordinator's view of a signal in their municipality."""

    view: Literal["full"] = "full"
    id: uuid.UUID
    status: SignalStatus
    municipality_id: uuid.UUID
    subject: SubjectReported
    person: PersonPublic
    match_reason: MatchReason | None
    categories: list[SignalCategory]
    description: str
    observed_at: datetime
    urgency: Urgency
    channel: Channel
    district: str | None
    reporter: ReporterRef
    case_id: uuid.UUID | None = None
    triage_reason: str | None = None
    matches: list[SignalMatch] | None = Field(
        default=None, description="Other signals and cases for this person, with why they matched (single reads)")
    created_at: datetime
    updated_at: datetime


SignalView = SignalFullView | SignalReporterView
