"""Agenda items: which items of a meeting's agenda a caller sees in full, and what building an agenda reads.

Whoever may know of the meeting (policies/meetings.py) sees every item's place: its number, case
number and kind. In full (the person, the reason, open actions, the last decision, minutes):

| relationship | who |
|---|---|
| coordinator | the coordinator of the case's municipality |
| chair | the meeting's chair, inside its window: from the agenda's building until CHAIR_ACCESS_DAYS_AFTER_CLOSE days after it closed (policies/cases.py) |
| member | an attending partner whose organisation takes part in the case |

The others see a placeholder. Which is which is decided in SQL, and the read is audited with exactly
the persons shown. What the case's signals are about (categories, urgency, district, the kind of the
reporting organisation) only the coordinator and the chair see, who read those signals themselves
(policies/signals.py); a partner does not. Building an agenda reads the municipality's open cases for
those due on it; it is for those who run the meeting, and only for meetings starting within
AGENDA_HORIZON_DAYS.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.audit.writer import Auditor
from app.auth.policies.cases import CASUSOVERLEG as ACTIVITY
from app.auth.policies.cases import chair_window
from app.auth.policies.meetings import MeetingAccess
from app.auth.policy import Policy, Rule, Viewer
from app.errors import ApiError, not_found
from app.models import (
    Action,
    AgendaAddendum,
    AgendaItem,
    Case,
    CaseMember,
    ClosureProposal,
    Meeting,
    MeetingAttendee,
    Organisation,
    Person,
    Role,
    Signal,
)
from app.models.action import ActionStatus
from app.models.audit import Operation
from app.models.case import CaseStatus
from app.models.meeting import AgendaKind, MeetingStatus
from app.models.signal import SignalStatus

ROWS = (select(AgendaItem, Case, Person).join(Case, Case.id == AgendaItem.case_id)
        .join(Person, Person.id == Case.person_id).where(AgendaItem.removed_at.is_(None)))


def _attending_member(viewer: Viewer):
    org = viewer.principal.organisation_id
    return and_(exists().where(CaseMember.case_id == Case.id, CaseMember.organisation_id == org),
                exists().where(MeetingAttendee.meeting_id == AgendaItem.meeting_id,
                               MeetingAttendee.organisation_id == org))


FULL_RULES = (
    Rule("coordinator", "full", lambda p: p.coordinated_municipality is not None,
         lambda v: Case.municipality_id == v.principal.coordinated_municipality),
    Rule("chair", "full", lambda p: p.municipal_chair,
         lambda v: AgendaItem.meeting_id.in_(select(Meeting.id).where(*chair_window(v)))),
    Rule("member", "full", lambda p: p.has_role(Role.partner), _attending_member),
)
SIGNAL_READERS = ("coordinator", "chair")  # the relationships that read the case's signals too
POLICY = Policy("agenda", ACTIVITY, FULL_RULES, ROWS, id=AgendaItem.id, order=(AgendaItem.added_at, AgendaItem.id),
                pseudonyms=lambda row: [row.Person.pseudonym], municipality=lambda row: row.Case.municipality_id)


@dataclass(frozen=True)
class AgendaRow:
    item: AgendaItem
    case: Case
    person: Person
    full: bool
    signals: bool = False  # whether the caller reads the case's signals (coordinator, chair)


@dataclass(frozen=True)
class CaseSignal:
    """What an agenda shows of a signal: never whom it names or what it says."""

    id: uuid.UUID
    case_id: uuid.UUID
    categories: list[str]
    urgency: str
    district: str | None
    triaged_at: datetime
    reporter_kind: str  # the kind of the reporting organisation, not the organisation
    new: bool  # triaged since the case was last on an earlier meeting's agenda


@dataclass(frozen=True)
class AgendaData:
    rows: list[AgendaRow]
    open_actions: dict[uuid.UUID, list[Action]]
    last_decisions: dict[uuid.UUID, tuple[AgendaItem, Meeting]]
    addenda: dict[uuid.UUID, list[AgendaAddendum]]
    # Per case: its signals new for this meeting, newest first, or else its latest one.
    signals: dict[uuid.UUID, list[CaseSignal]] = field(default_factory=dict)
    # Per agenda item: the actions agreed at it.
    agreed_actions: dict[uuid.UUID, list[Action]] = field(default_factory=dict)


def _rows(auditor: Auditor, meeting_id: uuid.UUID) -> list[AgendaRow]:
    """The agenda's items in order, each with whether the caller sees it in full (one query)."""
    rules = POLICY.rules_for(auditor.principal)
    viewer = Viewer.of(auditor)
    full = or_(*[rule.where(viewer) for rule in rules]) if rules else None
    readers = [rule.where(viewer) for rule in rules if rule.name in SIGNAL_READERS]
    query = ROWS.where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position, AgendaItem.added_at)
    if full is not None:
        query = query.add_columns(full.label("full"), (or_(*readers) if readers else false()).label("signals"))
    with POLICY.context():
        rows = auditor.session.execute(query).all()
    return [AgendaRow(row.AgendaItem, row.Case, row.Person, full is not None and bool(row.full),
                      full is not None and bool(row.full) and bool(row.signals)) for row in rows]


def _grouped(rows, key) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(row)
    return grouped


def _details(session: Session, meeting: Meeting, shown: list[AgendaRow]) -> AgendaData:
    case_ids = [r.case.id for r in shown]
    with POLICY.context():
        actions = session.exec(select(Action).where(Action.case_id.in_(case_ids), Action.status == ActionStatus.open)
                               .order_by(Action.due_date, Action.created_at)).all()
        addenda = session.exec(select(AgendaAddendum).where(
            AgendaAddendum.agenda_item_id.in_([r.item.id for r in shown])).order_by(AgendaAddendum.created_at)).all()
        decisions = session.exec(select(AgendaItem, Meeting).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(
            AgendaItem.case_id.in_(case_ids), AgendaItem.decision.is_not(None), AgendaItem.removed_at.is_(None),
            Meeting.starts_at < meeting.starts_at).order_by(Meeting.starts_at)).all()
        agreed = session.exec(select(Action).where(Action.agenda_item_id.in_([r.item.id for r in shown]))
                              .order_by(Action.due_date, Action.created_at)).all()
    return AgendaData(shown, _grouped(actions, lambda a: a.case_id),
                      {item.case_id: (item, earlier) for item, earlier in decisions},
                      _grouped(addenda, lambda a: a.agenda_item_id), _signals(session, meeting, shown),
                      _grouped(agreed, lambda a: a.agenda_item_id))


def _signals(session: Session, meeting: Meeting, shown: list[AgendaRow]) -> dict[uuid.UUID, list[CaseSignal]]:
    """Per case shown: the signals new for this meeting (they make the item urgent), or else the latest."""
    query = (select(Signal.id, Signal.case_id, Signal.categories, Signal.urgency, Signal.district, Signal.triaged_at,
                    Organisation.kind.label("reporter_kind"), (~_discussed_since_triage(meeting)).label("new"))
             .join(Organisation, Organisation.id == Signal.reporter_organisation_id)
             .join(Case, Case.id == Signal.case_id)
             .where(Signal.case_id.in_([r.case.id for r in shown]), Signal.municipality_id == Case.municipality_id,
                    Signal.status == SignalStatus.linked_to_case, Signal.triaged_at <= meeting.starts_at)
             .order_by(Signal.triaged_at.desc(), Signal.id))
    with POLICY.context():
        found = _grouped([CaseSignal(**row._asdict() | {"new": bool(row.new)}) for row in session.exec(query).all()],
                         lambda s: s.case_id)
    return {case_id: [s for s in signals if s.new] or signals[:1] for case_id, signals in found.items()}


def read_agenda(auditor: Auditor, access: MeetingAccess) -> AgendaData:
    """The agenda as this caller may see it; one audit event naming exactly the persons shown."""
    rows = _rows(auditor, access.meeting.id)
    shown = [r for r in rows if r.full]
    data = _details(auditor.session, access.meeting, shown)
    auditor.allowed(Operation.read, "agenda", access.meeting.id, [r.person.pseudonym for r in shown], ACTIVITY,
                    {"shown_case_ids": [str(r.case.id) for r in shown],
                     "redacted_item_ids": [str(r.item.id) for r in rows if not r.full]},
                    municipality_id=access.meeting.municipality_id)
    return replace(data, rows=rows)


def agenda_item(auditor: Auditor, access: MeetingAccess, item_id: uuid.UUID) -> AgendaRow:
    """An item on the agenda of a meeting the caller runs, to change it."""
    row = next((r for r in _rows(auditor, access.meeting.id) if r.item.id == item_id), None)
    if row is None:
        auditor.denied(Operation.update, "agenda_item", item_id, [], ACTIVITY)
        raise not_found()
    return row


def active_items(session: Session, meeting_id: uuid.UUID) -> list[AgendaItem]:
    query = (select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.removed_at.is_(None))
             .order_by(AgendaItem.position, AgendaItem.added_at))
    with POLICY.context():
        return list(session.exec(query).all())


def case_for_agenda(auditor: Auditor, access: MeetingAccess,
                    case_id: uuid.UUID) -> tuple[Case, Person, AgendaItem | None]:
    """A case of the meeting's municipality, and its item on this agenda if it ever had one."""
    session = auditor.session
    with POLICY.context():
        row = session.exec(select(Case, Person).join(Person, Person.id == Case.person_id).where(
            Case.id == case_id, Case.municipality_id == access.meeting.municipality_id)).first()
        item = session.exec(select(AgendaItem).where(AgendaItem.meeting_id == access.meeting.id,
                                                     AgendaItem.case_id == case_id)).first()
    if row is None:
        auditor.denied(Operation.create, "agenda_item", access.meeting.id, [], ACTIVITY, {"case_id": str(case_id)})
        raise ApiError(400, "Unknown case.", errors=[{"name": "case_id", "location": "body", "code": "unknown_case",
                                                      "reason": "no such case in this municipality"}])
    return row[0], row[1], item


@dataclass(frozen=True)
class Candidate:
    case_id: uuid.UUID
    number: str
    pseudonym: str
    kind: AgendaKind
    reason: str


def _open_cases(municipality_id: uuid.UUID):
    return select(Case.id).where(Case.municipality_id == municipality_id, Case.status != CaseStatus.closed)


def _discussed_since_triage(meeting: Meeting):
    """Whether the signal's case was on an earlier meeting's agenda after the signal was triaged: added
    to it afterwards, or on it when that meeting started. Not the previous meeting's start as a boundary:
    a signal triaged between that agenda's build and its start would then never reach any agenda."""
    earlier = aliased(Meeting)
    return exists().where(AgendaItem.case_id == Signal.case_id, AgendaItem.removed_at.is_(None),
                          earlier.id == AgendaItem.meeting_id, earlier.starts_at < meeting.starts_at,
                          or_(AgendaItem.added_at >= Signal.triaged_at, earlier.starts_at >= Signal.triaged_at))


def _reason_queries(meeting: Meeting) -> dict:
    open_cases, day = _open_cases(meeting.municipality_id), meeting.starts_at.date()
    signals = select(Signal.case_id, func.min(Signal.triaged_at)).where(
        Signal.case_id.in_(open_cases), Signal.status == SignalStatus.linked_to_case,
        Signal.triaged_at <= meeting.starts_at, ~_discussed_since_triage(meeting))
    return {
        AgendaKind.new_signal: (signals.group_by(Signal.case_id), "new signal triaged on {:%Y-%m-%d}"),
        AgendaKind.review: (select(Case.id, Case.next_review_date).where(
            Case.id.in_(open_cases), Case.next_review_date <= day), "review date {}"),
        AgendaKind.overdue_actions: (select(Action.case_id, func.min(Action.due_date)).where(
            Action.case_id.in_(open_cases), Action.status == ActionStatus.open, Action.due_date < day)
            .group_by(Action.case_id), "action overdue since {}"),
        AgendaKind.closure_proposal: (select(ClosureProposal.case_id, ClosureProposal.reason).where(
            ClosureProposal.case_id.in_(open_cases), ClosureProposal.resolved_meeting_id.is_(None)),
            "proposed for closure: {}"),
    }


def _reasons(session: Session, meeting: Meeting) -> dict[uuid.UUID, dict[AgendaKind, str]]:
    """Per open case of the municipality, every reason it belongs on this meeting's agenda."""
    reasons: dict[uuid.UUID, dict[AgendaKind, str]] = {}
    with POLICY.context():
        for kind, (query, text) in _reason_queries(meeting).items():
            for case_id, value in session.exec(query).all():
                reasons.setdefault(case_id, {}).setdefault(kind, text.format(value))
    return reasons


def agenda_candidates(session: Session, access: MeetingAccess) -> list[Candidate]:
    """Cases to add when building the agenda of a meeting the caller runs: not yet on it (nor removed
    from it by the chair), ordered by kind, then case number."""
    meeting = access.meeting
    reasons = _reasons(session, meeting)
    with POLICY.context():
        existing = set(session.exec(select(AgendaItem.case_id).where(AgendaItem.meeting_id == meeting.id)).all())
        ids = [c for c in reasons if c not in existing]
        cases = session.exec(select(Case.id, Case.number, Person.pseudonym).join(Person, Person.id == Case.person_id)
                             .where(Case.id.in_(ids))).all()
    order = list(AgendaKind)
    found = []
    for case_id, number, pseudonym in cases:
        kinds = sorted(reasons[case_id], key=order.index)
        found.append(Candidate(case_id, number, pseudonym, kinds[0], "; ".join(reasons[case_id][k] for k in kinds)))
    return sorted(found, key=lambda c: (order.index(c.kind), c.number))


def decided_items(session: Session, meeting_id: uuid.UUID) -> list[AgendaItem]:
    return [item for item in active_items(session, meeting_id) if item.decision is not None]


def open_closure_proposals(session: Session, case_ids: list[uuid.UUID]) -> list[ClosureProposal]:
    with POLICY.context():
        return list(session.exec(select(ClosureProposal).where(
            ClosureProposal.case_id.in_(case_ids), ClosureProposal.resolved_meeting_id.is_(None))).all())


def chairs_open_meeting_on(session: Session, viewer: Viewer, case_id: uuid.UUID) -> bool:
    """Whether the viewer chairs a meeting, not yet closed, with the case on its agenda (inside the window)."""
    if not viewer.principal.municipal_chair:
        return False
    query = select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(
        AgendaItem.case_id == case_id, AgendaItem.removed_at.is_(None), Meeting.status != MeetingStatus.closed,
        *chair_window(viewer))
    with POLICY.context():
        return session.exec(query).first() is not None


def agenda_item_of_case(session: Session, item_id: uuid.UUID, case_id: uuid.UUID) -> AgendaItem | None:
    with POLICY.context():
        return session.exec(select(AgendaItem).where(AgendaItem.id == item_id, AgendaItem.case_id == case_id,
                                                     AgendaItem.removed_at.is_(None))).first()
