"""The privacy officer's view of emergency accesses: who broke the glass, when and why."""

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import select

from app.audit.writer import Auditor, AuditorDep
from app.auth.principal import Principal, forbidden
from app.errors import not_found
from app.models import EmergencyAccess, Role
from app.models.audit import Operation
from app.pagination import PageParams, keyset

ACTIVITY = "privacy-supervision"


def _require_privacy_officer(auditor: Auditor, operation: Operation, resource_id=None) -> Principal:
    if not auditor.principal.has_role(Role.privacy_officer):
        auditor.denied(operation, "emergency_access", resource_id, [], ACTIVITY)
        raise forbidden("Only the privacy officer reviews emergency access.")
    return auditor.principal


def list_emergency_accesses(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[EmergencyAccess], bool]:
    _require_privacy_officer(auditor, Operation.list)
    query = select(EmergencyAccess)
    if status is not None:
        query = query.where(EmergencyAccess.review_status == status)
    rows = list(auditor.session.exec(keyset(query, page, EmergencyAccess.granted_at, EmergencyAccess.id)).all())
    auditor.allowed(Operation.list, "emergency_access", None, [], ACTIVITY, {"count": min(len(rows), page.size)})
    return rows[: page.size], len(rows) > page.size


def reviewable(id: Annotated[uuid.UUID, Path(description="Emergency access id")], auditor: AuditorDep) -> EmergencyAccess:
    _require_privacy_officer(auditor, Operation.update, id)
    access = auditor.session.get(EmergencyAccess, id)
    if access is None:
        auditor.denied(Operation.update, "emergency_access", id, [], ACTIVITY)
        raise not_found()
    return access


ReviewableEmergencyAccess = Annotated[EmergencyAccess, Depends(reviewable)]
