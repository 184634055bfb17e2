"""Emergency accesses, for the privacy officer to review."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.audit.writer import AuditorDep
from app.auth.policies.emergency_accesses import ReviewableEmergencyAccess, list_emergency_accesses
from app.db import SessionDep
from app.models.emergency import EmergencyAccessView, Review, ReviewStatus
from app.pagination import Page, PageDep, encode_cursor
from app.services import emergency

router = APIRouter(prefix="/emergency-accesses", tags=["emergency access"])


class EmergencyAccessPage(Page[EmergencyAccessView]):
    """One page of emergency accesses, newest first."""


@router.get("", response_model=EmergencyAccessPage, summary="Emergency accesses, for review")
def list_accesses(auditor: AuditorDep, page: PageDep,
                  review_status: Annotated[ReviewStatus | None, Query(alias="reviewStatus")] = None):
    rows, more = list_emergency_accesses(auditor, page, review_status)
    cursor = encode_cursor(rows[-1].granted_at, rows[-1].id) if more else None
    return EmergencyAccessPage(items=[EmergencyAccessView.model_validate(r, from_attributes=True) for r in rows],
                               next_cursor=cursor)


@router.post("/{id}/review", response_model=EmergencyAccessView, summary="Approve, or flag as misuse, with a note",
             responses={409: {"description": "Already reviewed"}})
def review_access(access: ReviewableEmergencyAccess, data: Review, session: SessionDep, auditor: AuditorDep):
    return EmergencyAccessView.model_validate(emergency.review(session, auditor, access, data), from_attributes=True)
