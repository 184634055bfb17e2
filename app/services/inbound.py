"""Referrals from another municipality's registry: received here and put into triage as a signal."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies import idempotency
from app.auth.policies.referrals import TO_REGISTRY as ACTIVITY
from app.auth.principal import forbidden
from app.errors import ApiError
from app.models import ExternalEndpoint, Organisation, Scope
from app.models.audit import Operation
from app.models.referral import (
    InboundReceipt,
    InboundReferral,
    Referral,
    ReferralDirection,
    ReferralKind,
)
from app.models.signal import Channel, SignalCategory, SignalCreate, SubjectIn
from app.services import outbox, signals
from app.services.endpoints import endpoint_of


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    created: bool


def _linked_sender(session: Session, auditor: Auditor) -> ExternalEndpoint:
    principal = auditor.principal
    link = endpoint_of(session, principal.organisation_id) if principal.has_scope(Scope.referrals_send) else None
    if link is None:
        auditor.denied(Operation.create, "referral", None, [], ACTIVITY, {"inbound": True})
        raise forbidden("Only a linked municipality's system with scope referrals:send sends referrals here.")
    return link


def _claim(session: Session, auditor: Auditor, data: InboundReferral, link: ExternalEndpoint):
    """Idempotent per sending organisation and its reference, whichever of its clients retries."""
    actor = f"org:{auditor.principal.organisation_id}|inbound-referrals"
    fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json"))
    try:
        return idempotency.claim(session, actor, data.sender_reference, fingerprint, link.municipality_id)
    except ApiError as exc:
        if exc.status != 409:
            raise
        raise ApiError(409, "This sender_reference was already used for a different referral.",
                       "sender-reference-reused") from exc


def receive(session: Session, auditor: Auditor, secret: str, data: InboundReferral) -> Received:
    link = _linked_sender(session, auditor)
    auditor.acting_for = link.municipality_id
    record = _claim(session, auditor, data, link)
    if not idempotency.is_fresh(record):
        auditor.allowed(Operation.create, "referral", record.resource_id, [], ACTIVITY, {"replay": True})
        return Received(record.response_body, created=False)
    referral = _create(session, auditor, secret, link, data)
    body = InboundReceipt(id=referral.id, sender_reference=data.sender_reference, status=referral.status,
                          created_at=referral.created_at).model_dump(mode="json")
    idempotency.complete(session, record, 201, body, referral.id)
    return Received(body, created=True)


def _signal_for_triage(session: Session, sender_id, data: InboundReferral) -> SignalCreate:
    sender = session.get(Organisation, sender_id)
    subject = data.subject
    return SignalCreate(
        subject=SubjectIn(name=subject.name, date_of_birth=subject.date_of_birth, bsn=subject.bsn),
        categories=[SignalCategory.other], channel=Channel.registration_system, observed_at=datetime.now(UTC),
        description=f"Referral from {sender.name} ({data.sender_reference}): {data.purpose}")


def _create(session: Session, auditor: Auditor, secret: str, link: ExternalEndpoint,
            data: InboundReferral) -> Referral:
    principal = auditor.principal
    signal = signals.create_signal(session, auditor, secret, _signal_for_triage(session, principal.organisation_id, data),
                                   municipality_id=link.municipality_id)
    shared = [f for f in ("name", "date_of_birth", "bsn") if getattr(data.subject, f) is not None]
    referral = Referral(
        kind=ReferralKind.referral, direction=ReferralDirection.incoming, municipality_id=link.municipality_id,
        person_id=signal.person.id, signal_id=signal.signal.id, sender_organisation_id=principal.organisation_id,
        recipient_organisation_id=link.municipality_id, sender_reference=data.sender_reference,
        purpose=data.purpose, legal_basis=data.legal_basis, shared_fields=shared, summary=data.summary,
        created_by=principal.actor)
    session.add(referral)
    session.flush()
    auditor.allowed(Operation.create, "referral", referral.id, [signal.person.pseudonym], ACTIVITY,
                    {"inbound": True, "signal_id": str(signal.signal.id), "legal_basis": data.legal_basis,
                     "shared_fields": shared})
    outbox.notify(session, organisation_id=link.municipality_id, event_type="referral.received",
                  resource_type="referral", resource_id=referral.id)
    return referral
