"""The privacy officer's API: the audit log and a person's access report. No case content."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from app.audit.writer import AuditorDep
from app.auth.policies.audit_events import AuditFilter, list_events
from app.models.audit import AccessReport, AuditEventView, Outcome
from app.models.processing import KEY_PATTERN
from app.pagination import Page, PageDep, encode_cursor
from app.privacy.access_reports import access_report, access_report_html
from app.validation import SINGLE_LINE_PATTERN as LINE

router = APIRouter(tags=["privacy officer"])
TRACE_ID = "^[0-9a-f]{32}$"


class AuditEventPage(Page[AuditEventView]):
    """One page of audit events, newest first."""


def audit_filter(since: Annotated[datetime | None, Query(description="From (inclusive)")] = None,
                 until: Annotated[datetime | None, Query(description="Until (exclusive)")] = None,
                 actor_id: Annotated[str | None, Query(alias="actorId", max_length=64, pattern=LINE)] = None,
                 organisation_id: Annotated[uuid.UUID | None, Query(alias="organisationId")] = None,
                 pseudonym: Annotated[str | None, Query(max_length=20, pattern=LINE)] = None,
                 resource_type: Annotated[str | None, Query(alias="resourceType", max_length=40, pattern=LINE)] = None,
                 resource_id: Annotated[str | None, Query(alias="resourceId", max_length=64, pattern=LINE)] = None,
                 outcome: Outcome | None = None,
                 trace_id: Annotated[str | None, Query(alias="traceId", pattern=TRACE_ID,
                                                       description="W3C trace id (32 hex)")] = None,
                 processing_activity: Annotated[str | None, Query(
                     alias="processingActivity", max_length=60, pattern=KEY_PATTERN,
                     description="Key of a processing activity (GET /processing-activities)")] = None) -> AuditFilter:
    since, until = (t if t is None or t.tzinfo else t.replace(tzinfo=UTC) for t in (since, until))  # naive: UTC
    return AuditFilter(since, until, actor_id, organisation_id, pseudonym, resource_type, resource_id,
                       outcome, trace_id, processing_activity)


@router.get("/audit-events", response_model=AuditEventPage, summary="The audit log, filtered",
            description="The read rule of the Logboek Dataverwerkingen read extension: name a traceId, a "
                        "processingActivity or a pseudonym (data subject), or a period (since and until) of at most "
                        "31 days; a broader query answers 400.")
def list_audit_events(auditor: AuditorDep, page: PageDep, filters: Annotated[AuditFilter, Depends(audit_filter)]):
    rows, more = list_events(auditor, page, filters)
    cursor = encode_cursor(rows[-1][0].occurred_at, rows[-1][0].event_id) if more else None
    items = [AuditEventView(**e.model_dump(), persons=p) for e, p in rows]
    return AuditEventPage(items=items, next_cursor=cursor)


@router.get("/persons/{id}/access-report", response_model=AccessReport, summary="Answer an access request (AVG art. 15)",
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def read_access_report(id: Annotated[uuid.UUID, Path(description="Person id")], request: Request, auditor: AuditorDep):
    report = access_report(auditor, id)
    if _prefers_html(request.headers.get("accept", "")):
        return HTMLResponse(access_report_html(report))
    return report


def _prefers_html(accept: str) -> bool:
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]
