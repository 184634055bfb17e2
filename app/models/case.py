"""Cases (casussen): the person-centred approach for one person, and who takes part in it."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, utcnow
from app.validation import IsoDate, Text


class CaseStatus(StrEnum):
    intake = "intake"
    investigation = "investigation"
    approach = "approach"
    monitoring = "monitoring"
    closed = "closed"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    # Pages newest first: a municipality's (carrying the status, for statistics: migration 0018); of a
    # status and of all cases, for the member rule (migrations 0014, 0016).
    __table_args__ = (Index("ix_cases_municipality_created", "municipality_id", "created_at", "id",
                            postgresql_include=["status"]),
                      Index("ix_cases_status_created", "status", "created_at", "id"),
                      Index("ix_cases_created", "created_at", "id"))

    id: uuid.UUID = id_field()
    number: str = Field(max_length=20, unique=True)
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id")
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    status: str = Field(default=CaseStatus.intake, max_length=20)
    owner_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    risk_level: str | None = Field(default=None, max_length=10)
    risk_summary: str | None = Field(default=None, max_length=2000)
    risk_assessed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    risk_assessed_on: date | None = None
    next_review_date: date | None = None
    closure_reason: str | None = Field(default=None, max_length=2000)
    # Bumped on every change; the ETag is derived from it.
    version: int = 1
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseNumberSequence(SQLModel, table=True):
    """The last case number handed out per municipality and year."""

    __tablename__ = "case_number_sequences"

    municipality_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_number: int = 0


class CaseMember(SQLModel, table=True):
    """An organisation taking part in a case: the relationship that need-to-know rests on."""

    __tablename__ = "case_members"

    case_id: uuid.UUID = Field(foreign_key="cases.id", primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True, index=True)
    added_by: uuid.UUID
    added_at: datetime = created_at_field()


class CaseHistory(SQLModel, table=True):
    """Who changed what in a case, and when; readable by everyone who may read the case."""

    __tablename__ = "case_history"
    __table_args__ = (Index("ix_case_history_case_at", "case_id", "at"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="cases.id")
    at: datetime = created_at_field()
    actor_kind: str = Field(max_length=10)
    actor_id: uuid.UUID
    actor_name: str = Field(max_length=100)
    organisation_id: uuid.UUID
    change: str = Field(max_length=40)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


Reason = Text(2000, 10)
Summary = Text(2000)


class RiskAssessmentIn(SQLModel):
    model_config = {"extra": "forbid"}

    level: RiskLevel
    summary: Summary
    assessed_on: IsoDate


class CaseCreate(SQLModel):
    model_config = {"extra": "forbid"}

    person_id: uuid.UUID
    owner_user_id: uuid.UUID | None = None
    next_review_date: IsoDate | None = None


class CaseUpdate(SQLModel):
    """Only the fields sent change; `reason` is required to re-open a closed case."""

    model_config = {"extra": "forbid"}

    status: CaseStatus | None = None
    owner_user_id: uuid.UUID | None = None
    risk_assessment: RiskAssessmentIn | None = None
    next_review_date: IsoDate | None = None
    closure_reason: Reason | None = None
    reason: Reason | None = None


class RiskAssessment(SQLModel):
    level: RiskLevel
    summary: str
    assessed_by: uuid.UUID | None
    assessed_on: date


class CasePerson(SQLModel):
    """The person as a partner sees them: who, not where or which BSN."""

    id: uuid.UUID
    pseudonym: str
    name: str
    date_of_birth: date
    district: str | None


class CasePersonFull(CasePerson):
    bsn: str | None
    address: str | None


class CaseView(SQLModel):
    view: Literal["full", "partner"]
    id: uuid.UUID
    number: str
    status: CaseStatus
    municipality_id: uuid.UUID
    person: CasePersonFull | CasePerson
    owner_user_id: uuid.UUID | None
    risk_assessment: RiskAssessment | None
    next_review_date: date | None
    closure_reason: str | None
    emergency_access: bool = False
    created_at: datetime
    updated_at: datetime


class HistoryEntry(SQLModel):
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID
    actor_name: str
    organisation_id: uuid.UUID
    change: str
    details: dict


class MemberAdd(SQLModel):
    model_config = {"extra": "forbid"}

    organisation_id: uuid.UUID


class Member(SQLModel):
    organisation_id: uuid.UUID
    name: str
    kind: str
    added_at: datetime


