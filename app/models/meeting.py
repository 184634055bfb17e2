"""Meetings (casusoverleg): the weekly case conference, its attendees, agenda, minutes and decisions."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.action import ActionStatus
from app.models.base import UTCDateTime, created_at_field, id_field
from app.models.case import CasePerson, CaseStatus
from app.models.organisation import OrganisationKind
from app.models.signal import SignalCategory, Urgency
from app.validation import Text

MAX_MINUTES = 10000
MAX_SERIES = 52


class MeetingStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    closed = "closed"


class AgendaKind(StrEnum):
    """Why a case is on the agenda; the build uses the first that applies, in this order."""

    closure_proposal = "closure_proposal"
    new_signal = "new_signal"
    overdue_actions = "overdue_actions"
    review = "review"
    case_discussion = "case_discussion"


class Decision(StrEnum):
    continue_approach = "continue_approach"
    start_referral = "start_referral"
    request_assessment = "request_assessment"
    close_case = "close_case"
    no_change = "no_change"


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"
    # Pages in start order: a municipality's, with or without a status; across municipalities, the
    # meetings a partner attends (migration 0013).
    __table_args__ = (Index("ix_meetings_municipality_starts", "municipality_id", "starts_at", "id"),
                      Index("ix_meetings_municipality_status_starts", "municipality_id", "status", "starts_at", "id"),
                      Index("ix_meetings_status_starts", "status", "starts_at", "id"),
                      Index("ix_meetings_starts", "starts_at", "id"))

    id: uuid.UUID = id_field()
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id")
    # Meetings planned in one call as a weekly series share this id.
    series_id: uuid.UUID | None = Field(default=None, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    chair_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    location: str | None = Field(default=None, max_length=300)
    status: str = Field(default=MeetingStatus.planned, max_length=20)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: uuid.UUID
    created_at: datetime = created_at_field()
    # Bumped on every change to the meeting or its agenda; the ETag is derived from it.
    version: int = 1


class MeetingAttendee(SQLModel, table=True):
    """An organisation attending a meeting: partners see the agenda only through this."""

    __tablename__ = "meeting_attendees"

    meeting_id: uuid.UUID = Field(foreign_key="meetings.id", primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True, index=True)


class AgendaItem(SQLModel, table=True):
    """A case on a meeting's agenda (once per meeting), with its minutes and decision.

    Removed items stay as a tombstone so that rebuilding the agenda respects the chair's removal.
    """

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: uuid.UUID = id_field()
    meeting_id: uuid.UUID = Field(foreign_key="meetings.id")
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    position: int
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=2000)
    urgent: bool = False
    added_by: uuid.UUID
    added_at: datetime = created_at_field()
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes: str | None = Field(default=None, max_length=MAX_MINUTES)
    decision: str | None = Field(default=None, max_length=30)
    closure_reason: str | None = Field(default=None, max_length=2000)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgendaAddendum(SQLModel, table=True):
    """A correction to the minutes of a closed meeting: appended and attributed, never an edit."""

    __tablename__ = "agenda_addenda"

    id: uuid.UUID = id_field()
    agenda_item_id: uuid.UUID = Field(foreign_key="agenda_items.id", index=True)
    text: str = Field(max_length=MAX_MINUTES)
    author_id: uuid.UUID
    author_name: str = Field(max_length=100)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    created_at: datetime = created_at_field()


class ClosureProposal(SQLModel, table=True):
    """A proposal to close a case, put on the next agenda; resolved when a meeting decides on the case."""

    __tablename__ = "closure_proposals"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    reason: str = Field(max_length=2000)
    proposed_by: uuid.UUID
    proposed_at: datetime = created_at_field()
    resolved_meeting_id: uuid.UUID | None = Field(default=None, foreign_key="meetings.id")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a timezone offset")
    return value


StartsAt = Annotated[datetime, AfterValidator(_aware)]
Location = Text(300)
Organisations = Annotated[list[uuid.UUID], Field(max_length=50)]


class MeetingCreate(SQLModel):
    model_config = {"extra": "forbid"}

    starts_at: StartsAt
    chair_id: uuid.UUID
    attending_organisation_ids: Organisations = Field(default_factory=list)
    location: Location | None = None
    repeat_weekly: int | None = Field(default=None, ge=2, le=MAX_SERIES, description=(
        "Plan a weekly series: this many meetings, one week apart, starting at starts_at"))


class MeetingUpdate(SQLModel):
    """Only the fields sent change; `status` moves planned → in_progress → closed."""

    model_config = {"extra": "forbid"}

    # Leaving them out keeps them; their types refuse null (the document says so: not nullable), so
    # no one blanks a required field.
    starts_at: StartsAt = Field(default=None)
    chair_id: uuid.UUID = Field(default=None)
    attending_organisation_ids: Organisations | None = None
    location: Location | None = None
    status: MeetingStatus | None = None


class MeetingView(SQLModel):
    id: uuid.UUID
    municipality_id: uuid.UUID
    series_id: uuid.UUID | None
    starts_at: datetime
    chair_id: uuid.UUID
    attending_organisation_ids: list[uuid.UUID]
    location: str | None
    status: MeetingStatus
    started_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class AgendaItemCreate(SQLModel):
    model_config = {"extra": "forbid"}

    case_id: uuid.UUID
    kind: AgendaKind = AgendaKind.case_discussion
    reason: Text(2000) = "added by the chair"
    urgent: bool = False


class AgendaItemUpdate(SQLModel):
    """Preparing (position, urgent) until the meeting closes; minutes and decision while it runs."""

    model_config = {"extra": "forbid"}

    position: int | None = Field(default=None, ge=1, le=1000)
    urgent: bool | None = None
    minutes: Text(MAX_MINUTES) | None = None
    decision: Decision | None = None
    closure_reason: Text(2000, 10) | None = None


class AddendumCreate(SQLModel):
    model_config = {"extra": "forbid"}

    text: Text(MAX_MINUTES)


class Addendum(SQLModel):
    id: uuid.UUID
    text: str
    author_id: uuid.UUID
    author_name: str
    organisation_id: uuid.UUID
    created_at: datetime


class OpenAction(SQLModel):
    id: uuid.UUID
    description: str
    owner_organisation_id: uuid.UUID
    owner_user_id: uuid.UUID | None
    due_date: date
    overdue: bool


class AgreedAction(SQLModel):
    """An action agreed at this agenda item, as it stands now."""

    id: uuid.UUID
    description: str
    owner_organisation_id: uuid.UUID
    owner_user_id: uuid.UUID | None
    due_date: date
    status: ActionStatus
    result_note: str | None


class AgendaSignal(SQLModel):
    """What a signal of the case is about: no description, no reporter, only the kind of organisation that
    reported it."""

    id: uuid.UUID
    categories: list[SignalCategory]
    urgency: Urgency
    district: str | None
    reporter_organisation_kind: OrganisationKind
    triaged_at: datetime | None
    new: bool = Field(description="Triaged into the case since it was last on an earlier meeting's agenda")


URGENT_SIGNAL = frozenset({Urgency.high, Urgency.acute})


class LastDecision(SQLModel):
    decision: Decision
    meeting_id: uuid.UUID
    meeting_starts_at: datetime


class AgendaItemFull(SQLModel):
    view: Literal["full"] = "full"
    id: uuid.UUID
    position: int
    kind: AgendaKind
    urgent: bool = Field(description=(
        "Marked urgent by the chair, or a signal new for this meeting (see signals) has urgency high or acute"))
    marked_urgent: bool = Field(description="Marked urgent by the chair (what PATCH sets as urgent)")
    case_id: uuid.UUID
    case_number: str
    case_status: CaseStatus
    person: CasePerson
    reason: str
    signals: list[AgendaSignal] | None = Field(description=(
        "The signals triaged into the case since it was last discussed, newest first, or else its latest signal; "
        "null for a partner, who does not read signals"))
    open_actions: list[OpenAction]
    last_decision: LastDecision | None
    minutes: str | None
    decision: Decision | None
    closure_reason: str | None
    agreed_actions: list[AgreedAction] = Field(description="The actions agreed at this item, as they stand now")
    addenda: list[Addendum]


class AgendaItemRedacted(SQLModel):
    """An item of a case the caller's organisation does not take part in: its place, not its person."""

    view: Literal["redacted"] = "redacted"
    id: uuid.UUID
    position: int
    kind: AgendaKind
    case_number: str


class Agenda(SQLModel):
    meeting: MeetingView
    items: list[AgendaItemFull | AgendaItemRedacted]


class ClosureProposalCreate(SQLModel):
    model_config = {"extra": "forbid"}

    reason: Text(2000, 10)


class ClosureProposalView(SQLModel):
    id: uuid.UUID
    case_id: uuid.UUID
    reason: str
    proposed_by: uuid.UUID
    proposed_at: datetime
    resolved_meeting_id: uuid.UUID | None
