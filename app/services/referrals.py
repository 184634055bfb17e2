"""Referrals: made by the coordinator from a case, answered by the recipient, withdrawn by the sender."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.audit.writer import Auditor
from app.auth.policies import idempotency
from app.auth.policies import referrals as referral_access
from app.auth.policies.cases import CaseAccess, managed_case
from app.auth.policies.items import shareable_item_ids
from app.auth.policies.referrals import ACTIVITY, ReferralAccess, activity_of
from app.auth.principal import forbidden
from app.errors import ApiError
from app.models import ExternalEndpoint, Organisation, OrganisationKind
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.case import CaseStatus
from app.models.item import ItemCreate, ItemKind
from app.models.referral import (
    OPEN_STATUSES,
    CompletionRequest,
    Referral,
    ReferralCoordinatorView,
    ReferralCreate,
    ReferralDirection,
    ReferralItem,
    ReferralKind,
    ReferralRecipientView,
    ReferralStatus,
    SharedField,
    SharedSubject,
    TransitionRequest,
)
from app.services import accounts, cases, items, outbox, referral_delivery

S = ReferralStatus
# action: (from which statuses, to which status, which party may do it)
TRANSITIONS = {
    "accept": ({S.sent}, S.accepted, "recipient"),
    "decline": ({S.sent}, S.declined, "recipient"),
    "complete": ({S.accepted}, S.completed, "recipient"),
    "withdraw": ({S.sent, S.accepted}, S.withdrawn, "sender"),
}
# What another municipality's registry accepts in POST /inbound-referrals.
EXTERNAL_FIELDS = {SharedField.name, SharedField.date_of_birth, SharedField.bsn}


@dataclass(frozen=True)
class Created:
    referral_id: uuid.UUID
    body: dict[str, Any]
    replayed: bool


def _invalid(name: str, code: str, reason: str, detail: str) -> ApiError:
    return ApiError(400, detail, errors=[{"name": name, "location": "body", "code": code, "reason": reason}])


def _recipient(session: Session, case: CaseAccess, data: ReferralCreate) -> tuple[Organisation, bool]:
    """The recipient organisation, and whether it is another municipality's registry."""
    organisation = session.get(Organisation, data.recipient_organisation_id)
    municipality = case.case.municipality_id
    if organisation is not None and organisation.id != municipality:
        if accounts.serving(session, organisation.id, municipality) is not None:
            return organisation, False
        link = session.exec(select(ExternalEndpoint).where(ExternalEndpoint.organisation_id == organisation.id,
                                                           ExternalEndpoint.municipality_id == municipality)).first()
        if organisation.kind == OrganisationKind.external_municipality and link is not None:
            _check_external_fields(data)
            return organisation, True
    raise _invalid("recipient_organisation_id", "unknown_recipient",
                   "not a partner of this network or a linked municipality", "Unknown recipient.")


def _check_external_fields(data: ReferralCreate) -> None:
    fields = set(data.shared_fields)
    if not {SharedField.name, SharedField.date_of_birth} <= fields or not fields <= EXTERNAL_FIELDS:
        raise _invalid("shared_fields", "not_deliverable", "name and date_of_birth, optionally bsn",
                       "Another municipality's registry receives the name, date of birth and optionally the BSN.")


def _check_items(session: Session, case: CaseAccess, wanted: list[uuid.UUID]) -> None:
    found = set(shareable_item_ids(session, case.case.id, wanted))
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        raise ApiError(400, "Only current information items of this case can be shared.", errors=[
            {"name": "shared_item_ids", "location": "body", "code": "unknown_item", "reason": f"not an item: {i}"}
            for i in unknown])


def submit(session: Session, auditor: Auditor, case_id: uuid.UUID, data: ReferralCreate,
           key: str | None) -> Created:
    """A new referral from a case, with an optional Idempotency-Key (a retry answers the original)."""
    principal = auditor.principal
    if principal.coordinated_municipality is None:
        auditor.denied(Operation.create, "referral", None, [], ACTIVITY, {"case_id": str(case_id)})
        raise forbidden("Only the coordinator of the case's municipality makes referrals.")
    record = None
    if key is not None:
        fingerprint = idempotency.request_fingerprint({"case_id": str(case_id)} | data.model_dump(mode="json"))
        record = idempotency.claim(session, f"{principal.actor}|referrals", key, fingerprint,
                                   principal.coordinated_municipality)
    case = managed_case(case_id, auditor)
    if record is not None and not idempotency.is_fresh(record):
        auditor.allowed(Operation.create, "referral", record.resource_id, [case.person.pseudonym], ACTIVITY,
                        {"replay": True})
        return Created(record.resource_id, record.response_body, replayed=True)
    access = create(session, auditor, case, data)
    body = present(access).model_dump(mode="json")
    if record is not None:
        idempotency.complete(session, record, 201, body, access.referral.id)
    return Created(access.referral.id, body, replayed=False)


def create(session: Session, auditor: Auditor, case: CaseAccess, data: ReferralCreate) -> ReferralAccess:
    if case.case.status == CaseStatus.closed:
        raise ApiError(409, "A closed case makes no referrals.", "case-closed")
    recipient, external = _recipient(session, case, data)
    _check_items(session, case, data.shared_item_ids)
    kind = ReferralKind.assessment_request if recipient.kind == OrganisationKind.expert_pool else ReferralKind.referral
    referral = Referral(
        kind=kind, direction=ReferralDirection.outgoing, municipality_id=case.case.municipality_id,
        case_id=case.case.id, person_id=case.person.id, sender_organisation_id=case.case.municipality_id,
        recipient_organisation_id=recipient.id, purpose=data.purpose, legal_basis=data.legal_basis,
        legal_basis_note=data.legal_basis_note, shared_fields=[f.value for f in data.shared_fields],
        due_date=data.due_date, created_by=auditor.principal.actor)
    session.add(referral)
    session.flush()
    session.add_all(ReferralItem(referral_id=referral.id, item_id=i) for i in data.shared_item_ids)
    cases.record(session, auditor, case.case.id, "referral_sent",
                 {"referral_id": str(referral.id), "recipient_organisation_id": str(recipient.id), "kind": kind})
    auditor.allowed(Operation.create, "referral", referral.id, [case.person.pseudonym],
                    activity_of(referral, recipient.kind), {"case_id": str(case.case.id), "recipient_organisation_id": str(recipient.id),
                     "legal_basis": data.legal_basis, "shared_fields": referral.shared_fields,
                     "item_ids": [str(i) for i in data.shared_item_ids], "external": external})
    outbox.notify(session, organisation_id=recipient.id, event_type="referral.received", resource_type="referral",
                  resource_id=referral.id)
    if external:
        referral_delivery.queue_delivery(session, referral)
    shared = referral_access.shared_items(session, [referral.id]).get(referral.id, [])
    return ReferralAccess(referral, case.person, "coordinator", shared, activity_of(referral, recipient.kind))


def _party(access: ReferralAccess) -> str | None:
    """Which side of the referral the caller acts for (the chair reads, and acts for neither)."""
    if access.role == "coordinator":
        return "sender" if access.referral.direction == ReferralDirection.outgoing else "recipient"
    return {"recipient": "recipient", "sender_system": "sender"}.get(access.role)


def _check_assessment(referral: Referral, action: str, assessment: str | None) -> None:
    needed = action == "complete" and referral.kind == ReferralKind.assessment_request
    if needed and assessment is None:
        raise _invalid("assessment", "missing", "required to complete a request for assessment",
                       "A request for assessment is completed with the assessment.")
    if assessment is not None and not needed:
        raise _invalid("assessment", "not_allowed", "only when completing a request for assessment",
                       "An assessment answers a request for assessment, on completion.")


def change(session: Session, auditor: Auditor, access: ReferralAccess, action: str,
           data: TransitionRequest | CompletionRequest) -> None:
    referral = access.referral
    assessment = data.assessment if isinstance(data, CompletionRequest) else None
    allowed_from, target, party = TRANSITIONS[action]
    if _party(access) != party:
        who = "recipient" if party == "recipient" else "sender"
        raise referral_access.deny_change(auditor, access, f"Only the {who} may {action} a referral.")
    if referral.status not in allowed_from:
        raise ApiError(409, f"A referral cannot go from {referral.status} to {target}.", "illegal-transition")
    _check_assessment(referral, action, assessment)
    previous = referral.status
    referral.status, referral.status_note, referral.updated_at = target, data.note, utcnow()
    if assessment is not None:
        referral.assessment_item_id = _add_assessment(session, auditor, access, assessment)
    session.add(referral)
    if referral.case_id is not None:
        cases.record(session, auditor, referral.case_id, f"referral_{target}", {"referral_id": str(referral.id)})
    auditor.allowed(Operation.update, "referral", referral.id, [access.person.pseudonym], access.activity,
                    {"status": [previous, target], "view": access.role}, municipality_id=referral.municipality_id)
    _announce(session, access, party)


def _announce(session: Session, access: ReferralAccess, party: str) -> None:
    """Tells the other party: a webhook event for its subscriptions, and, when it is another
    registry, the change itself (unless that registry is where the change came from)."""
    referral = access.referral
    incoming = referral.direction == ReferralDirection.incoming
    senders_side = referral.municipality_id if not incoming else referral.sender_organisation_id
    recipients_side = referral.recipient_organisation_id
    other = recipients_side if party == "sender" else senders_side
    outbox.notify(session, organisation_id=other, event_type="referral.status_changed", resource_type="referral",
                  resource_id=referral.id)
    if access.role != "coordinator":
        return  # the change came from the other side's system or user: nothing to send back
    if referral_delivery.is_external(session, referral):
        referral_delivery.queue_status(session, referral)


def _add_assessment(session: Session, auditor: Auditor, access: ReferralAccess, text: str) -> uuid.UUID:
    """The answer lands in the case as an information item, shared with the municipality (and the
    expert pool as its contributor); the expert still sees nothing else of the case."""
    case = referral_access.case_for_assessment(session, access)
    data = ItemCreate(kind=ItemKind.assessment, text=text, source=f"Request for assessment {access.referral.id}",
                      date=date.today())
    item, _ = items.add_item(session, auditor, case, data, members=[])
    return item.item_id


def present(access: ReferralAccess) -> ReferralCoordinatorView | ReferralRecipientView:
    """The coordinator (and the chair of a meeting with the case on its agenda) sees the whole
    referral; a recipient its shared data, and only while it is open."""
    referral, shared = access.referral, access.items
    full = access.role in ("coordinator", "chair")
    is_open = referral.status in OPEN_STATUSES or full
    fields = dict(
        id=referral.id, kind=referral.kind, direction=referral.direction, status=referral.status,
        sender_organisation_id=referral.sender_organisation_id,
        recipient_organisation_id=referral.recipient_organisation_id, sender_reference=referral.sender_reference,
        purpose=referral.purpose, legal_basis=referral.legal_basis, legal_basis_note=referral.legal_basis_note,
        shared_fields=referral.shared_fields,
        subject=referral_access.shared_subject(referral, access.person) if is_open else SharedSubject(),
        items=shared if is_open else [], summary=referral.summary if is_open else None,
        due_date=referral.due_date, status_note=referral.status_note, created_at=referral.created_at,
        updated_at=referral.updated_at)
    if full:
        return ReferralCoordinatorView(**fields, view=access.role, case_id=referral.case_id, signal_id=referral.signal_id,
                                       external_reference=referral.external_reference,
                                       assessment_item_id=referral.assessment_item_id)
    return ReferralRecipientView(**fields)
