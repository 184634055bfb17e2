"""Referrals: made from a case by the coordinator, read and answered by the recipient while open;
and referrals that other municipalities' systems send in."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from app.audit.writer import AuditorDep
from app.auth.policies.referrals import ChangeableReferral, ReadableReferral, list_referrals
from app.db import SessionDep
from app.models.referral import (
    CompletionRequest,
    InboundReceipt,
    InboundReferral,
    ReferralCreate,
    ReferralStatus,
    ReferralView,
    TransitionRequest,
)
from app.pagination import Page, PageDep, encode_cursor
from app.services import inbound, referrals

router = APIRouter(tags=["referrals"])
ILLEGAL = {409: {"description": "The referral cannot go from its current status to this one"}}

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                              description="Makes retries safe: the same key and body "
                                                          "answer the original response")]


class ReferralPage(Page[ReferralView]):
    """One page of referrals, newest first."""


@router.post("/cases/{id}/referrals", status_code=201, response_model=ReferralView, responses={
    409: {"description": "The case is closed, or the Idempotency-Key was used with another body"}},
             summary="Refer part of a case to a partner, an expert pool or another municipality")
def create_referral(id: uuid.UUID, data: ReferralCreate, request: Request, session: SessionDep,
                    auditor: AuditorDep, idempotency_key: IdempotencyKey = None):
    """Only the fields in `shared_fields` and the items in `shared_item_ids` reach the recipient.
    A referral to an expert pool is a request for assessment (`kind` `assessment_request`); one to an
    external municipality is delivered to that municipality's registry."""
    created = referrals.submit(session, auditor, id, data, idempotency_key)
    headers = {"Location": f"/api/v1/referrals/{created.referral_id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(created.body, status_code=201, headers=headers)


@router.get("/referrals", response_model=ReferralPage, summary="Referrals you sent or received")
def list_visible_referrals(
        auditor: AuditorDep, page: PageDep,
        direction: Annotated[Literal["sent", "received"] | None, Query(
            description="sent: made by your municipality; received: addressed to your organisation")] = None,
        status: Annotated[ReferralStatus | None, Query(description="Only referrals with this status")] = None):
    accesses, more = list_referrals(auditor, page, direction, status)
    cursor = encode_cursor(accesses[-1].referral.created_at, accesses[-1].referral.id) if more else None
    return ReferralPage(items=[referrals.present(a) for a in accesses], next_cursor=cursor)


@router.get("/referrals/{id}", response_model=ReferralView, summary="Read one referral")
def read_referral(access: ReadableReferral):
    return referrals.present(access)


def _transition(action: str, access, data: TransitionRequest | CompletionRequest, session, auditor):
    referrals.change(session, auditor, access, action, data)
    return referrals.present(access)


@router.post("/referrals/{id}/accept", response_model=ReferralView, responses=ILLEGAL,
             summary="Accept a referral (recipient)")
def accept_referral(access: ChangeableReferral, data: TransitionRequest, session: SessionDep, auditor: AuditorDep):
    return _transition("accept", access, data, session, auditor)


@router.post("/referrals/{id}/decline", response_model=ReferralView, responses=ILLEGAL,
             summary="Decline a referral (recipient)")
def decline_referral(access: ChangeableReferral, data: TransitionRequest, session: SessionDep, auditor: AuditorDep):
    return _transition("decline", access, data, session, auditor)


@router.post("/referrals/{id}/complete", response_model=ReferralView, responses=ILLEGAL,
             summary="Complete a referral (recipient); a request for assessment with its assessment")
def complete_referral(access: ChangeableReferral, data: CompletionRequest, session: SessionDep,
                      auditor: AuditorDep):
    """Completing a request for assessment needs `assessment`: it is added to the case as an
    information item of kind `assessment` (shared with the municipality), and the expert's access to
    the referred data ends with the referral."""
    return _transition("complete", access, data, session, auditor)


@router.post("/referrals/{id}/withdraw", response_model=ReferralView, responses=ILLEGAL,
             summary="Withdraw a referral before completion (sender)")
def withdraw_referral(access: ChangeableReferral, data: TransitionRequest, session: SessionDep,
                      auditor: AuditorDep):
    return _transition("withdraw", access, data, session, auditor)


@router.post("/inbound-referrals", status_code=201, response_model=InboundReceipt,
             responses={200: {"model": InboundReceipt, "description": "Already received: the same referral"},
                        409: {"description": "The sender_reference was used for a different referral"}},
             summary="Send a referral from another municipality's registry (scope referrals:send)")
def receive_referral(data: InboundReferral, request: Request, session: SessionDep, auditor: AuditorDep):
    """Creates a received referral and a signal for triage. Idempotent per sending organisation and
    `sender_reference`: the same reference with the same body answers 200 with the same receipt; with a
    different body, 409."""
    received = inbound.receive(session, auditor, request.app.state.settings.person_match_key, data)
    status = 201 if received.created else 200
    return JSONResponse(received.body, status_code=status,
                        headers={"Location": f"/api/v1/referrals/{received.body['id']}"})
