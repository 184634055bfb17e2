"""Signal intake."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.principal import forbidden
from app.auth.signal_access import SignalAccess
from app.models import Signal
from app.models.audit import Operation
from app.models.outbox import WebhookEvent
from app.models.person import PersonPublic
from app.models.signal import (
    REPORTER_STATUS,
    ReporterRef,
    SignalCreate,
    SignalFullView,
    SignalReporterView,
    SignalStatus,
    SubjectReported,
)
from app.services import idempotency, outbox, persons

# A plain INSERT, built once, rather than the ORM's unit of work: intake is the busiest write, and the
# signal is not changed again in that request.
INSERT_SIGNAL = insert(Signal.__table__)


@dataclass(frozen=True)
class Submission:
    signal_id: uuid.UUID
    body: dict[str, Any]
    replayed: bool


def submit(session: Session, auditor: Auditor, secret: str, data: SignalCreate, key: str | None) -> Submission:
    """Intake with an optional Idempotency-Key: a retry answers the original response."""
    principal = auditor.principal
    if not principal.may_report:
        auditor.denied(Operation.create, "signal", None, [], "signal-intake")
        raise forbidden("Only reporters and systems with scope signals:create submit signals.")
    record = None
    if key is not None:
        fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json"))
        record = idempotency.claim(session, f"{principal.actor}|signals", key, fingerprint)
        if not idempotency.is_fresh(record):
            auditor.allowed(Operation.create, "signal", record.resource_id, [], "signal-intake", {"replay": True})
            return Submission(record.resource_id, record.response_body, replayed=True)
    access = create_signal(session, auditor, secret, data)
    body = present(access).model_dump(mode="json")
    if record is not None:
        idempotency.complete(session, record, 201, body, access.signal.id)
    return Submission(access.signal.id, body, replayed=False)


def create_signal(session: Session, auditor: Auditor, secret: str, data: SignalCreate,
                  municipality_id: uuid.UUID | None = None) -> SignalAccess:
    """`municipality_id`: where the signal goes when not the reporter's own network (an inbound
    referral from another municipality's system goes to the municipality linked with it)."""
    principal = auditor.principal
    municipality_id = municipality_id or principal.municipality_id
    if municipality_id is None:
        raise forbidden("Your organisation is not part of a municipality's network.")
    person, reason = persons.match_or_create(session, secret, municipality_id, data.subject, data.district)
    subject = data.subject
    signal = Signal(
        municipality_id=municipality_id, person_id=person.id, subject_name=subject.name,
        subject_date_of_birth=subject.date_of_birth, subject_bsn=subject.bsn, subject_address=subject.address,
        reporter_kind=principal.kind,
        reporter_id=principal.id, reporter_organisation_id=principal.organisation_id,
        categories=[c.value for c in data.categories], description=data.description,
        observed_at=data.observed_at, urgency=data.urgency, channel=data.channel, district=data.district,
        status=SignalStatus.received, match_reason=reason)
    session.execute(INSERT_SIGNAL, signal.model_dump())
    auditor.allowed(Operation.create, "signal", signal.id, [person.pseudonym], "signal-intake")
    outbox.notify(session, organisation_id=signal.municipality_id, event_type=WebhookEvent.signal_received,
                  resource_type="signal", resource_id=signal.id)
    return SignalAccess(signal, person, "reporter")


def present(access: SignalAccess) -> SignalFullView | SignalReporterView:
    """The response a caller gets: the full view only where the access decision said so."""
    signal = access.signal
    if access.view == "reporter":
        return SignalReporterView(id=signal.id, status=REPORTER_STATUS[SignalStatus(signal.status)],
                                  submitted_at=signal.created_at)
    return SignalFullView(
        id=signal.id, status=signal.status, municipality_id=signal.municipality_id,
        subject=SubjectReported(name=signal.subject_name, date_of_birth=signal.subject_date_of_birth,
                                bsn=signal.subject_bsn, address=signal.subject_address),
        person=PersonPublic.model_validate(access.person, from_attributes=True), match_reason=signal.match_reason,
        categories=signal.categories, description=signal.description, observed_at=signal.observed_at,
        urgency=signal.urgency, channel=signal.channel, district=signal.district,
        reporter=ReporterRef(kind=signal.reporter_kind, id=signal.reporter_id,
                             organisation_id=signal.reporter_organisation_id),
        case_id=signal.case_id, triage_reason=signal.triage_reason, matches=access.matches,
        created_at=signal.created_at, updated_at=signal.updated_at)
