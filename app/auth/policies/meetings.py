"""Meetings (casusoverleg): who may know a meeting, and who runs it. Its agenda: policies/agendas.py.

| relationship | who | view | may |
|---|---|---|---|
| coordinator | the coordinator of the meeting's municipality | runs | read, plan, prepare, run, close |
| chair | the meeting's chair (a chair of that municipality) | runs | read, prepare, run, close |
| attendee | a partner whose organisation attends | attends | read; its agenda as policies/agendas.py allows |

A meeting itself names no person. Planning is for the municipality's coordinators and chairs, and
never widens anyone's access by itself: a chair reads a case only once it is on the built agenda.
Anyone else: 404.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import exists
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep
from app.auth.policies.cases import CASUSOVERLEG as ACTIVITY
from app.auth.policy import Found, Policy, Rule
from app.auth.principal import forbidden
from app.models import Meeting, MeetingAttendee, Role
from app.models.audit import Operation
from app.pagination import PageParams

RUN = {"coordinator", "chair"}


def _attends(viewer):
    return exists().where(MeetingAttendee.meeting_id == Meeting.id,
                          MeetingAttendee.organisation_id == viewer.principal.organisation_id)


RULES = (
    Rule("coordinator", "runs", lambda p: p.coordinated_municipality is not None,
         lambda v: Meeting.municipality_id == v.principal.coordinated_municipality),
    Rule("chair", "runs", lambda p: p.municipal_chair, lambda v: Meeting.chair_id == v.principal.id),
    Rule("attendee", "attends", lambda p: p.has_role(Role.partner), _attends),
)
POLICY = Policy("meeting", ACTIVITY, RULES, select(Meeting), id=Meeting.id, order=(Meeting.starts_at, Meeting.id),
                pseudonyms=lambda row: [], municipality=lambda row: row.Meeting.municipality_id)


@dataclass(frozen=True)
class MeetingAccess:
    meeting: Meeting
    attendees: list[uuid.UUID]
    runs: bool  # the meeting's chair, or the coordinator of its municipality


def attendees_of(session: Session, meeting_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    with POLICY.context():
        rows = session.exec(select(MeetingAttendee).where(MeetingAttendee.meeting_id.in_(meeting_ids))).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = {m: [] for m in meeting_ids}
    for row in rows:
        found[row.meeting_id].append(row.organisation_id)
    return {m: sorted(orgs) for m, orgs in found.items()}


def _access(session: Session, found: Found) -> MeetingAccess:
    meeting = found.row.Meeting
    return MeetingAccess(meeting, attendees_of(session, [meeting.id])[meeting.id], found.through(RUN))


def readable_meeting(id: Annotated[uuid.UUID, Path(description="Meeting id")], auditor: AuditorDep) -> MeetingAccess:
    return _access(auditor.session, POLICY.load(auditor, id))


def run_meeting(id: Annotated[uuid.UUID, Path(description="Meeting id")], auditor: AuditorDep) -> MeetingAccess:
    """A meeting the caller chairs or coordinates, row-locked: changes to one meeting (and its agenda)
    run one at a time. Attending partners get 403, the rest 404."""
    found = POLICY.load_to_change(auditor, id, RUN, "Only the meeting's chair and the coordinator prepare and run it.")
    return _access(auditor.session, found)


ReadableMeeting = Annotated[MeetingAccess, Depends(readable_meeting)]
RunMeeting = Annotated[MeetingAccess, Depends(run_meeting)]


def planning_municipality(auditor: Auditor) -> uuid.UUID:
    """The municipality whose meetings the caller plans: as its coordinator or as one of its chairs."""
    p = auditor.principal
    if p.coordinated_municipality is not None:
        return p.coordinated_municipality
    if p.municipal_chair:
        return p.municipality_id
    auditor.denied(Operation.create, "meeting", None, [], ACTIVITY)
    raise forbidden("Only a coordinator or a chair plans meetings.")


def list_meetings(auditor: Auditor, page: PageParams, status: str | None,
                  series_id: uuid.UUID | None) -> tuple[list[MeetingAccess], bool]:
    conditions = ([] if status is None else [Meeting.status == status]) + (
        [] if series_id is None else [Meeting.series_id == series_id])
    found, more = POLICY.page(auditor, page, *conditions, refusal="Your role gives no access to meetings.")
    attendees = attendees_of(auditor.session, [f.row.Meeting.id for f in found])
    return [MeetingAccess(f.row.Meeting, attendees[f.row.Meeting.id], f.through(RUN)) for f in found], more
