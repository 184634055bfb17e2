"""Schemas for person search and for the matches a coordinator sees on a signal."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import model_validator
from sqlmodel import SQLModel

from app.models.case import CaseStatus
from app.validation import Bsn, IsoDate, Text

MatchKind = Literal["bsn", "name_and_date_of_birth", "name_and_date_of_birth_bsn_differs"]


class PersonSearch(SQLModel):
    """In the body, never in the URL: a BSN or a name and date of birth."""

    model_config = {"extra": "forbid"}

    bsn: Bsn | None = None
    name: Text(200) | None = None
    date_of_birth: IsoDate | None = None

    @model_validator(mode="after")
    def _enough_to_search(self) -> "PersonSearch":
        if self.bsn is None and (self.name is None or self.date_of_birth is None):
            raise ValueError("give a bsn, or a name and a date_of_birth")
        return self


class CaseRef(SQLModel):
    id: uuid.UUID
    number: str
    status: CaseStatus


class PersonCandidate(SQLModel):
    """The minimum to decide whether to link: who, why it matched, which cases exist."""

    id: uuid.UUID
    name: str
    date_of_birth: date
    match: MatchKind
    cases: list[CaseRef]
    signal_count: int


class PersonCandidates(SQLModel):
    items: list[PersonCandidate]


class SignalMatch(SQLModel):
    kind: Literal["signal", "case"]
    id: uuid.UUID
    number: str | None
    status: str
    created_at: datetime
    reason: MatchKind
