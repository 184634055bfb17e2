"""Signals: intake by reporters, follow-up by the municipality's coordinator."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from app.audit.writer import AuditorDep
from app.auth.policies.signals import ReadableSignal, TriageableSignal, list_signals
from app.db import SessionDep
from app.models.signal import SignalCreate, SignalStatus, SignalView
from app.pagination import Page, PageDep, encode_cursor
from app.services import signals, triage
from app.services.triage import ReopenRequest, TriageRequest
from app.validation import SINGLE_LINE_PATTERN as LINE

router = APIRouter(prefix="/signals", tags=["signals"])


class SignalPage(Page[SignalView]):
    """One page of signals, newest first."""

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=LINE,
                                              description="Makes retries safe: the same key and body "
                                                          "answer the original response")]


@router.post("", status_code=201, response_model=SignalView, summary="Submit a signal of concern",
             responses={409: {"description": "The Idempotency-Key was used with another body"}})
def create_signal(data: SignalCreate, request: Request, session: SessionDep, auditor: AuditorDep,
                  idempotency_key: IdempotencyKey = None):
    secret = request.app.state.settings.person_match_key
    submission = signals.submit(session, auditor, secret, data, idempotency_key)
    headers = {"Location": f"{request.url.path}/{submission.signal_id}"}
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(submission.body, status_code=201, headers=headers)


@router.get("", response_model=SignalPage, summary="List the signals visible to you")
def list_visible_signals(auditor: AuditorDep, page: PageDep,
                         status: Annotated[SignalStatus | None, Query(description="Only signals with this status")] = None):
    accesses, more = list_signals(auditor, page, status)
    cursor = encode_cursor(accesses[-1].signal.created_at, accesses[-1].signal.id) if more else None
    return SignalPage(items=[signals.present(a) for a in accesses], next_cursor=cursor)


@router.get("/{id}", response_model=SignalView, summary="Read one signal")
def read_signal(access: ReadableSignal):
    return signals.present(access)


@router.post("/{id}/triage", response_model=SignalView, summary="Triage: new case, link to a case, or no action",
             responses={409: {"description": "Already triaged, or the case concerns another person"}})
def triage_signal(access: TriageableSignal, data: TriageRequest, session: SessionDep, auditor: AuditorDep):
    triage.triage(session, auditor, access, data)
    return signals.present(access)


@router.post("/{id}/reopen", response_model=SignalView, summary="Re-open a triaged signal, with a reason",
             responses={409: {"description": "The signal is not triaged"}})
def reopen_signal(access: TriageableSignal, data: ReopenRequest, session: SessionDep, auditor: AuditorDep):
    triage.reopen(session, auditor, access, data)
    return signals.present(access)
