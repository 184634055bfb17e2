"""Cases: opened and run by the coordinator, read by the organisations that take part."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from app.audit.writer import AuditorDep
from app.auth.policies.cases import (
    CaseAccess,
    ManagedCase,
    ReadableCase,
    case_history,
    case_members,
    emergency_target,
    list_cases,
    member_page,
)
from app.auth.policies.items import visible_item_ids
from app.auth.policies.persons import person_for_new_case
from app.db import SessionDep
from app.errors import not_found
from app.models.case import (
    CaseCreate,
    CaseStatus,
    CaseUpdate,
    CaseView,
    HistoryEntry,
    Member,
    MemberAdd,
)
from app.models.emergency import EmergencyAccessView, EmergencyRequest
from app.pagination import Page, PageDep, encode_cursor
from app.services import cases, emergency

router = APIRouter(prefix="/cases", tags=["cases"])


class CasePage(Page[CaseView]):
    """One page of cases, newest first."""


class HistoryPage(Page[HistoryEntry]):
    """One page of a case's changes, oldest first."""


class MemberPage(Page[Member]):
    """One page of the organisations taking part in a case, in the order they joined."""


@router.post("", status_code=201, response_model=CaseView, summary="Open a case for a person")
def create_case(data: CaseCreate, session: SessionDep, auditor: AuditorDep, response: Response, request: Request):
    person = person_for_new_case(auditor, data.person_id)
    case = cases.open_case(session, auditor, person, data.owner_user_id, data.next_review_date)
    response.headers["Location"] = f"{request.url.path}/{case.id}"
    response.headers["ETag"] = cases.etag(case)
    return cases.present(CaseAccess(case, person, "coordinator", "full", emergency=False))


@router.get("", response_model=CasePage, summary="List the cases visible to you")
def list_visible_cases(auditor: AuditorDep, page: PageDep,
                       status: Annotated[CaseStatus | None, Query(description="Only cases with this status")] = None):
    accesses, more = list_cases(auditor, page, status)
    cursor = encode_cursor(accesses[-1].case.created_at, accesses[-1].case.id) if more else None
    return CasePage(items=[cases.present(a) for a in accesses], next_cursor=cursor)


@router.get("/{id}", response_model=CaseView, summary="Read one case")
def read_case(access: ReadableCase, response: Response):
    response.headers["ETag"] = cases.etag(access.case)
    return cases.present(access)


@router.patch("/{id}", response_model=CaseView, summary="Change a case (If-Match required)",
              responses={409: {"description": "The status cannot go from the current one to the one sent"},
                         412: {"description": "If-Match is not the current ETag: read the case again"},
                         428: {"description": "If-Match is missing"}})
def update_case(access: ManagedCase, data: CaseUpdate, session: SessionDep, auditor: AuditorDep, response: Response,
                if_match: Annotated[str | None, Header(alias="If-Match", max_length=100)] = None):
    case = cases.update_case(session, auditor, access, data, if_match)
    response.headers["ETag"] = cases.etag(case)
    return cases.present(access)


@router.get("/{id}/history", response_model=HistoryPage, summary="Who changed what, and when")
def read_history(access: ReadableCase, session: SessionDep, auditor: AuditorDep, page: PageDep):
    entries, more = case_history(session, access, None if access.managed else visible_item_ids(auditor, access), page)
    cursor = encode_cursor(entries[-1].at, entries[-1].id) if more else None
    return HistoryPage(items=[HistoryEntry.model_validate(h, from_attributes=True) for h in entries],
                       next_cursor=cursor)


@router.get("/{id}/members", response_model=MemberPage, summary="Organisations taking part")
def list_members(access: ReadableCase, session: SessionDep, page: PageDep):
    rows, more = member_page(session, access.case.id, page)
    cursor = encode_cursor(rows[-1][0].added_at, rows[-1][0].organisation_id) if more else None
    return MemberPage(items=[Member(organisation_id=o.id, name=o.name, kind=o.kind, added_at=m.added_at)
                             for m, o in rows], next_cursor=cursor)


@router.post("/{id}/members", status_code=201, response_model=Member, summary="Add a participating organisation",
             responses={409: {"description": "The organisation already takes part"}})
def add_member(access: ManagedCase, data: MemberAdd, session: SessionDep, auditor: AuditorDep):
    current = [m.organisation_id for m, _ in case_members(session, access.case.id)]
    member, organisation = cases.add_member(session, auditor, access, data.organisation_id, current)
    return Member(organisation_id=organisation.id, name=organisation.name, kind=organisation.kind,
                  added_at=member.added_at)


@router.delete("/{id}/members/{organisation_id}", status_code=204, summary="Remove an organisation (ends its access)",
               responses={409: {"description": "The municipality that runs the case cannot be removed"}})
def remove_member(access: ManagedCase, organisation_id: uuid.UUID, session: SessionDep, auditor: AuditorDep):
    member = next((m for m, _ in case_members(session, access.case.id) if m.organisation_id == organisation_id), None)
    if member is None:
        raise not_found()
    cases.remove_member(session, auditor, access, member)
    return Response(status_code=204)


@router.post("/{id}/emergency-access", status_code=201, response_model=EmergencyAccessView,
             summary="Break the glass: temporary read access with a written reason",
             responses={409: {"description": "You already have access to this case"}})
def request_emergency_access(id: uuid.UUID, data: EmergencyRequest, request: Request, session: SessionDep,
                             auditor: AuditorDep):
    case, person = emergency_target(auditor, id)
    hours = request.app.state.settings.emergency_access_hours
    return EmergencyAccessView.model_validate(emergency.grant(session, auditor, case, person, data, hours),
                                              from_attributes=True)
