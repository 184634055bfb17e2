"""Actions (afspraken): agreed for a case, reported on by the owning organisation."""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from app.audit.writer import AuditorDep
from app.auth.policies.actions import (
    ActionCase,
    ChangeableAction,
    ReadableAction,
    assigned_actions,
    case_actions,
)
from app.auth.policies.cases import ReadableCase
from app.db import SessionDep
from app.models.action import ActionCreate, ActionStatus, ActionUpdate, ActionView
from app.pagination import Page, PageDep, encode_cursor
from app.routers.signals import IdempotencyKey
from app.services import actions

router = APIRouter(tags=["actions"])


class ActionPage(Page[ActionView]):
    """One page of actions, newest first."""


class CaseActionPage(Page[ActionView]):
    """One page of a case's actions, oldest first."""


@router.post("/cases/{id}/actions", status_code=201, response_model=ActionView, summary="Agree an action for a case",
             responses={409: {"description": "The case is closed, or the Idempotency-Key was used with another body"}})
def create_action(access: ActionCase, data: ActionCreate, session: SessionDep, auditor: AuditorDep,
                  response: Response, idempotency_key: IdempotencyKey = None):
    action, replayed = actions.assign_once(session, auditor, access, data, idempotency_key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = actions.etag(action)
    return actions.present(action, access.case)


@router.get("/cases/{id}/actions", response_model=CaseActionPage, summary="The actions of a case")
def list_case_actions(access: ReadableCase, auditor: AuditorDep, page: PageDep):
    rows, more = case_actions(auditor, access, page)
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return CaseActionPage(items=[actions.present(a, access.case) for a in rows], next_cursor=cursor)


@router.get("/actions", response_model=ActionPage, summary="The actions your organisation owns")
def list_assigned_actions(auditor: AuditorDep, page: PageDep,
                          assignee: Annotated[Literal["me"], Query(description="`me`: your organisation's actions")],
                          status: Annotated[ActionStatus | None, Query(description="Only this status")] = None):
    found, more = assigned_actions(auditor, page, status)
    cursor = encode_cursor(found[-1].action.created_at, found[-1].action.id) if more else None
    return ActionPage(items=[actions.present(a.action, a.case) for a in found], next_cursor=cursor)


@router.get("/actions/{id}", response_model=ActionView, summary="Read one action")
def read_action(access: ReadableAction, response: Response):
    response.headers["ETag"] = actions.etag(access.action)
    return actions.present(access.action, access.case)


@router.patch("/actions/{id}", response_model=ActionView, summary="Mark an action done or cancelled, with a result note",
               responses={409: {"description": "The action is already done or cancelled"},
                          412: {"description": "If-Match is not the current ETag: read the action again"},
                          428: {"description": "If-Match is missing"}})
def finish_action(access: ChangeableAction, data: ActionUpdate, session: SessionDep, auditor: AuditorDep,
                  response: Response,
                  if_match: Annotated[str | None, Header(alias="If-Match", max_length=100,
                                                         description="The ETag of the action you read")] = None):
    action = actions.finish(session, auditor, access, data, if_match)
    response.headers["ETag"] = actions.etag(action)
    return actions.present(action, access.case)
