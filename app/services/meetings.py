"""Meetings: planning (also as a weekly series), their lifecycle, and closing with final decisions."""

import uuid
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies import idempotency
from app.auth.policies.cases import CASUSOVERLEG as ACTIVITY
from app.auth.policies.meetings import POLICY, MeetingAccess
from app.errors import ApiError
from app.models import Meeting, MeetingAttendee, User
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.meeting import MeetingCreate, MeetingStatus, MeetingUpdate, MeetingView
from app.services import accounts, agenda

M = MeetingStatus
TRANSITIONS = {M.planned: {M.in_progress}, M.in_progress: {M.closed}, M.closed: set()}


def etag(meeting: Meeting) -> str:
    return f'"{meeting.id.hex}-{meeting.version}"'


STALE = "The meeting or its agenda was changed since you read it; read it again."


def check_if_match(meeting: Meeting, if_match: str | None, required: bool = True) -> None:
    """Optimistic concurrency for the meeting and its agenda: required for changes that could overwrite
    another's (428 without), honoured whenever sent. The write itself compares the version again."""
    if if_match is None and required:
        raise ApiError(428, "Send If-Match with the meeting's current ETag.")
    if if_match is not None and if_match != etag(meeting):
        raise ApiError(412, STALE)


def save(session: Session, meeting: Meeting, values: dict) -> None:
    """A new version of the meeting (and its agenda): the ETag changes, and of two writers holding the
    same version only one gets here."""
    POLICY.save(session, meeting.id, meeting.version, values, STALE)


def _check_chair(session: Session, chair_id: uuid.UUID, municipality_id: uuid.UUID) -> None:
    user = session.get(User, chair_id)
    if (user is None or not user.is_active or user.organisation_id != municipality_id
            or not {"chair", "coordinator"} & set(user.roles)):
        raise ApiError(400, "The chair must be a chair or coordinator of the municipality.", errors=[
            {"name": "chair_id", "location": "body", "code": "invalid_chair",
             "reason": "not a chair or coordinator of this municipality"}])


def _check_attendees(session: Session, ids: list[uuid.UUID], municipality_id: uuid.UUID) -> list[uuid.UUID]:
    unknown = [str(i) for i in ids if accounts.serving(session, i, municipality_id) is None]
    if unknown:
        raise ApiError(400, "Attendees are organisations of the municipality's network.", errors=[
            {"name": "attending_organisation_ids", "location": "body", "code": "unknown_organisation",
             "reason": f"not an organisation in this network: {o}"} for o in unknown])
    return sorted(set(ids))


def plan(session: Session, auditor: Auditor, municipality_id: uuid.UUID, data: MeetingCreate) -> list[Meeting]:
    """One meeting, or `repeat_weekly` meetings a week apart that share a series id."""
    _check_chair(session, data.chair_id, municipality_id)
    attendees = _check_attendees(session, data.attending_organisation_ids, municipality_id)
    count = data.repeat_weekly or 1
    series_id = uuid.uuid4() if count > 1 else None
    meetings = [Meeting(municipality_id=municipality_id, series_id=series_id, starts_at=data.starts_at + timedelta(weeks=i),
                        chair_id=data.chair_id, location=data.location, created_by=auditor.principal.id)
                for i in range(count)]
    session.add_all(meetings)
    session.flush()
    session.add_all(MeetingAttendee(meeting_id=m.id, organisation_id=o) for m in meetings for o in attendees)
    auditor.allowed(Operation.create, "meeting", meetings[0].id, [], ACTIVITY,
                    {"meeting_ids": [str(m.id) for m in meetings], "series_id": str(series_id) if series_id else None},
                    municipality_id=municipality_id)
    return meetings


def plan_once(session: Session, auditor: Auditor, municipality_id: uuid.UUID, data: MeetingCreate,
              key: str | None) -> tuple[dict, uuid.UUID, bool]:
    """Planning with an optional Idempotency-Key: a retry answers the original response instead of
    planning a second series. Returns the response body, the (first) meeting's id and whether it is a replay."""
    record = None
    if key is not None:
        fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json"))
        record = idempotency.claim(session, f"{auditor.principal.actor}|meetings", key, fingerprint, municipality_id)
        if not idempotency.is_fresh(record):
            auditor.allowed(Operation.create, "meeting", record.resource_id, [], ACTIVITY, {"replay": True},
                            municipality_id=municipality_id)
            return record.response_body, record.resource_id, True
    first = plan(session, auditor, municipality_id, data)[0]
    body = present(first, sorted(set(data.attending_organisation_ids))).model_dump(mode="json")
    if record is not None:
        idempotency.complete(session, record, 201, body, first.id)
    return body, first.id, False


def _transition(meeting: Meeting, target: MeetingStatus | None) -> dict:
    """The columns a change of status sets."""
    if target is None or target == meeting.status:
        return {}
    if target not in TRANSITIONS[MeetingStatus(meeting.status)]:
        raise ApiError(409, f"A meeting cannot go from {meeting.status} to {target}.", "illegal-transition")
    return {"status": target, "started_at" if target == M.in_progress else "closed_at": utcnow()}


def _replace_attendees(session: Session, meeting: Meeting, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    attendees = _check_attendees(session, ids, meeting.municipality_id)
    with POLICY.context():
        session.execute(delete(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id))
    session.add_all(MeetingAttendee(meeting_id=meeting.id, organisation_id=o) for o in attendees)
    return attendees


def update(session: Session, auditor: Auditor, access: MeetingAccess, data: MeetingUpdate,
           if_match: str | None) -> list[uuid.UUID]:
    """Changes the meeting; closing it makes its decisions final. Returns its attendees as they are now."""
    meeting, attendees = access.meeting, access.attendees
    check_if_match(meeting, if_match)
    values = data.model_dump(exclude_unset=True, exclude={"status", "attending_organisation_ids"})
    if meeting.status == M.closed and (values or data.attending_organisation_ids is not None):
        raise ApiError(409, "A closed meeting is immutable; add an addendum to correct its minutes.", "meeting-closed")
    if "chair_id" in values:
        _check_chair(session, values["chair_id"], meeting.municipality_id)
    if data.attending_organisation_ids is not None:
        attendees = _replace_attendees(session, meeting, data.attending_organisation_ids)
    previous = meeting.status
    save(session, meeting, values | _transition(meeting, data.status))
    if meeting.status == M.closed and previous != M.closed:
        agenda.apply_decisions(session, auditor, meeting)
    auditor.allowed(Operation.update, "meeting", meeting.id, [], ACTIVITY,
                    {"fields": sorted(data.model_dump(exclude_unset=True)), "status": [previous, meeting.status]},
                    municipality_id=meeting.municipality_id)
    return attendees


def present(meeting: Meeting, attendees: list[uuid.UUID]) -> MeetingView:
    return MeetingView(id=meeting.id, municipality_id=meeting.municipality_id, series_id=meeting.series_id,
                       starts_at=meeting.starts_at, chair_id=meeting.chair_id, attending_organisation_ids=attendees,
                       location=meeting.location, status=meeting.status, started_at=meeting.started_at,
                       closed_at=meeting.closed_at, created_at=meeting.created_at)
