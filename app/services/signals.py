"""Signal intake."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies import idempotency
from app.auth.policies.signals import INTAKE, SignalAccess, insert_signal
from app.auth.principal import Principal, forbidden
from app.errors import ApiError
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
from app.services import outbox, persons


@dataclass(frozen=True)
class Submission:
    signal_id: uuid.UUID
    body: dict[str, Any]
    replayed: bool


def submit(session: Session, auditor: Auditor, secret: str, data: SignalCreate, key: str | None) -> Submission:
    """Intake with an optional Idempotency-Key: a retry answers the original response."""
    principal = auditor.principal
    if not principal.may_report:
        auditor.denied(Operation.create, "signal", None, [], INTAKE)
        raise forbidden("Only reporters and systems with scope signals:create submit signals.")
    municipality_id = _destination(principal, data)
    record = None
    if key is not None:
        # Without a municipality named, the body hashes as it did before the field existed.
        unnamed = {"municipality_id"} if data.municipality_id is None else None
        fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json", exclude=unnamed))
        record = idempotency.claim(session, f"{principal.actor}|signals", key, fingerprint, municipality_id)
        if not idempotency.is_fresh(record):
            auditor.allowed(Operation.create, "signal", record.resource_id, [], INTAKE, {"replay": True},
                            municipality_id=municipality_id)
            return Submission(record.resource_id, record.response_body, replayed=True)
    access = create_signal(session, auditor, secret, data, municipality_id)
    body = present(access).model_dump(mode="json")
    if record is not None:
        idempotency.complete(session, record, 201, body, access.signal.id)
    return Submission(access.signal.id, body, replayed=False)


def _destination(principal: Principal, data: SignalCreate) -> uuid.UUID:
    """The municipality the signal is for: the one named, which must be one the reporter works in, or
    else the reporter's own organisation's."""
    if data.municipality_id is None:
        if principal.municipality_id is None:
            raise forbidden("Your organisation is not part of a municipality's network.")
        return principal.municipality_id
    if data.municipality_id not in principal.municipalities:
        raise ApiError(400, "You do not report to this municipality.", errors=[
            {"name": "municipality_id", "location": "body", "code": "unknown_municipality",
             "reason": "not a municipality your organisation works in"}])
    return data.municipality_id


def create_signal(session: Session, auditor: Auditor, secret: str, data: SignalCreate,
                  municipality_id: uuid.UUID) -> SignalAccess:
    """A reported signal for `municipality_id`: the reporter's, or for an inbound referral from another
    municipality's system, the municipality linked with it."""
    principal = auditor.principal
    auditor.acting_for = municipality_id
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
    insert_signal(session, signal)
    auditor.allowed(Operation.create, "signal", signal.id, [person.pseudonym], INTAKE)
    outbox.notify(session, organisation_id=signal.municipality_id, event_type=WebhookEvent.signal_received,
                  resource_type="signal", resource_id=signal.id)
    return SignalAccess(signal, person, "reporter", "reporter")


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
