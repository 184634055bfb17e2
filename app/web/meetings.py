"""The casusoverleg in the browser: the meetings, the agenda as the viewer may see it, running the
meeting (start, minutes and a decision per item, actions, close) and the minutes of a closed one."""

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from markupsafe import Markup

from app.audit.writer import AuditorDep
from app.auth.policies.actions import action_case
from app.auth.policies.agendas import agenda_item, read_agenda
from app.auth.policies.meetings import list_meetings, readable_meeting, run_meeting
from app.db import SessionDep
from app.models.action import ActionCreate
from app.models.base import utcnow
from app.models.meeting import AgendaItemUpdate, Decision, MeetingStatus, MeetingUpdate
from app.pagination import PageParams
from app.services import actions, agenda, agenda_document, documents, meetings
from app.web import presenting
from app.web.forms import Checked
from app.web.pages import WebRoute, redirect, render

router = APIRouter(route_class=WebRoute)
BASE = "/app/vergaderingen"
ETag = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=20000)]


@router.get(BASE, summary="Vergaderingen")
def meetings_page(request: Request, auditor: AuditorDep):
    accesses, _ = list_meetings(auditor, PageParams(size=request.app.state.settings.max_page_size, after=None),
                                None, None)
    coming, past = presenting.coming_and_past([a.meeting for a in accesses], utcnow())
    return render(request, "meetings.html", auditor.principal, coming=coming, past=past)


@router.get(BASE + "/{id}", summary="Agenda")
def agenda_page(request: Request, id: uuid.UUID, auditor: AuditorDep, session: SessionDep):
    access = readable_meeting(id, auditor)
    document = agenda.present(meetings.present(access.meeting, access.attendees), read_agenda(auditor, access))
    return render(request, "agenda.html", auditor.principal, agenda=document, runs=access.runs,
                  etag=meetings.etag(access.meeting),
                  chair=presenting.display_name(session, access.meeting.chair_id),
                  names=agenda_document.organisation_names(session), decisions=list(Decision),
                  owners=presenting.owners(session, access), today=date.today(),
                  default_due=date.today() + timedelta(days=14))


def _set_status(request: Request, id: uuid.UUID, auditor, session, status: MeetingStatus, etag: str):
    access = run_meeting(id, auditor)
    meetings.update(session, auditor, access, MeetingUpdate(status=status), etag)
    return redirect(f"{BASE}/{id}")


@router.post(BASE + "/{id}/starten", dependencies=[Checked], summary="Vergadering openen")
def start(request: Request, id: uuid.UUID, auditor: AuditorDep, session: SessionDep, etag: ETag):
    return _set_status(request, id, auditor, session, MeetingStatus.in_progress, etag)


@router.post(BASE + "/{id}/sluiten", dependencies=[Checked], summary="Vergadering sluiten")
def close(request: Request, id: uuid.UUID, auditor: AuditorDep, session: SessionDep, etag: ETag):
    _set_status(request, id, auditor, session, MeetingStatus.closed, etag)
    return redirect(f"{BASE}/{id}/notulen")


@router.post(BASE + "/{id}/punten/{item_id}", dependencies=[Checked], summary="Verslag en besluit vastleggen")
def record(id: uuid.UUID, item_id: uuid.UUID, auditor: AuditorDep, session: SessionDep, etag: ETag,
           notulen: Text, besluit: Annotated[Decision | None, Form()] = None):
    access = run_meeting(id, auditor)
    meetings.check_if_match(access.meeting, etag)
    agenda.update_item(session, auditor, access, agenda_item(auditor, access, item_id),
                       AgendaItemUpdate(minutes=notulen.strip() or None, decision=besluit))
    return redirect(f"{BASE}/{id}#punt-{item_id}")


@router.post(BASE + "/{id}/punten/{item_id}/afspraken", dependencies=[Checked], summary="Afspraak maken")
def agree_action(id: uuid.UUID, item_id: uuid.UUID, auditor: AuditorDep, session: SessionDep,
                 omschrijving: Annotated[str, Form(min_length=1, max_length=2000)],
                 eigenaar: Annotated[uuid.UUID, Form()], uiterlijk: Annotated[date, Form()]):
    access = run_meeting(id, auditor)
    item = agenda_item(auditor, access, item_id).item
    actions.assign(session, auditor, action_case(item.case_id, auditor), ActionCreate(
        description=omschrijving, owner_organisation_id=eigenaar, due_date=uiterlijk, agenda_item_id=item.id))
    return redirect(f"{BASE}/{id}#punt-{item_id}")


@router.get(BASE + "/{id}/notulen", summary="Notulen, of de agenda om af te drukken")
def minutes_page(request: Request, id: uuid.UUID, auditor: AuditorDep, session: SessionDep):
    """The same document as the API's text/html (minutes once closed, with room for them before), in
    the page; printing it leaves the menu out."""
    access = readable_meeting(id, auditor)
    document = agenda.present(meetings.present(access.meeting, access.attendees), read_agenda(auditor, access))
    body = agenda_document.body(document, agenda_document.names_for(session, document),
                                agenda_document.author_of(session, auditor.principal))
    return render(request, "minutes.html", auditor.principal, meeting=document.meeting, document=Markup(body))


@router.get("/app/document.css", summary="De opmaak van de afdrukbare documenten")
def document_style() -> Response:
    return Response(documents.STYLE, media_type="text/css")
