"""Break-the-glass: time-limited read access with a written reason, reviewed by the privacy officer."""

from datetime import timedelta

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies.cases import EMERGENCY, readable
from app.auth.policy import Viewer
from app.errors import ApiError
from app.models import Case, EmergencyAccess, Person
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.emergency import EmergencyRequest, Review, ReviewStatus


def grant(session: Session, auditor: Auditor, case: Case, person: Person, data: EmergencyRequest,
          hours: int) -> EmergencyAccess:
    principal = auditor.principal
    if readable(session, Viewer.of(auditor), case.id):
        raise ApiError(409, "You already have access to this case.", "already-accessible")
    now = utcnow()
    access = EmergencyAccess(case_id=case.id, actor_id=principal.id, actor_name=principal.name,
                             organisation_id=principal.organisation_id, reason=data.reason, granted_at=now,
                             expires_at=now + timedelta(hours=hours))
    session.add(access)
    session.flush()
    auditor.allowed(Operation.create, "emergency_access", access.id, [person.pseudonym], EMERGENCY,
                    {"case_id": str(case.id), "expires_at": access.expires_at.isoformat()}, emergency=True,
                    municipality_id=case.municipality_id)
    return access


def review(session: Session, auditor: Auditor, access: EmergencyAccess, data: Review) -> EmergencyAccess:
    if access.review_status != ReviewStatus.pending:
        raise ApiError(409, "This emergency access was already reviewed.", "already-reviewed")
    access.review_status, access.review_note = data.outcome, data.note
    access.reviewed_by, access.reviewed_at = auditor.principal.id, utcnow()
    if data.outcome == ReviewStatus.misuse:
        access.expires_at = min(access.expires_at, access.reviewed_at)  # misuse ends the access at once
    session.add(access)
    auditor.allowed(Operation.update, "emergency_access", access.id, [], "privacy-supervision",
                    {"outcome": data.outcome})
    return access
