"""Mijn afspraken: the actions a partner's organisation owns, and reporting their result."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request

from app.audit.writer import AuditorDep
from app.auth.policies.actions import assigned_actions, changeable_action
from app.db import SessionDep
from app.models.action import ActionStatus, ActionUpdate
from app.pagination import PageParams
from app.services import actions
from app.web.forms import Checked
from app.web.pages import WebRoute, redirect, render

router = APIRouter(route_class=WebRoute)
BASE = "/app/afspraken"


@router.get(BASE, summary="Mijn afspraken")
def my_actions(request: Request, auditor: AuditorDep):
    found, _ = assigned_actions(auditor, PageParams(size=request.app.state.settings.max_page_size, after=None), None)
    views = [actions.present(a.action, a.case) for a in found]
    open_first = sorted(views, key=lambda a: (a.status != ActionStatus.open, a.due_date))
    etags = {a.action.id: actions.etag(a.action) for a in found}
    return render(request, "actions.html", auditor.principal, actions=open_first, etags=etags)


@router.post(BASE + "/{id}", dependencies=[Checked], summary="Afspraak afronden")
def report(id: uuid.UUID, auditor: AuditorDep, session: SessionDep, etag: Annotated[str, Form(max_length=100)],
           uitkomst: Annotated[Literal["done", "cancelled"], Form()],
           toelichting: Annotated[str, Form(min_length=1, max_length=2000)]):
    actions.finish(session, auditor, changeable_action(id, auditor),
                   ActionUpdate(status=ActionStatus(uitkomst), result_note=toelichting), etag)
    return redirect(f"{BASE}#afspraak-{id}")
