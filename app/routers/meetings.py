"""The weekly case conference: meetings, their self-building agenda (JSON or a printable document),
minutes, decisions and addenda."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from app.audit.writer import AuditorDep
from app.auth.policies.agendas import agenda_item, read_agenda
from app.auth.policies.cases import ManagedCase
from app.auth.policies.meetings import (
    MeetingAccess,
    ReadableMeeting,
    RunMeeting,
    list_meetings,
    planning_municipality,
)
from app.db import SessionDep
from app.models.meeting import (
    Addendum,
    AddendumCreate,
    Agenda,
    AgendaItemCreate,
    AgendaItemUpdate,
    ClosureProposalCreate,
    ClosureProposalView,
    MeetingCreate,
    MeetingStatus,
    MeetingUpdate,
    MeetingView,
)
from app.pagination import Page, PageDep, encode_cursor
from app.routers.signals import IdempotencyKey
from app.services import agenda, agenda_document, meetings

router = APIRouter(tags=["meetings"])
REPLAY_CONFLICT = {409: {"description": "The Idempotency-Key was used with another body"}}
STALE = {412: {"description": "If-Match is not the current ETag: read the meeting again"}}
REQUIRED = STALE | {428: {"description": "If-Match is missing"}}
CLOSED = {409: {"description": "The meeting is closed: its agenda and minutes are immutable"}}
BUILT = {409: {"description": "The meeting is closed, or starts beyond AGENDA_HORIZON_DAYS from now"}}
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100,
                                       description="The ETag of the meeting (and its agenda) you read")]


class MeetingPage(Page[MeetingView]):
    """One page of meetings, latest first."""


def _agenda(access: MeetingAccess, auditor, response: Response) -> Agenda:
    response.headers["ETag"] = meetings.etag(access.meeting)
    return agenda.present(meetings.present(access.meeting, access.attendees), read_agenda(auditor, access))


@router.post("/meetings", status_code=201, response_model=MeetingView, responses=REPLAY_CONFLICT,
             summary="Plan a meeting, or a weekly series of them (repeat_weekly)")
def plan_meeting(data: MeetingCreate, session: SessionDep, auditor: AuditorDep, request: Request,
                 idempotency_key: IdempotencyKey = None):
    body, meeting_id, replayed = meetings.plan_once(session, auditor, planning_municipality(auditor), data,
                                                    idempotency_key)
    headers = {"Location": f"{request.url.path}/{meeting_id}"} | ({"Idempotent-Replayed": "true"} if replayed else {})
    return JSONResponse(body, status_code=201, headers=headers)


@router.get("/meetings", response_model=MeetingPage, summary="List the meetings visible to you")
def list_visible_meetings(auditor: AuditorDep, page: PageDep,
                          status: Annotated[MeetingStatus | None, Query(description="Only this status")] = None,
                          series_id: Annotated[uuid.UUID | None, Query(alias="seriesId",
                                                                       description="Only this weekly series")] = None):
    accesses, more = list_meetings(auditor, page, status, series_id)
    cursor = encode_cursor(accesses[-1].meeting.starts_at, accesses[-1].meeting.id) if more else None
    return MeetingPage(items=[meetings.present(a.meeting, a.attendees) for a in accesses], next_cursor=cursor)


@router.get("/meetings/{id}", response_model=MeetingView, summary="Read one meeting")
def read_meeting(access: ReadableMeeting, response: Response):
    response.headers["ETag"] = meetings.etag(access.meeting)
    return meetings.present(access.meeting, access.attendees)


@router.patch("/meetings/{id}", response_model=MeetingView, responses=REQUIRED | {
    409: {"description": "The status cannot go from the current one to the one sent, or the meeting is closed"}},
              summary="Change a meeting; status planned → in_progress → closed (closing applies its decisions)")
def update_meeting(access: RunMeeting, data: MeetingUpdate, session: SessionDep, auditor: AuditorDep,
                   response: Response, if_match: IfMatch = None):
    attendees = meetings.update(session, auditor, access, data, if_match)
    response.headers["ETag"] = meetings.etag(access.meeting)
    return meetings.present(access.meeting, attendees)


@router.get("/meetings/{id}/agenda", response_model=Agenda,
            summary="The agenda as you may see it; of a closed meeting, its minutes (also as text/html or "
                    "text/markdown, to print)",
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}},
                                         "text/markdown": {"schema": {"type": "string"}}},
                             "description": "The agenda; as a document (in Dutch) the minutes once the meeting "
                                            "is closed"}})
def read_meeting_agenda(access: ReadableMeeting, auditor: AuditorDep, session: SessionDep, request: Request,
                        response: Response):
    document = _agenda(access, auditor, response)
    kind = agenda_document.preferred(request.headers.get("accept", ""))
    if kind is None:
        return document
    names = agenda_document.names_for(session, document)
    author = agenda_document.author_of(session, auditor.principal)
    headers = {"ETag": response.headers["ETag"]}
    if kind == "html":
        return HTMLResponse(agenda_document.html(document, names, author), headers=headers)
    return Response(agenda_document.markdown(document, names, author), media_type="text/markdown; charset=utf-8",
                    headers=headers)


@router.post("/meetings/{id}/agenda/build", response_model=Agenda, responses=STALE | BUILT,
             summary="Fill the agenda from the registry (idempotent)")
def build_agenda(access: RunMeeting, session: SessionDep, auditor: AuditorDep, response: Response,
                 if_match: IfMatch = None):
    meetings.check_if_match(access.meeting, if_match, required=False)
    agenda.build(session, auditor, access)
    session.flush()
    return _agenda(access, auditor, response)


@router.post("/meetings/{id}/agenda/items", status_code=201, response_model=Agenda, responses=STALE | {
    409: {"description": "The meeting or the case is closed, the case is on the agenda already, or the meeting "
                         "starts beyond AGENDA_HORIZON_DAYS from now"}},
             summary="Put a case on the agenda")
def add_agenda_item(access: RunMeeting, data: AgendaItemCreate, session: SessionDep, auditor: AuditorDep,
                    response: Response, if_match: IfMatch = None):
    meetings.check_if_match(access.meeting, if_match, required=False)
    agenda.add_item(session, auditor, access, data)
    return _agenda(access, auditor, response)


@router.patch("/meetings/{id}/agenda/items/{item_id}", response_model=Agenda, responses=REQUIRED | {
    409: {"description": "The meeting is closed, or minutes and a decision before it runs"}},
              summary="Reorder, mark urgent, or record minutes and the decision")
def update_agenda_item(access: RunMeeting, item_id: uuid.UUID, data: AgendaItemUpdate, session: SessionDep,
                       auditor: AuditorDep, response: Response, if_match: IfMatch = None):
    meetings.check_if_match(access.meeting, if_match)
    agenda.update_item(session, auditor, access, agenda_item(auditor, access, item_id), data)
    session.flush()
    return _agenda(access, auditor, response)


@router.delete("/meetings/{id}/agenda/items/{item_id}", status_code=204, responses=REQUIRED | CLOSED,
               summary="Take a case off the agenda")
def remove_agenda_item(access: RunMeeting, item_id: uuid.UUID, session: SessionDep, auditor: AuditorDep,
                       if_match: IfMatch = None):
    meetings.check_if_match(access.meeting, if_match)
    agenda.remove_item(session, auditor, access, agenda_item(auditor, access, item_id))
    return Response(status_code=204)


@router.post("/meetings/{id}/agenda/items/{item_id}/addenda", status_code=201, response_model=Addendum,
             responses={409: {"description": "The meeting is not closed: change the minutes themselves"}},
             summary="Correct the minutes of a closed meeting: an appended, attributed addendum")
def add_addendum(access: RunMeeting, item_id: uuid.UUID, data: AddendumCreate, session: SessionDep,
                 auditor: AuditorDep):
    addendum = agenda.add_addendum(session, auditor, access, agenda_item(auditor, access, item_id), data)
    return Addendum.model_validate(addendum, from_attributes=True)


@router.post("/cases/{id}/closure-proposals", status_code=201, response_model=ClosureProposalView,
             responses={409: {"description": "The case is closed, or already proposed for closure"}},
             summary="Propose to close a case: it goes on the next agenda built")
def propose_closure(access: ManagedCase, data: ClosureProposalCreate, session: SessionDep, auditor: AuditorDep):
    proposal = agenda.propose_closure(session, auditor, access, data)
    return ClosureProposalView.model_validate(proposal, from_attributes=True)
