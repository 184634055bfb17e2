"""The choke point for meetings and their agendas: who may know a meeting, who runs it, which agenda
items a caller sees in full (need-to-know inside the meeting), and the audit of each access."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import exists, false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep
from app.auth.case_access import ACTIVITY
from app.auth.principal import Principal, forbidden
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
    Person,
    Role,
    Signal,
)
from app.models.action import ActionStatus
from app.models.audit import Operation
from app.models.case import CaseStatus
from app.models.meeting import AgendaKind, MeetingStatus
from app.models.signal import SignalStatus
from app.pagination import PageParams, keyset


@dataclass(frozen=True)
class MeetingAccess:
    meeting: Meeting
    attendees: list[uuid.UUID]
    runs: bool  # the meeting's chair, or the coordinator of its municipality


def _meeting_conditions(principal: Principal) -> list:
    conditions = []
    if (municipality := principal.coordinated_municipality) is not None:
        conditions.append(Meeting.municipality_id == municipality)
    if principal.has_role(Role.chair):
        conditions.append(Meeting.chair_id == principal.id)
    if principal.has_role(Role.partner):
        conditions.append(exists().where(MeetingAttendee.meeting_id == Meeting.id,
                                         MeetingAttendee.organisation_id == principal.organisation_id))
    return conditions


def _visible_meetings(principal: Principal):
    conditions = _meeting_conditions(principal)
    return select(Meeting).where(or_(*conditions) if conditions else false())


def _runs(principal: Principal, meeting: Meeting) -> bool:
    return (meeting.municipality_id == principal.coordinated_municipality
            or (principal.has_role(Role.chair) and meeting.chair_id == principal.id))


def attendees_of(session: Session, meeting_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = session.exec(select(MeetingAttendee).where(MeetingAttendee.meeting_id.in_(meeting_ids))).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = {m: [] for m in meeting_ids}
    for row in rows:
        found[row.meeting_id].append(row.organisation_id)
    return {m: sorted(orgs) for m, orgs in found.items()}


def load_meeting(auditor: Auditor, meeting_id: uuid.UUID, lock: bool = False) -> MeetingAccess:
    """`lock`: changes to one meeting (and its agenda) run one at a time (PostgreSQL row lock)."""
    query = _visible_meetings(auditor.principal).where(Meeting.id == meeting_id)
    meeting = auditor.session.exec(query.with_for_update() if lock else query).first()
    if meeting is None:
        auditor.denied(Operation.read, "meeting", meeting_id, [], ACTIVITY)
        raise not_found()
    auditor.allowed(Operation.read, "meeting", meeting_id, [], ACTIVITY)
    return MeetingAccess(meeting, attendees_of(auditor.session, [meeting_id])[meeting_id],
                         _runs(auditor.principal, meeting))


def readable_meeting(id: Annotated[uuid.UUID, Path(description="Meeting id")], auditor: AuditorDep) -> MeetingAccess:
    return load_meeting(auditor, id)


def run_meeting(id: Annotated[uuid.UUID, Path(description="Meeting id")], auditor: AuditorDep) -> MeetingAccess:
    """A meeting the caller chairs or coordinates; attending partners get 403, the rest 404."""
    access = load_meeting(auditor, id, lock=True)
    if not access.runs:
        auditor.denied(Operation.update, "meeting", id, [], ACTIVITY)
        raise forbidden("Only the meeting's chair and the coordinator prepare and run it.")
    return access


ReadableMeeting = Annotated[MeetingAccess, Depends(readable_meeting)]
RunMeeting = Annotated[MeetingAccess, Depends(run_meeting)]


def planning_municipality(auditor: Auditor) -> uuid.UUID:
    """The municipality whose meetings the caller plans: as its coordinator or as a chair working for it."""
    p = auditor.principal
    if p.coordinated_municipality is not None:
        return p.coordinated_municipality
    if p.has_role(Role.chair) and p.municipality_id is not None and p.organisation_id == p.municipality_id:
        return p.municipality_id
    auditor.denied(Operation.create, "meeting", None, [], ACTIVITY)
    raise forbidden("Only a coordinator or a chair plans meetings.")


def list_meetings(auditor: Auditor, page: PageParams, status: str | None,
                  series_id: uuid.UUID | None) -> tuple[list[MeetingAccess], bool]:
    principal = auditor.principal
    if not _meeting_conditions(principal):
        auditor.denied(Operation.list, "meeting", None, [], ACTIVITY)
        raise forbidden("Your role gives no access to meetings.")
    query = _visible_meetings(principal)
    if status is not None:
        query = query.where(Meeting.status == status)
    if series_id is not None:
        query = query.where(Meeting.series_id == series_id)
    meetings = auditor.session.exec(keyset(query, page, Meeting.starts_at, Meeting.id)).all()
    shown = list(meetings[: page.size])
    attendees = attendees_of(auditor.session, [m.id for m in shown])
    auditor.allowed(Operation.list, "meeting", None, [], ACTIVITY, {"meeting_ids": [str(m.id) for m in shown]})
    return [MeetingAccess(m, attendees[m.id], _runs(principal, m)) for m in shown], len(meetings) > page.size


@dataclass(frozen=True)
class AgendaRow:
    item: AgendaItem
    case: Case
    person: Person
    full: bool


@dataclass(frozen=True)
class AgendaData:
    rows: list[AgendaRow]
    open_actions: dict[uuid.UUID, list[Action]]
    last_decisions: dict[uuid.UUID, tuple[AgendaItem, Meeting]]
    addenda: dict[uuid.UUID, list[AgendaAddendum]]


def _agenda_rows(session: Session, meeting_id: uuid.UUID) -> list[tuple[AgendaItem, Case, Person]]:
    query = (select(AgendaItem, Case, Person).join(Case, Case.id == AgendaItem.case_id)
             .join(Person, Person.id == Case.person_id)
             .where(AgendaItem.meeting_id == meeting_id, AgendaItem.removed_at.is_(None))
             .order_by(AgendaItem.position, AgendaItem.added_at))
    return list(session.exec(query).all())


def _fully_visible(auditor: Auditor, access: MeetingAccess, case_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those who run the meeting see every item; an attending partner only the cases its organisation
    takes part in. Everyone else who may see the meeting sees placeholders."""
    p = auditor.principal
    if access.runs:
        return set(case_ids)
    if not (p.has_role(Role.partner) and p.organisation_id in access.attendees):
        return set()
    query = select(CaseMember.case_id).where(CaseMember.case_id.in_(case_ids),
                                             CaseMember.organisation_id == p.organisation_id)
    return set(auditor.session.exec(query).all())


def _last_decisions(session: Session, meeting: Meeting, case_ids: list[uuid.UUID]):
    query = (select(AgendaItem, Meeting).join(Meeting, Meeting.id == AgendaItem.meeting_id)
             .where(AgendaItem.case_id.in_(case_ids), AgendaItem.decision.is_not(None),
                    AgendaItem.removed_at.is_(None), Meeting.starts_at < meeting.starts_at)
             .order_by(Meeting.starts_at))
    return {item.case_id: (item, earlier) for item, earlier in session.exec(query).all()}


def _grouped(rows, key) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(row)
    return grouped


def read_agenda(auditor: Auditor, access: MeetingAccess) -> AgendaData:
    """The agenda as this caller may see it; one audit event naming exactly the persons shown."""
    session = auditor.session
    found = _agenda_rows(session, access.meeting.id)
    full = _fully_visible(auditor, access, [c.id for _, c, _ in found])
    rows = [AgendaRow(item, case, person, case.id in full) for item, case, person in found]
    shown = [r for r in rows if r.full]
    case_ids = [r.case.id for r in shown]
    actions = session.exec(select(Action).where(Action.case_id.in_(case_ids), Action.status == ActionStatus.open)
                           .order_by(Action.due_date, Action.created_at)).all()
    addenda = session.exec(select(AgendaAddendum).where(AgendaAddendum.agenda_item_id.in_([r.item.id for r in shown]))
                           .order_by(AgendaAddendum.created_at)).all()
    auditor.allowed(Operation.read, "agenda", access.meeting.id, [r.person.pseudonym for r in shown], ACTIVITY,
                    {"shown_case_ids": [str(c) for c in case_ids],
                     "redacted_item_ids": [str(r.item.id) for r in rows if not r.full]})
    return AgendaData(rows, _grouped(actions, lambda a: a.case_id), _last_decisions(session, access.meeting, case_ids),
                      _grouped(addenda, lambda a: a.agenda_item_id))


def agenda_item(auditor: Auditor, access: MeetingAccess, item_id: uuid.UUID) -> AgendaRow:
    """An item on the agenda of a meeting the caller runs (so seen in full)."""
    row = next(((i, c, p) for i, c, p in _agenda_rows(auditor.session, access.meeting.id) if i.id == item_id), None)
    if row is None:
        auditor.denied(Operation.update, "agenda_item", item_id, [], ACTIVITY)
        raise not_found()
    return AgendaRow(*row, full=True)


def active_items(session: Session, meeting_id: uuid.UUID) -> list[AgendaItem]:
    return [item for item, _, _ in _agenda_rows(session, meeting_id)]


def case_for_agenda(auditor: Auditor, access: MeetingAccess,
                    case_id: uuid.UUID) -> tuple[Case, Person, AgendaItem | None]:
    """A case of the meeting's municipality, and its item on this agenda if it ever had one."""
    session = auditor.session
    row = session.exec(select(Case, Person).join(Person, Person.id == Case.person_id).where(
        Case.id == case_id, Case.municipality_id == access.meeting.municipality_id)).first()
    if row is None:
        auditor.denied(Operation.create, "agenda_item", access.meeting.id, [], ACTIVITY, {"case_id": str(case_id)})
        raise ApiError(400, "Unknown case.", errors=[{"name": "case_id", "location": "body", "code": "unknown_case",
                                                      "reason": "no such case in this municipality"}])
    item = session.exec(select(AgendaItem).where(AgendaItem.meeting_id == access.meeting.id,
                                                 AgendaItem.case_id == case_id)).first()
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


def _reasons(session: Session, meeting: Meeting) -> dict[uuid.UUID, dict[AgendaKind, str]]:
    """Per open case of the municipality, every reason it belongs on this meeting's agenda."""
    open_cases, day = _open_cases(meeting.municipality_id), meeting.starts_at.date()
    signals = select(Signal.case_id, func.min(Signal.triaged_at)).where(
        Signal.case_id.in_(open_cases), Signal.status == SignalStatus.linked_to_case,
        Signal.triaged_at <= meeting.starts_at, ~_discussed_since_triage(meeting))
    queries = {
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
    reasons: dict[uuid.UUID, dict[AgendaKind, str]] = {}
    for kind, (query, text) in queries.items():
        for case_id, value in session.exec(query).all():
            reasons.setdefault(case_id, {}).setdefault(kind, text.format(value))
    return reasons


def agenda_candidates(session: Session, meeting: Meeting) -> list[Candidate]:
    """Cases to add when building the agenda: not yet on it (nor removed from it by the chair),
    ordered by kind, then case number."""
    reasons = _reasons(session, meeting)
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
    return list(session.exec(select(ClosureProposal).where(
        ClosureProposal.case_id.in_(case_ids), ClosureProposal.resolved_meeting_id.is_(None))).all())


def chairs_open_meeting_on(session: Session, principal: Principal, case_id: uuid.UUID) -> bool:
    """Whether the caller chairs a meeting, not yet closed, with the case on its agenda."""
    if not principal.has_role(Role.chair):
        return False
    query = select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(
        AgendaItem.case_id == case_id, AgendaItem.removed_at.is_(None), Meeting.chair_id == principal.id,
        Meeting.status != MeetingStatus.closed)
    return session.exec(query).first() is not None


def agenda_item_of_case(session: Session, item_id: uuid.UUID, case_id: uuid.UUID) -> AgendaItem | None:
    return session.exec(select(AgendaItem).where(AgendaItem.id == item_id, AgendaItem.case_id == case_id,
                                                 AgendaItem.removed_at.is_(None))).first()
