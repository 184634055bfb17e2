"""The privacy officer's reading of the audit log: filtered lists and a person's access report.

The privacy officer reads who did what with pseudonyms, never case content; these reads are
themselves audited.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from app.audit.writer import Auditor
from app.auth.principal import forbidden
from app.errors import not_found
from app.models import AuditEvent, AuditEventPerson, Organisation, Person, Role
from app.models.audit import (
    AccessReport,
    Operation,
    OrganisationSummary,
    Outcome,
    ProcessingRecord,
)
from app.models.base import utcnow
from app.pagination import PageParams, keyset

ACTIVITY = "privacy-supervision"


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor_id: str | None = None
    organisation_id: uuid.UUID | None = None
    pseudonym: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    outcome: Outcome | None = None


def _privacy_officer(auditor: Auditor, operation: Operation, resource_type: str) -> None:
    if not auditor.principal.has_role(Role.privacy_officer):
        auditor.denied(operation, resource_type, None, [], ACTIVITY)
        raise forbidden("Only the privacy officer reads the audit log.")


def _filtered(f: AuditFilter):
    query = select(AuditEvent)
    columns = {"actor_id": AuditEvent.actor_id, "organisation_id": AuditEvent.organisation_id,
               "resource_type": AuditEvent.resource_type, "resource_id": AuditEvent.resource_id,
               "outcome": AuditEvent.outcome}
    for name, column in columns.items():
        if (value := getattr(f, name)) is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.occurred_at < f.until)
    if f.pseudonym is not None:
        query = query.where(AuditEvent.seq.in_(
            select(AuditEventPerson.event_seq).where(AuditEventPerson.pseudonym == f.pseudonym)))
    return query


def _persons_of(auditor: Auditor, seqs: list[int]) -> dict[int, list[str]]:
    rows = auditor.session.exec(select(AuditEventPerson).where(AuditEventPerson.event_seq.in_(seqs))
                                .order_by(AuditEventPerson.pseudonym)).all()
    persons: dict[int, list[str]] = {}
    for row in rows:
        persons.setdefault(row.event_seq, []).append(row.pseudonym)
    return persons


def list_events(auditor: Auditor, page: PageParams, f: AuditFilter) -> tuple[list[tuple[AuditEvent, list[str]]], bool]:
    _privacy_officer(auditor, Operation.list, "audit_event")
    rows = auditor.session.exec(keyset(_filtered(f), page, AuditEvent.occurred_at, AuditEvent.event_id)).all()
    events = list(rows[: page.size])
    persons = _persons_of(auditor, [e.seq for e in events])
    auditor.allowed(Operation.list, "audit_event", None, sorted({p for ps in persons.values() for p in ps}), ACTIVITY,
                    {"count": len(events), "filter": {k: str(v) for k, v in vars(f).items() if v is not None}})
    return [(e, persons.get(e.seq, [])) for e in events], len(rows) > page.size


def access_report(auditor: Auditor, person_id: uuid.UUID) -> AccessReport:
    """Which organisations processed this person's data, when, how, why (AVG art. 15)."""
    _privacy_officer(auditor, Operation.read, "access_report")
    session = auditor.session
    person = session.get(Person, person_id)
    if person is None or person.municipality_id != auditor.principal.municipality_id:
        auditor.denied(Operation.read, "access_report", person_id, [], ACTIVITY)
        raise not_found()
    # Only the columns the report shows: a person may appear in thousands of events, and whole
    # AuditEvent entities (with their JSON detail) cost most of the report's time.
    query = (select(AuditEvent.occurred_at, Organisation.name, AuditEvent.operation, AuditEvent.resource_type,
                    AuditEvent.processing_activity, AuditEvent.legal_basis, AuditEvent.outcome)
             .join(AuditEventPerson, AuditEventPerson.event_seq == AuditEvent.seq)
             .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
             .where(AuditEventPerson.pseudonym == person.pseudonym, AuditEvent.outcome != Outcome.denied)
             .order_by(AuditEvent.occurred_at, AuditEvent.seq))
    processing = [ProcessingRecord(occurred_at=at, organisation=name or "Casusregister (beheer)", operation=operation,
                                   resource_type=resource_type, purpose=activity, legal_basis=basis,
                                   emergency=outcome == Outcome.emergency)
                  for at, name, operation, resource_type, activity, basis, outcome in session.exec(query).all()]
    auditor.allowed(Operation.read, "access_report", person_id, [person.pseudonym], ACTIVITY,
                    {"records": len(processing)})
    return AccessReport(pseudonym=person.pseudonym, name=person.name, date_of_birth=person.date_of_birth,
                        generated_at=utcnow(), organisations=_summarise(processing), processing=processing)


def _summarise(processing: list[ProcessingRecord]) -> list[OrganisationSummary]:
    summary: dict[str, OrganisationSummary] = {}
    for record in processing:
        entry = summary.get(record.organisation)
        if entry is None:
            summary[record.organisation] = OrganisationSummary(organisation=record.organisation, first=record.occurred_at,
                                                               last=record.occurred_at, count=1)
        else:
            entry.last, entry.count = record.occurred_at, entry.count + 1
    return sorted(summary.values(), key=lambda s: s.organisation)
