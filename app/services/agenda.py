"""The agenda: built from the registry, prepared by the chair, minuted and decided in the meeting."""

from datetime import date, timedelta

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies import meetings as meeting_policy
from app.auth.policies.agendas import (
    AgendaData,
    AgendaRow,
    active_items,
    agenda_candidates,
    case_for_agenda,
    decided_items,
    open_closure_proposals,
)
from app.auth.policies.cases import ACTIVITY, CASUSOVERLEG, CaseAccess, load_case
from app.auth.policies.meetings import MeetingAccess
from app.errors import ApiError
from app.models import AgendaAddendum, AgendaItem, ClosureProposal, Meeting
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.case import CasePerson, CaseStatus, CaseUpdate
from app.models.meeting import (
    URGENT_SIGNAL,
    Addendum,
    AddendumCreate,
    Agenda,
    AgendaItemCreate,
    AgendaItemFull,
    AgendaItemRedacted,
    AgendaItemUpdate,
    AgendaSignal,
    AgreedAction,
    ClosureProposalCreate,
    Decision,
    LastDecision,
    MeetingStatus,
    MeetingView,
    OpenAction,
)
from app.services import cases

STALE = "The meeting or its agenda was changed since you read it; read it again."


def bump(session: Session, meeting: Meeting) -> None:
    """A new version of the meeting and its agenda (the ETag changes), if no one else made one first."""
    meeting_policy.POLICY.save(session, meeting.id, meeting.version, {}, STALE)


def _not_closed(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.closed:
        raise ApiError(409, "A closed meeting is immutable; add an addendum to correct its minutes.", "meeting-closed")


def _within_horizon(auditor: Auditor, meeting: Meeting) -> None:
    """Putting cases on an agenda opens the chair's access to them: only for a meeting that is near."""
    days = auditor.settings.agenda_horizon_days
    if meeting.starts_at > utcnow() + timedelta(days=days):
        raise ApiError(409, f"The meeting starts more than {days} days from now (AGENDA_HORIZON_DAYS): its agenda "
                            "is built closer to the date.", "beyond-agenda-horizon")


def build(session: Session, auditor: Auditor, access: MeetingAccess) -> int:
    """Adds what is due and not on the agenda yet (nor removed from it by the chair): idempotent."""
    meeting = access.meeting
    _not_closed(meeting)
    _within_horizon(auditor, meeting)
    candidates = agenda_candidates(session, access)
    last = max((i.position for i in active_items(session, meeting.id)), default=0)
    session.add_all(AgendaItem(meeting_id=meeting.id, case_id=c.case_id, position=last + n, kind=c.kind,
                               reason=c.reason, added_by=auditor.principal.id)
                    for n, c in enumerate(candidates, start=1))
    if candidates:
        bump(session, meeting)
        auditor.allowed(Operation.create, "agenda_item", meeting.id, [c.pseudonym for c in candidates], CASUSOVERLEG,
                        {"built": True, "case_ids": [str(c.case_id) for c in candidates]})
    return len(candidates)


def _renumber(session: Session, items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            session.add(item)


def add_item(session: Session, auditor: Auditor, access: MeetingAccess, data: AgendaItemCreate) -> AgendaItem:
    """Puts a case on the agenda, at the end; a case the chair removed earlier comes back."""
    meeting = access.meeting
    _not_closed(meeting)
    _within_horizon(auditor, meeting)
    case, person, item = case_for_agenda(auditor, access, data.case_id)
    if case.status == CaseStatus.closed:
        raise ApiError(409, "The case is closed.", "case-closed")
    if item is not None and item.removed_at is None:
        raise ApiError(409, "The case is already on the agenda.", "already-on-agenda")
    position = len(active_items(session, meeting.id)) + 1
    if item is None:
        item = AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position, kind=data.kind,
                          reason=data.reason, urgent=data.urgent, added_by=auditor.principal.id)
    else:
        item.removed_at, item.position, item.kind, item.reason, item.urgent = (None, position, data.kind, data.reason,
                                                                               data.urgent)
    session.add(item)
    bump(session, meeting)
    session.flush()
    auditor.allowed(Operation.create, "agenda_item", item.id, [person.pseudonym], CASUSOVERLEG,
                    {"meeting_id": str(meeting.id), "case_id": str(case.id)})
    return item


def _decide(item: AgendaItem, data: AgendaItemUpdate, auditor: Auditor) -> None:
    if data.closure_reason is not None:
        item.closure_reason = data.closure_reason
    if data.decision is not None:
        if data.decision == Decision.close_case and not item.closure_reason:
            raise ApiError(400, "A decision to close the case needs a closure_reason.", errors=[
                {"name": "closure_reason", "location": "body", "code": "missing", "reason": "required to close"}])
        item.decision, item.decided_by, item.decided_at = data.decision, auditor.principal.id, utcnow()


def update_item(session: Session, auditor: Auditor, access: MeetingAccess, row: AgendaRow,
                data: AgendaItemUpdate) -> None:
    meeting, item = access.meeting, row.item
    _not_closed(meeting)
    minuting = {"minutes", "decision", "closure_reason"} & data.model_fields_set
    if minuting and meeting.status != MeetingStatus.in_progress:
        raise ApiError(409, "Minutes and decisions are recorded while the meeting is in progress.", "meeting-not-running")
    if data.urgent is not None:
        item.urgent = data.urgent
    if data.minutes is not None:
        item.minutes = data.minutes
    _decide(item, data, auditor)
    session.add(item)
    if data.position is not None:
        others = [i for i in active_items(session, meeting.id) if i.id != item.id]
        others.insert(min(data.position, len(others) + 1) - 1, item)
        _renumber(session, others)
    bump(session, meeting)
    auditor.allowed(Operation.update, "agenda_item", item.id, [row.person.pseudonym], CASUSOVERLEG,
                    {"meeting_id": str(meeting.id), "fields": sorted(data.model_fields_set)})


def remove_item(session: Session, auditor: Auditor, access: MeetingAccess, row: AgendaRow) -> None:
    """Off the agenda; rebuilding will not bring it back (only adding it again does)."""
    _not_closed(access.meeting)
    row.item.removed_at = utcnow()
    session.add(row.item)
    _renumber(session, [i for i in active_items(session, access.meeting.id) if i.id != row.item.id])
    bump(session, access.meeting)
    auditor.allowed(Operation.update, "agenda_item", row.item.id, [row.person.pseudonym], CASUSOVERLEG,
                    {"meeting_id": str(access.meeting.id), "removed": True})


def add_addendum(session: Session, auditor: Auditor, access: MeetingAccess, row: AgendaRow,
                 data: AddendumCreate) -> AgendaAddendum:
    if access.meeting.status != MeetingStatus.closed:
        raise ApiError(409, "Until the meeting closes, change the minutes themselves.", "meeting-not-closed")
    p = auditor.principal
    addendum = AgendaAddendum(agenda_item_id=row.item.id, text=data.text, author_id=p.id, author_name=p.name,
                              organisation_id=p.organisation_id)
    session.add(addendum)
    session.flush()
    auditor.allowed(Operation.create, "agenda_addendum", addendum.id, [row.person.pseudonym], CASUSOVERLEG,
                    {"meeting_id": str(access.meeting.id), "agenda_item_id": str(row.item.id)})
    return addendum


def apply_decisions(session: Session, auditor: Auditor, meeting: Meeting) -> None:
    """When the meeting closes its decisions are final: a decision to close a case closes it through
    the case's own transition rules (history, audit), and the closure proposals decided on are resolved."""
    decided = decided_items(session, meeting.id)
    for item in decided:
        if item.decision != Decision.close_case:
            continue
        access = load_case(auditor, item.case_id)
        if access.case.status != CaseStatus.closed:
            cases.update_case(session, auditor, access, CaseUpdate(status=CaseStatus.closed,
                                                                   closure_reason=item.closure_reason),
                              cases.etag(access.case))
    for proposal in open_closure_proposals(session, [i.case_id for i in decided]):
        proposal.resolved_meeting_id = meeting.id
        session.add(proposal)


def _signals(row: AgendaRow, data: AgendaData) -> list[AgendaSignal]:
    return [AgendaSignal(id=s.id, categories=s.categories, urgency=s.urgency, district=s.district,
                         reporter_organisation_kind=s.reporter_kind, triaged_at=s.triaged_at, new=s.new)
            for s in data.signals.get(row.case.id, [])]


def _full_item(row: AgendaRow, data: AgendaData, today: date) -> AgendaItemFull:
    """An item is urgent when the chair marked it so, or when a signal that put the case on this agenda
    (triaged since it was last discussed) has urgency high or acute."""
    item, case = row.item, row.case
    last = data.last_decisions.get(case.id)
    signals = _signals(row, data)
    urgent = item.urgent or any(s.new and s.urgency in URGENT_SIGNAL for s in signals)
    return AgendaItemFull(
        id=item.id, position=item.position, kind=item.kind, urgent=urgent, marked_urgent=item.urgent,
        case_id=case.id, case_number=case.number, case_status=case.status,
        person=CasePerson.model_validate(row.person, from_attributes=True), reason=item.reason,
        signals=signals if row.signals else None,
        open_actions=[OpenAction(id=a.id, description=a.description, owner_organisation_id=a.owner_organisation_id,
                                 owner_user_id=a.owner_user_id, due_date=a.due_date, overdue=a.due_date < today)
                      for a in data.open_actions.get(case.id, [])],
        last_decision=LastDecision(decision=last[0].decision, meeting_id=last[1].id,
                                   meeting_starts_at=last[1].starts_at) if last else None,
        minutes=item.minutes, decision=item.decision, closure_reason=item.closure_reason,
        agreed_actions=[AgreedAction.model_validate(a, from_attributes=True)
                        for a in data.agreed_actions.get(item.id, [])],
        addenda=[Addendum.model_validate(a, from_attributes=True) for a in data.addenda.get(item.id, [])])


def present(meeting: MeetingView, data: AgendaData) -> Agenda:
    """Placeholders keep the order of the meeting clear without revealing whom an item is about."""
    today = meeting.starts_at.date()
    items = [_full_item(r, data, today) if r.full else
             AgendaItemRedacted(id=r.item.id, position=r.item.position, kind=r.item.kind, case_number=r.case.number)
             for r in data.rows]
    return Agenda(meeting=meeting, items=items)


def propose_closure(session: Session, auditor: Auditor, access: CaseAccess, data: ClosureProposalCreate) -> ClosureProposal:
    """Puts the case on the next agenda built, as a proposal to close; one open proposal per case."""
    if access.case.status == CaseStatus.closed:
        raise ApiError(409, "The case is closed.", "case-closed")
    if open_closure_proposals(session, [access.case.id]):
        raise ApiError(409, "The case is already proposed for closure.", "already-proposed")
    proposal = ClosureProposal(case_id=access.case.id, reason=data.reason, proposed_by=auditor.principal.id)
    session.add(proposal)
    session.flush()
    cases.record(session, auditor, access.case.id, "closure_proposed", {"proposal_id": str(proposal.id)})
    auditor.allowed(Operation.create, "closure_proposal", proposal.id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id)})
    return proposal
