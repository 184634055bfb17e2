"""The choke point for cases: who may know a case exists, in which view, and the audit of each access."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import and_, exists, false, or_
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep
from app.auth.principal import Principal, forbidden
from app.errors import ApiError, not_found
from app.models import (
    AgendaItem,
    Case,
    CaseHistory,
    CaseMember,
    EmergencyAccess,
    Meeting,
    Organisation,
    Person,
    Role,
)
from app.models.audit import Operation
from app.models.base import utcnow
from app.pagination import PageParams, keyset

CaseViewKind = Literal["full", "partner"]
ACTIVITY = "case-management"


@dataclass(frozen=True)
class CaseAccess:
    case: Case
    person: Person
    view: CaseViewKind
    is_member: bool
    emergency: bool

    def may_manage(self, principal: Principal) -> bool:
        return self.case.municipality_id == principal.coordinated_municipality


def _membership(principal: Principal):
    return exists().where(CaseMember.case_id == Case.id, CaseMember.organisation_id == principal.organisation_id)


def _emergency_grant(principal: Principal):
    return exists().where(EmergencyAccess.case_id == Case.id, EmergencyAccess.actor_id == principal.id,
                          EmergencyAccess.expires_at > utcnow())


def _chaired_agenda(principal: Principal):
    return exists().where(AgendaItem.case_id == Case.id, AgendaItem.removed_at.is_(None),
                          Meeting.id == AgendaItem.meeting_id, Meeting.chair_id == principal.id)


def _municipal_chair(principal: Principal) -> bool:
    return principal.has_role(Role.chair) and principal.organisation_id == principal.municipality_id


def case_conditions(principal: Principal) -> list:
    conditions = []
    if (municipality := principal.coordinated_municipality) is not None:
        conditions.append(Case.municipality_id == municipality)
    if principal.has_role(Role.partner):
        conditions.append(_membership(principal))
    if principal.has_role(Role.partner, Role.coordinator):
        conditions.append(_emergency_grant(principal))
    # A chair has no cases of their own: the need to know comes from chairing a meeting whose agenda
    # holds the case (DESIGN.md: the chair reads the cases on an agenda), in their own municipality only.
    if _municipal_chair(principal):
        conditions.append(and_(Case.municipality_id == principal.municipality_id, _chaired_agenda(principal)))
    return conditions


def visible_cases(principal: Principal):
    """Cases the principal may know of, each with whether their organisation takes part and whether
    the case is on the agenda of a meeting the principal chairs."""
    conditions = case_conditions(principal)
    where = or_(*conditions) if conditions else false()
    member = _membership(principal).label("is_member")
    chaired = _chaired_agenda(principal).label("on_chaired_agenda")
    return select(Case, Person, member, chaired).join(Person, Person.id == Case.person_id).where(where)


def can_read_case(session: Session, principal: Principal, case_id: uuid.UUID) -> bool:
    return session.exec(visible_cases(principal).where(Case.id == case_id)).first() is not None


def _access(principal: Principal, case: Case, person: Person, is_member: bool, chaired: bool) -> CaseAccess:
    if case.municipality_id == principal.coordinated_municipality:
        return CaseAccess(case, person, "full", bool(is_member), emergency=False)
    member = bool(is_member) and principal.has_role(Role.partner)
    if chaired and _municipal_chair(principal) and case.municipality_id == principal.municipality_id:
        return CaseAccess(case, person, "full", member, emergency=False)
    return CaseAccess(case, person, "partner", member, emergency=not member)


def case_pseudonyms(session: Session, case_id: uuid.UUID) -> list[str]:
    query = select(Person.pseudonym).join(Case, Case.person_id == Person.id).where(Case.id == case_id)
    return list(session.exec(query).all())


def case_access_for(session: Session, principal: Principal, case_id: uuid.UUID) -> CaseAccess | None:
    """How the principal sees the case, or None when they may not know it; writes no audit event."""
    row = session.exec(visible_cases(principal).where(Case.id == case_id)).first()
    return None if row is None else _access(principal, *row)


def load_case(auditor: Auditor, case_id: uuid.UUID, operation: Operation = Operation.read) -> CaseAccess:
    access = case_access_for(auditor.session, auditor.principal, case_id)
    if access is None:
        auditor.denied(operation, "case", case_id, case_pseudonyms(auditor.session, case_id), ACTIVITY)
        raise not_found()
    auditor.allowed(operation, "case", case_id, [access.person.pseudonym], ACTIVITY, {"view": access.view},
                    emergency=access.emergency)
    return access


def readable_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    return load_case(auditor, id)


def managed_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case the caller coordinates; others who can see it get 403, the rest 404."""
    access = load_case(auditor, id)
    if not access.may_manage(auditor.principal):
        auditor.denied(Operation.update, "case", id, [access.person.pseudonym], ACTIVITY)
        raise forbidden("Only the coordinator of the case's municipality changes a case.")
    return access


def contributable_case(id: Annotated[uuid.UUID, Path(description="Case id")], auditor: AuditorDep) -> CaseAccess:
    """A case the caller's organisation takes part in (or coordinates): where it may add information."""
    access = load_case(auditor, id)
    if not (access.may_manage(auditor.principal) or access.is_member):
        auditor.denied(Operation.create, "information_item", id, [access.person.pseudonym], ACTIVITY)
        raise forbidden("Only organisations taking part in the case add information.")
    return access


ReadableCase = Annotated[CaseAccess, Depends(readable_case)]
ManagedCase = Annotated[CaseAccess, Depends(managed_case)]
ContributableCase = Annotated[CaseAccess, Depends(contributable_case)]


def list_cases(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[CaseAccess], bool]:
    principal = auditor.principal
    if not case_conditions(principal):
        auditor.denied(Operation.list, "case", None, [], ACTIVITY)
        raise forbidden("Your role gives no access to cases.")
    query = visible_cases(principal)
    if status is not None:
        query = query.where(Case.status == status)
    rows = auditor.session.exec(keyset(query, page, Case.created_at, Case.id)).all()
    accesses = [_access(principal, *row) for row in rows[: page.size]]
    emergency_ids = [str(a.case.id) for a in accesses if a.emergency]
    auditor.allowed(Operation.list, "case", None, [a.person.pseudonym for a in accesses], ACTIVITY,
                    {"count": len(accesses), "case_ids": [str(a.case.id) for a in accesses],
                     "emergency_case_ids": emergency_ids}, emergency=bool(emergency_ids))
    return accesses, len(rows) > page.size


def find_case_for_emergency(auditor: Auditor, case_id: uuid.UUID) -> tuple[Case, Person]:
    """Break-the-glass needs the case id; only cases in the caller's own municipality network qualify."""
    principal, session = auditor.principal, auditor.session
    row = session.exec(select(Case, Person).join(Person, Person.id == Case.person_id).where(
        Case.id == case_id, Case.municipality_id == principal.municipality_id)).first()
    if row is None or not principal.has_role(Role.partner, Role.coordinator):
        auditor.denied(Operation.read, "case", case_id, case_pseudonyms(session, case_id), "emergency-access")
        # Who already reads the case (the chair, on an agenda) knows it exists: refused, not hidden.
        if row is not None and can_read_case(session, principal, case_id):
            raise forbidden("Only a coordinator or a partner breaks the glass.")
        raise not_found()
    return row


ITEM_CHANGES = {"item_added", "item_corrected"}


def case_history(session: Session, access: CaseAccess, visible_item_ids: set[str] | None) -> list[CaseHistory]:
    """The case's changes; entries about information items only where the item is visible to the caller
    (`visible_item_ids` None: all, for the coordinator)."""
    query = (select(CaseHistory).where(CaseHistory.case_id == access.case.id)
             .order_by(CaseHistory.at, CaseHistory.change))
    entries = session.exec(query).all()
    return [e for e in entries if visible_item_ids is None or e.change not in ITEM_CHANGES
            or e.details.get("item_id") in visible_item_ids]


def case_members(session: Session, case_id: uuid.UUID) -> list[tuple[CaseMember, Organisation]]:
    query = (select(CaseMember, Organisation).join(Organisation, Organisation.id == CaseMember.organisation_id)
             .where(CaseMember.case_id == case_id).order_by(CaseMember.added_at))
    return list(session.exec(query).all())


def person_for_new_case(auditor: Auditor, person_id: uuid.UUID) -> Person:
    """A person of the coordinator's municipality, to open a case for."""
    if auditor.principal.coordinated_municipality is None:
        auditor.denied(Operation.create, "case", None, [], ACTIVITY)
        raise forbidden("Only a coordinator opens cases.")
    person = auditor.session.get(Person, person_id)
    if person is None or person.municipality_id != auditor.principal.coordinated_municipality:
        auditor.denied(Operation.create, "case", None, [person.pseudonym] if person else [], ACTIVITY)
        raise ApiError(400, "Unknown person.", errors=[{"name": "person_id", "location": "body",
                                                        "code": "unknown_person", "reason": "no such person"}])
    return person


def chaired_case_ids(principal: Principal):
    """The cases on agendas the principal chairs in their own municipality (none for anyone else)."""
    if not _municipal_chair(principal):
        return select(Case.id).where(false())
    return select(Case.id).where(Case.municipality_id == principal.municipality_id, _chaired_agenda(principal))
