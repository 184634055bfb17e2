"""Statistics without personal data."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.audit.writer import AuditorDep
from app.errors import ApiError
from app.models.statistics import Statistics
from app.privacy.statistics import compute

router = APIRouter(prefix="/statistics", tags=["statistics"])


@router.get("", response_model=Statistics, summary="Counts per period, with small counts suppressed")
def read_statistics(request: Request, auditor: AuditorDep,
                    since: Annotated[datetime, Query(description="Start of the period (inclusive)")],
                    until: Annotated[datetime, Query(description="End of the period (exclusive)")]):
    since, until = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (since, until))
    if until <= since:
        raise ApiError(400, "until must be after since.", errors=[
            {"name": "until", "location": "query", "code": "invalid_period", "reason": "must be after since"}])
    return compute(auditor, since, until, request.app.state.settings.statistics_suppression_threshold)
