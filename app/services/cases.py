"""Cases: numbering, lifecycle, participating organisations and the case history."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies.cases import ACTIVITY, POLICY, CaseAccess
from app.db import upsert_insert
from app.errors import ApiError
from app.models import (
    Case,
    CaseHistory,
    CaseMember,
    CaseNumberSequence,
    Organisation,
    Person,
    User,
)
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.case import (
    CasePerson,
    CasePersonFull,
    CaseStatus,
    CaseUpdate,
    CaseView,
    RiskAssessment,
)
from app.services import accounts

S = CaseStatus
# Forward one step at a time; closing is possible from every open status; re-opening needs a reason.
TRANSITIONS = {
    S.intake: {S.investigation, S.closed},
    S.investigation: {S.approach, S.closed},
    S.approach: {S.monitoring, S.closed},
    S.monitoring: {S.closed},
    S.closed: {S.intake, S.investigation, S.approach, S.monitoring},
}


def etag(case: Case) -> str:
    return f'"{case.id.hex}-{case.version}"'


def record(session: Session, auditor: Auditor, case_id: uuid.UUID, change: str, details: dict) -> None:
    p = auditor.principal
    session.add(CaseHistory(case_id=case_id, actor_kind=p.kind, actor_id=p.id, actor_name=p.name,
                            organisation_id=p.organisation_id, change=change, details=details))


def _next_number(session: Session, municipality: Organisation) -> str:
    year = datetime.now(UTC).year
    session.execute(upsert_insert(session, CaseNumberSequence).values(
        municipality_id=municipality.id, year=year, last_number=0).on_conflict_do_nothing())
    # The row lock of this UPDATE serialises concurrent numbering within the transaction.
    number = session.execute(update(CaseNumberSequence).where(
        CaseNumberSequence.municipality_id == municipality.id, CaseNumberSequence.year == year)
        .values(last_number=CaseNumberSequence.last_number + 1).returning(CaseNumberSequence.last_number)).scalar_one()
    return f"{municipality.code}-{year}-{number:04d}"


def _check_owner(session: Session, owner_id: uuid.UUID | None, municipality_id: uuid.UUID) -> None:
    if owner_id is None:
        return
    owner = session.get(User, owner_id)
    if owner is None or owner.organisation_id != municipality_id or "coordinator" not in owner.roles:
        raise ApiError(400, "The owner must be a coordinator of the case's municipality.",
                       errors=[{"name": "owner_user_id", "location": "body", "code": "invalid_owner",
                                "reason": "not a coordinator of this municipality"}])


def open_case(session: Session, auditor: Auditor, person: Person, owner_id: uuid.UUID | None,
              next_review=None) -> Case:
    municipality = session.get(Organisation, person.municipality_id)
    _check_owner(session, owner_id, municipality.id)
    case = Case(number=_next_number(session, municipality), municipality_id=municipality.id, person_id=person.id,
                owner_user_id=owner_id or auditor.principal.id, next_review_date=next_review)
    session.add(case)
    session.flush()
    session.add(CaseMember(case_id=case.id, organisation_id=municipality.id, added_by=auditor.principal.id))
    record(session, auditor, case.id, "created", {"number": case.number, "status": case.status})
    auditor.allowed(Operation.create, "case", case.id, [person.pseudonym], ACTIVITY, {"number": case.number})
    return case


def _transition(case: Case, data: CaseUpdate, changes: dict, values: dict) -> None:
    target = data.status
    if target is None or target == case.status:
        return
    if target not in TRANSITIONS[CaseStatus(case.status)]:
        raise ApiError(409, f"A case cannot go from {case.status} to {target}.", "illegal-transition")
    if target == S.closed and not (data.closure_reason or case.closure_reason):
        raise ApiError(400, "Closing a case needs a closure_reason.", errors=[
            {"name": "closure_reason", "location": "body", "code": "missing", "reason": "required to close"}])
    if case.status == S.closed and not data.reason:
        raise ApiError(400, "Re-opening a closed case needs a reason.", errors=[
            {"name": "reason", "location": "body", "code": "missing", "reason": "required to re-open"}])
    changes["status"] = [case.status, target]
    values["status"] = target


def _fields(session: Session, auditor: Auditor, case: Case, data: CaseUpdate, changes: dict, values: dict) -> None:
    fields = data.model_dump(exclude_unset=True, exclude={"status", "reason", "risk_assessment"})
    if "owner_user_id" in fields:
        _check_owner(session, fields["owner_user_id"], case.municipality_id)
    for name, value in fields.items():
        if getattr(case, name) != value:
            changes[name] = [str(getattr(case, name)), str(value)]
            values[name] = value
    if data.risk_assessment is not None:
        ra = data.risk_assessment
        values |= {"risk_level": ra.level, "risk_summary": ra.summary, "risk_assessed_on": ra.assessed_on,
                   "risk_assessed_by": auditor.principal.id}
        changes["risk_assessment"] = {"level": ra.level, "assessed_on": ra.assessed_on.isoformat()}


def check_if_match(case: Case, if_match: str | None) -> None:
    if if_match is None:
        raise ApiError(428, "Send If-Match with the case's current ETag.")
    if if_match != etag(case):
        raise ApiError(412, "The case was changed since you read it; read it again.")


def update_case(session: Session, auditor: Auditor, access: CaseAccess, data: CaseUpdate, if_match: str | None) -> Case:
    """The change, written only if the case is still at the version of `if_match`."""
    case = access.case
    check_if_match(case, if_match)
    changes: dict = {}
    values: dict = {}
    _transition(case, data, changes, values)
    _fields(session, auditor, case, data, changes, values)
    if changes:
        if data.reason:
            changes["reason"] = data.reason
        POLICY.save(session, case.id, case.version, values | {"updated_at": utcnow()},
                    "The case was changed since you read it; read it again.")
        record(session, auditor, case.id, "updated", changes)
        auditor.allowed(Operation.update, "case", case.id, [access.person.pseudonym], ACTIVITY,
                        {"fields": sorted(changes)}, municipality_id=case.municipality_id)
    return case


def add_member(session: Session, auditor: Auditor, access: CaseAccess, organisation_id: uuid.UUID,
               current: list[uuid.UUID]) -> tuple[CaseMember, Organisation]:
    organisation = accounts.serving(session, organisation_id, access.case.municipality_id)
    if organisation is None:
        raise ApiError(400, "The organisation is not part of this municipality's network.", errors=[
            {"name": "organisation_id", "location": "body", "code": "unknown_organisation",
             "reason": "not an organisation in this network"}])
    if organisation_id in current:
        raise ApiError(409, "The organisation already takes part in this case.", "already-member")
    member = CaseMember(case_id=access.case.id, organisation_id=organisation_id, added_by=auditor.principal.id)
    session.add(member)
    record(session, auditor, access.case.id, "member_added", {"organisation_id": str(organisation_id)})
    auditor.allowed(Operation.update, "case", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"member_added": str(organisation_id)})
    return member, organisation


def remove_member(session: Session, auditor: Auditor, access: CaseAccess, member: CaseMember) -> None:
    if member.organisation_id == access.case.municipality_id:
        raise ApiError(409, "The municipality that runs the case cannot be removed from it.", "conflict")
    session.delete(member)
    record(session, auditor, access.case.id, "member_removed", {"organisation_id": str(member.organisation_id)})
    auditor.allowed(Operation.update, "case", access.case.id, [access.person.pseudonym], ACTIVITY,
                    {"member_removed": str(member.organisation_id)})


def present(access: CaseAccess) -> CaseView:
    """Partners see who the person is, not their BSN or address; the coordinator sees all."""
    case, person = access.case, access.person
    person_view = (CasePersonFull if access.view == "full" else CasePerson).model_validate(person, from_attributes=True)
    risk = None
    if case.risk_level is not None:
        risk = RiskAssessment(level=case.risk_level, summary=case.risk_summary, assessed_by=case.risk_assessed_by,
                              assessed_on=case.risk_assessed_on)
    return CaseView(view=access.view, id=case.id, number=case.number, status=case.status,
                    municipality_id=case.municipality_id, person=person_view, owner_user_id=case.owner_user_id,
                    risk_assessment=risk, next_review_date=case.next_review_date, closure_reason=case.closure_reason,
                    emergency_access=access.emergency, created_at=case.created_at, updated_at=case.updated_at)
