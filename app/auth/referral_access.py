"""The choke point for referrals: who may know a referral exists, what of the person and the case it
shows them, and the audit of each access and of each disclosure to another registry."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import and_, exists, false, or_
from sqlmodel import Session, select

from app.audit.writer import LEGAL_BASIS, Auditor, AuditorDep, write_event
from app.auth.case_access import CaseAccess
from app.auth.principal import Principal, forbidden
from app.errors import ApiError, not_found
from app.models import AgendaItem, Case, InformationItem, Meeting, Person, Role, Scope
from app.models.audit import AuditEvent, Operation, Outcome
from app.models.referral import (
    OPEN_STATUSES,
    Referral,
    ReferralDirection,
    ReferralItem,
    SharedField,
    SharedItem,
    SharedSubject,
)
from app.pagination import PageParams, keyset

ACTIVITY = "referral"
DISCLOSURE = "referral-disclosure"
ReferralRole = Literal["coordinator", "chair", "recipient", "sender_system"]


@dataclass(frozen=True)
class ReferralAccess:
    referral: Referral
    person: Person
    role: ReferralRole


def may_receive(principal: Principal) -> bool:
    """Users who work with what is referred to their organisation, and systems that receive for it."""
    return principal.has_role(Role.partner, Role.expert) or principal.has_scope(Scope.referrals_receive)


def _coordinating(principal: Principal):
    municipality = principal.coordinated_municipality
    return Referral.municipality_id == municipality if municipality is not None else None


def _receiving(principal: Principal):
    """A recipient organisation sees a referral made here only while it is open."""
    if not may_receive(principal):
        return None
    return and_(Referral.direction == ReferralDirection.outgoing,
                Referral.recipient_organisation_id == principal.organisation_id,
                Referral.status.in_(OPEN_STATUSES))


def _municipal_chair(principal: Principal) -> bool:
    return principal.has_role(Role.chair) and principal.organisation_id == principal.municipality_id


def _chairing(principal: Principal):
    """The chair reads (only) the referrals made from cases on the agenda of a meeting they chair."""
    if not _municipal_chair(principal):
        return None
    on_agenda = exists().where(AgendaItem.case_id == Referral.case_id, AgendaItem.removed_at.is_(None),
                               Meeting.id == AgendaItem.meeting_id, Meeting.chair_id == principal.id)
    return and_(Referral.municipality_id == principal.municipality_id,
                Referral.direction == ReferralDirection.outgoing, on_agenda)


def _sending_system(principal: Principal):
    """Another registry's system may change (withdraw) what it sent us, while it is open; not read it."""
    if not principal.has_scope(Scope.referrals_send):
        return None
    return and_(Referral.direction == ReferralDirection.incoming,
                Referral.sender_organisation_id == principal.organisation_id,
                Referral.status.in_(OPEN_STATUSES))


def _conditions(principal: Principal, direction: str | None, sending_system: bool) -> list:
    coordinating, receiving = _coordinating(principal), _receiving(principal)
    if direction == "sent" and coordinating is not None:
        coordinating = and_(coordinating, Referral.direction == ReferralDirection.outgoing)
    elif direction == "received":
        coordinating = None if coordinating is None else and_(
            coordinating, Referral.direction == ReferralDirection.incoming)
    chairing = _chairing(principal) if direction != "received" else None
    if direction == "sent":
        receiving = None
    candidates = [coordinating, chairing, receiving, _sending_system(principal) if sending_system else None]
    return [c for c in candidates if c is not None]


def visible_referrals(principal: Principal, direction: str | None = None, sending_system: bool = False):
    """Referrals the principal may know of. `direction`: sent (made here) or received (addressed to
    the caller's organisation, or to their municipality from another registry)."""
    conditions = _conditions(principal, direction, sending_system)
    where = or_(*conditions) if conditions else false()
    return select(Referral, Person).join(Person, Person.id == Referral.person_id).where(where)


def role_of(principal: Principal, referral: Referral) -> ReferralRole:
    if referral.municipality_id == principal.coordinated_municipality:
        return "coordinator"
    if _municipal_chair(principal) and referral.municipality_id == principal.municipality_id:
        return "chair"
    if referral.direction == ReferralDirection.incoming:
        return "sender_system"
    return "recipient"


def _pseudonyms(session: Session, referral_id: uuid.UUID) -> list[str]:
    query = select(Person.pseudonym).join(Referral, Referral.person_id == Person.id).where(Referral.id == referral_id)
    return list(session.exec(query).all())


def _detail(access: ReferralAccess, items: list[SharedItem] | None = None) -> dict:
    referral = access.referral
    detail = {"view": access.role, "legal_basis": referral.legal_basis, "status": referral.status}
    if access.role not in ("coordinator", "chair"):
        detail["shared_fields"] = referral.shared_fields
    if items is not None:
        detail["item_ids"] = [str(i.id) for i in items]
    return detail


def load_referral(auditor: Auditor, referral_id: uuid.UUID, operation: Operation,
                  sending_system: bool = False) -> ReferralAccess:
    """The referral if the caller may know of it (404 otherwise, audited as denied)."""
    principal, session = auditor.principal, auditor.session
    row = session.exec(visible_referrals(principal, sending_system=sending_system)
                       .where(Referral.id == referral_id)).first()
    if row is None:
        auditor.denied(operation, "referral", referral_id, _pseudonyms(session, referral_id), ACTIVITY)
        raise not_found()
    referral, person = row
    return ReferralAccess(referral, person, role_of(principal, referral))


def readable_referral(id: Annotated[uuid.UUID, Path(description="Referral id")], auditor: AuditorDep) -> ReferralAccess:
    return load_referral(auditor, id, Operation.read)


def changeable_referral(id: Annotated[uuid.UUID, Path(description="Referral id")],
                        auditor: AuditorDep) -> ReferralAccess:
    return load_referral(auditor, id, Operation.update, sending_system=True)


ReadableReferral = Annotated[ReferralAccess, Depends(readable_referral)]
ChangeableReferral = Annotated[ReferralAccess, Depends(changeable_referral)]


def deny_change(auditor: Auditor, access: ReferralAccess, detail: str) -> ApiError:
    auditor.denied(Operation.update, "referral", access.referral.id, [access.person.pseudonym], ACTIVITY,
                   {"view": access.role})
    return forbidden(detail)


def shared_subject(referral: Referral, person: Person) -> SharedSubject:
    """Only the fields the referral shares; the rest stays null."""
    return SharedSubject(**{f: getattr(person, f) for f in referral.shared_fields if f in SharedField.__members__})


def shared_items(session: Session, referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SharedItem]]:
    """The current version of each item each referral shares."""
    query = (select(ReferralItem.referral_id, InformationItem)
             .join(InformationItem, InformationItem.item_id == ReferralItem.item_id)
             .where(ReferralItem.referral_id.in_(referral_ids), InformationItem.superseded_at.is_(None))
             .order_by(InformationItem.created_at))
    found: dict[uuid.UUID, list[SharedItem]] = {}
    for referral_id, item in session.exec(query).all():
        found.setdefault(referral_id, []).append(
            SharedItem(id=item.item_id, kind=item.kind, version=item.version, text=item.text, source=item.source,
                       date=item.date))
    return found


def audit_read(auditor: Auditor, access: ReferralAccess, items: list[SharedItem]) -> None:
    auditor.allowed(Operation.read, "referral", access.referral.id, [access.person.pseudonym], ACTIVITY,
                    _detail(access, items))


def list_referrals(auditor: Auditor, page: PageParams, direction: str | None,
                   status: str | None) -> tuple[list[ReferralAccess], bool]:
    principal = auditor.principal
    if not _conditions(principal, direction, sending_system=False):
        auditor.denied(Operation.list, "referral", None, [], ACTIVITY, {"direction": direction})
        raise forbidden("Your role gives no access to referrals.")
    query = visible_referrals(principal, direction)
    if status is not None:
        query = query.where(Referral.status == status)
    rows = auditor.session.exec(keyset(query, page, Referral.created_at, Referral.id)).all()
    accesses = [ReferralAccess(r, p, role_of(principal, r)) for r, p in rows[: page.size]]
    auditor.allowed(Operation.list, "referral", None, [a.person.pseudonym for a in accesses], ACTIVITY,
                    {"count": len(accesses), "direction": direction,
                     "referral_ids": [str(a.referral.id) for a in accesses]})
    return accesses, len(rows) > page.size


def shareable_item_ids(session: Session, case: CaseAccess, item_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Of the requested items, those that are current items of the case (the coordinator sees them all)."""
    if not item_ids:
        return []
    query = select(InformationItem.item_id).where(
        InformationItem.case_id == case.case.id, InformationItem.item_id.in_(item_ids),
        InformationItem.superseded_at.is_(None))
    return list(session.exec(query).all())


def case_for_assessment(session: Session, access: ReferralAccess) -> CaseAccess:
    """The case an assessment is added to, on behalf of the expert answering the request: the case
    itself stays out of the expert's sight (nothing of it is returned to them)."""
    referral = access.referral
    case = session.get(Case, referral.case_id)
    return CaseAccess(case, access.person, "partner", is_member=False, emergency=False)


def _disclosure(session: Session, referral: Referral, person: Person, detail: dict) -> None:
    """A disclosure to another organisation's registry, by the delivery worker. Committed on its own
    before anything is sent, so that a failed or repeated attempt is on record too."""
    event = AuditEvent(trace_id=str(uuid.uuid4()), actor_kind="system", actor_name="referral-delivery",
                       organisation_id=referral.municipality_id, operation="disclose", resource_type="referral",
                       resource_id=str(referral.id), outcome=Outcome.allowed, processing_activity=DISCLOSURE,
                       legal_basis=LEGAL_BASIS.get(DISCLOSURE), detail=detail)
    with Session(session.get_bind()) as audit_session:
        write_event(audit_session, event, [person.pseudonym])
        audit_session.commit()


def referral_for_delivery(session: Session, referral_id: uuid.UUID) -> Referral:
    """For the delivery worker: the referral (its status and references), without personal data."""
    return session.exec(select(Referral).where(Referral.id == referral_id)).one()


def delivery_document(session: Session, referral: Referral) -> dict:
    """The JSON document for the recipient's registry, rendered now from ONLY the shared fields and
    items (the shared items make up the summary). Audited as a disclosure."""
    person = session.exec(select(Person).where(Person.id == referral.person_id)).one()
    subject = shared_subject(referral, person).model_dump(mode="json", include={"name", "date_of_birth", "bsn"},
                                                          exclude_none=True)
    items = shared_items(session, [referral.id]).get(referral.id, [])
    summary = "\n\n".join(f"{i.date.isoformat()}, {i.source}:\n{i.text}" for i in items) or referral.purpose
    _disclosure(session, referral, person, {"recipient_organisation_id": str(referral.recipient_organisation_id),
                                            "shared_fields": sorted(subject), "item_ids": [str(i.id) for i in items],
                                            "legal_basis": referral.legal_basis})
    return {"sender_reference": str(referral.id), "purpose": referral.purpose, "legal_basis": referral.legal_basis,
            "subject": subject, "summary": summary}


def status_document(session: Session, referral: Referral) -> dict:
    """A status change for the other registry: its note concerns the person, so it is a disclosure too."""
    person = session.exec(select(Person).where(Person.id == referral.person_id)).one()
    other = (referral.sender_organisation_id if referral.direction == ReferralDirection.incoming
             else referral.recipient_organisation_id)
    _disclosure(session, referral, person, {"status": referral.status, "direction": referral.direction,
                                            "other_organisation_id": str(other)})
    return {"note": referral.status_note}
