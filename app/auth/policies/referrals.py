"""Referrals: who may know a referral exists, what of the person and the case it shows them.

| relationship | who | view | may |
|---|---|---|---|
| coordinator | the coordinator of the municipality the referral belongs to | coordinator: the whole referral | read, make, act for its side |
| chair | a chair, for referrals made from a case inside the case's chair window (policies/cases.py) | chair: the whole referral | read |
| recipient | a partner or expert of the recipient organisation, or its system with scope referrals:receive, while the referral is open | recipient: only the shared fields and items | read, accept, decline, complete |
| sender_system | the system of the registry that sent an incoming referral (scope referrals:send), while it is open | — | withdraw (never read) |

A recipient never sees the case itself; afterwards the referral answers 404. Every read is audited
with the person's pseudonym, and every delivery to another registry as a disclosure.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import and_
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep, write_system_event
from app.auth import tenancy
from app.auth.policies.cases import CaseAccess, chaired_case_ids
from app.auth.policy import Found, Policy, Rule, Viewer
from app.auth.principal import Principal, forbidden
from app.db import Session as GuardedSession
from app.errors import ApiError, not_found
from app.models import Case, InformationItem, Organisation, OrganisationKind, Person, Role, Scope
from app.models.audit import Operation
from app.models.referral import (
    OPEN_STATUSES,
    Referral,
    ReferralDirection,
    ReferralItem,
    ReferralKind,
    SharedField,
    SharedItem,
    SharedSubject,
)
from app.pagination import PageParams

# The processing activities (app/privacy/processing_activities.json): a referral to a partner, to or
# from another municipality's registry, or a request for assessment to the expert pool.
ACTIVITY, TO_REGISTRY, ASSESSMENT = "referral-partner", "referral-municipality", "assessment-request"
DISCLOSURE = TO_REGISTRY
ReferralRole = Literal["coordinator", "chair", "recipient", "sender_system"]
OUTGOING, INCOMING = ReferralDirection.outgoing, ReferralDirection.incoming


def may_receive(principal: Principal) -> bool:
    """Users who work with what is referred to their organisation, and systems that receive for it."""
    return principal.has_role(Role.partner, Role.expert) or principal.has_scope(Scope.referrals_receive)


RULES = (
    Rule("coordinator", "coordinator", lambda p: p.coordinated_municipality is not None,
         lambda v: Referral.municipality_id == v.principal.coordinated_municipality),
    Rule("chair", "chair", lambda p: p.municipal_chair,
         lambda v: and_(Referral.direction == OUTGOING, Referral.case_id.in_(chaired_case_ids(v)))),
    Rule("recipient", "recipient", may_receive,
         lambda v: and_(Referral.direction == OUTGOING, Referral.status.in_(OPEN_STATUSES),
                        Referral.recipient_organisation_id == v.principal.organisation_id)),
    Rule("sender_system", "sender_system", lambda p: p.has_scope(Scope.referrals_send),
         lambda v: and_(Referral.direction == INCOMING, Referral.status.in_(OPEN_STATUSES),
                        Referral.sender_organisation_id == v.principal.organisation_id), reads=False),
)
RECIPIENT_KIND = (select(Organisation.kind).where(Organisation.id == Referral.recipient_organisation_id)
                  .scalar_subquery().label("recipient_kind"))


def activity_of(referral: Referral, recipient_kind: str) -> str:
    """The processing activity a referral is part of."""
    if referral.direction == INCOMING or recipient_kind == OrganisationKind.external_municipality:
        return TO_REGISTRY
    return ASSESSMENT if referral.kind == ReferralKind.assessment_request else ACTIVITY


POLICY = Policy("referral", ACTIVITY, RULES,
                select(Referral, Person, RECIPIENT_KIND).join(Person, Person.id == Referral.person_id),
                id=Referral.id, order=(Referral.created_at, Referral.id), pseudonyms=lambda row: [row.Person.pseudonym],
                municipality=lambda row: row.Referral.municipality_id,
                activity_of=lambda row: activity_of(row.Referral, row.recipient_kind))
# `direction` of GET /referrals: made by the caller's municipality, or addressed to the caller's
# organisation; and the relationships through which a caller can have such referrals at all.
DIRECTIONS = {"sent": lambda p: Referral.sender_organisation_id == p.organisation_id,
              "received": lambda p: Referral.recipient_organisation_id == p.organisation_id}
DIRECTION_RULES = {"sent": {"coordinator", "chair"}, "received": {"coordinator", "recipient"}}


@dataclass(frozen=True)
class ReferralAccess:
    referral: Referral
    person: Person
    role: ReferralRole
    items: list[SharedItem]
    activity: str  # the processing activity it is part of

    @classmethod
    def of(cls, found: Found, items: list[SharedItem]) -> "ReferralAccess":
        return cls(found.row.Referral, found.row.Person, found.rule.name, items, POLICY.activity_for(found))


def _detail(referral: Referral, role: str, items: list[SharedItem]) -> dict:
    detail = {"legal_basis": referral.legal_basis, "status": referral.status, "item_ids": [str(i.id) for i in items]}
    return detail if role in ("coordinator", "chair") else detail | {"shared_fields": referral.shared_fields}


def load_referral(auditor: Auditor, referral_id: uuid.UUID, reading: bool = True) -> ReferralAccess:
    """The referral with its shared items, audited as read; 404 (audited as denied) for anyone else."""
    operation = Operation.read if reading else Operation.update
    found = POLICY.find(auditor.session, Viewer.of(auditor), Referral.id == referral_id, reading=reading,
                        lock=not reading)
    if not found:
        POLICY.deny(auditor, operation, referral_id)
        raise not_found()
    items = shared_items(auditor.session, [referral_id]).get(referral_id, [])
    POLICY.allow(auditor, Operation.read, referral_id, found, _detail(found[0].row.Referral, found[0].rule.name, items))
    return ReferralAccess.of(found[0], items)


def readable_referral(id: Annotated[uuid.UUID, Path(description="Referral id")], auditor: AuditorDep) -> ReferralAccess:
    return load_referral(auditor, id)


def changeable_referral(id: Annotated[uuid.UUID, Path(description="Referral id")],
                        auditor: AuditorDep) -> ReferralAccess:
    return load_referral(auditor, id, reading=False)


ReadableReferral = Annotated[ReferralAccess, Depends(readable_referral)]
ChangeableReferral = Annotated[ReferralAccess, Depends(changeable_referral)]


def deny_change(auditor: Auditor, access: ReferralAccess, detail: str) -> ApiError:
    auditor.denied(Operation.update, "referral", access.referral.id, [access.person.pseudonym], access.activity,
                   {"view": access.role}, municipality_id=access.referral.municipality_id)
    return forbidden(detail)


def list_referrals(auditor: Auditor, page: PageParams, direction: str | None,
                   status: str | None) -> tuple[list[ReferralAccess], bool]:
    principal = auditor.principal
    if direction is not None and not DIRECTION_RULES[direction] & {r.name for r in POLICY.rules_for(principal)}:
        auditor.denied(Operation.list, "referral", None, [], ACTIVITY, {"direction": direction})
        raise forbidden(f"Your role gives no access to {direction} referrals.")
    conditions = [] if direction is None else [DIRECTIONS[direction](principal)]
    conditions += [] if status is None else [Referral.status == status]
    found, more = POLICY.page(auditor, page, *conditions, detail={"direction": direction},
                              refusal="Your role gives no access to referrals.")
    items = shared_items(auditor.session, [f.row.Referral.id for f in found])
    return [ReferralAccess.of(f, items.get(f.row.Referral.id, [])) for f in found], more


def shared_subject(referral: Referral, person: Person) -> SharedSubject:
    """Only the fields the referral shares; the rest stays null."""
    return SharedSubject(**{f: getattr(person, f) for f in referral.shared_fields if f in SharedField.__members__})


def shared_items(session: Session, referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SharedItem]]:
    """The current version of each item each referral shares."""
    query = (select(ReferralItem.referral_id, InformationItem)
             .join(InformationItem, InformationItem.item_id == ReferralItem.item_id)
             .where(ReferralItem.referral_id.in_(referral_ids), InformationItem.superseded_at.is_(None))
             .order_by(InformationItem.created_at))
    with POLICY.context():
        rows = session.exec(query).all()
    found: dict[uuid.UUID, list[SharedItem]] = {}
    for referral_id, item in rows:
        found.setdefault(referral_id, []).append(
            SharedItem(id=item.item_id, kind=item.kind, version=item.version, text=item.text, source=item.source,
                       date=item.date))
    return found


def case_for_assessment(session: Session, access: ReferralAccess) -> CaseAccess:
    """The case an assessment is added to, on behalf of the expert answering the request: the case
    itself stays out of the expert's sight (nothing of it is returned to them)."""
    with POLICY.context():
        case = session.exec(select(Case).where(Case.id == access.referral.case_id)).one()
    return CaseAccess(case, access.person, "assessment", "partner", emergency=False)


def _disclosure(session: Session, referral: Referral, person: Person, detail: dict) -> None:
    """A disclosure to another organisation's registry, by the delivery worker. Committed on its own
    before anything is sent, so that a failed or repeated attempt is on record too."""
    with GuardedSession(session.get_bind()) as audit_session:
        tenancy.act_for(audit_session, tenancy.ALL)
        write_system_event(audit_session, "referral-delivery", "disclose", "referral", DISCLOSURE, detail,
                           [person.pseudonym], referral.municipality_id, referral.id)
        audit_session.commit()


def referral_for_delivery(session: Session, referral_id: uuid.UUID) -> Referral:
    """For the delivery worker: the referral (its status and references), without personal data."""
    with POLICY.context():
        return session.exec(select(Referral).where(Referral.id == referral_id)).one()


def _person(session: Session, referral: Referral) -> Person:
    with POLICY.context():
        return session.exec(select(Person).where(Person.id == referral.person_id)).one()


def delivery_document(session: Session, referral: Referral) -> dict:
    """The JSON document for the recipient's registry, rendered now from ONLY the shared fields and
    items (the shared items make up the summary). Audited as a disclosure."""
    person = _person(session, referral)
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
    person = _person(session, referral)
    other = (referral.sender_organisation_id if referral.direction == INCOMING
             else referral.recipient_organisation_id)
    _disclosure(session, referral, person, {"status": referral.status, "direction": referral.direction,
                                            "other_organisation_id": str(other)})
    return {"note": referral.status_note}
