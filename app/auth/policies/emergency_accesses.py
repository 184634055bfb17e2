"""Emergency accesses (break-the-glass): who reviews them.

| relationship | who | may |
|---|---|---|
| privacy_officer | the privacy officer of the municipality of the case the glass was broken on | list, review |

An emergency access names who broke the glass on which case, and why: it concerns the case's person,
whose pseudonym is in the audit event of every read. Anyone else: 403 for the list, 404 for one.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import select

from app.audit.writer import Auditor, AuditorDep
from app.auth.policy import Policy, Rule
from app.auth.principal import forbidden
from app.models import Case, EmergencyAccess, Person
from app.models.audit import Operation
from app.pagination import PageParams

ACTIVITY = "privacy-supervision"
REFUSAL = "Only the privacy officer reviews emergency access."

RULES = (
    Rule("privacy_officer", "review", lambda p: p.municipal_privacy_officer,
         lambda v: Case.municipality_id == v.principal.municipality_id),
)
POLICY = Policy("emergency_access", ACTIVITY, RULES,
                select(EmergencyAccess, Case, Person).join(Case, Case.id == EmergencyAccess.case_id)
                .join(Person, Person.id == Case.person_id),
                id=EmergencyAccess.id, order=(EmergencyAccess.granted_at, EmergencyAccess.id),
                pseudonyms=lambda row: [row.Person.pseudonym], municipality=lambda row: row.Case.municipality_id)


def list_emergency_accesses(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[EmergencyAccess], bool]:
    conditions = [] if status is None else [EmergencyAccess.review_status == status]
    found, more = POLICY.page(auditor, page, *conditions, detail={"review_status": status}, refusal=REFUSAL)
    return [f.row.EmergencyAccess for f in found], more


def reviewable(id: Annotated[uuid.UUID, Path(description="Emergency access id")], auditor: AuditorDep) -> EmergencyAccess:
    """An emergency access on a case of the privacy officer's municipality, row-locked for the review."""
    if not POLICY.rules_for(auditor.principal):
        auditor.denied(Operation.update, "emergency_access", id, [], ACTIVITY)
        raise forbidden(REFUSAL)
    return POLICY.load(auditor, id, lock=True).row.EmergencyAccess


ReviewableEmergencyAccess = Annotated[EmergencyAccess, Depends(reviewable)]
