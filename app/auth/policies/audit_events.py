"""Audit events: who reads the audit log.

| relationship | who | may |
|---|---|---|
| privacy_officer | the privacy officer of the municipality whose data the event concerns | list, filter, access reports |

Events name persons by pseudonym only. Events of the registry as a whole (retention, export, events
written before tenancy was recorded) have no municipality and are read by maintenance only
(`casusregister audit export`). These reads are audited themselves. Anyone else: 403.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.writer import Auditor
from app.auth import tenancy
from app.auth.policy import Policy, Rule
from app.errors import ApiError
from app.models import AuditEvent, AuditEventPerson, Organisation
from app.models.audit import Outcome
from app.pagination import PageParams
from app.privacy import register

ACTIVITY = "privacy-supervision"
REFUSAL = "Only the privacy officer reads the audit log."
MAX_PERIOD_DAYS = 31

RULES = (
    Rule("privacy_officer", "event", lambda p: p.municipal_privacy_officer,
         lambda v: AuditEvent.municipality_id == v.principal.municipality_id),
)
PERSONS = select(func.aggregate_strings(AuditEventPerson.pseudonym, ",")).where(
    AuditEventPerson.event_seq == AuditEvent.seq).scalar_subquery()


def pseudonyms(row) -> list[str]:
    return sorted(row.persons.split(",")) if row.persons else []


POLICY = Policy("audit_event", ACTIVITY, RULES, select(AuditEvent, PERSONS.label("persons")), id=AuditEvent.seq,
                order=(AuditEvent.occurred_at, AuditEvent.event_id), pseudonyms=pseudonyms,
                municipality=lambda row: row.AuditEvent.municipality_id, key=lambda row: row.AuditEvent.event_id)


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
    trace_id: str | None = None
    processing_activity: str | None = None


def _conditions(f: AuditFilter) -> list:
    columns = {"actor_id": AuditEvent.actor_id, "organisation_id": AuditEvent.organisation_id,
               "resource_type": AuditEvent.resource_type, "resource_id": AuditEvent.resource_id,
               "outcome": AuditEvent.outcome, "trace_id": AuditEvent.trace_id}
    conditions = [column == getattr(f, name) for name, column in columns.items() if getattr(f, name) is not None]
    if f.since is not None:
        conditions.append(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        conditions.append(AuditEvent.occurred_at < f.until)
    if f.processing_activity is not None:  # and its events from before the register, under their old name
        conditions.append(AuditEvent.processing_activity.in_(register.known_as(f.processing_activity)))
    if f.pseudonym is not None:
        conditions.append(AuditEvent.seq.in_(
            select(AuditEventPerson.event_seq).where(AuditEventPerson.pseudonym == f.pseudonym)))
    return conditions


def require_read_rule(f: AuditFilter) -> None:
    """The read rule of the Logboek Dataverwerkingen read extension: a query names a trace, a processing
    activity or a data subject (pseudonym), or a period of at most MAX_PERIOD_DAYS; never the whole log."""
    if f.trace_id or f.processing_activity or f.pseudonym:
        return
    since, until = f.since, f.until
    if since is None or until is None or not timedelta(0) < until - since <= timedelta(days=MAX_PERIOD_DAYS):
        raise ApiError(400, f"Name a traceId, processingActivity or pseudonym, or a period (since and until) of "
                            f"at most {MAX_PERIOD_DAYS} days.", "query-too-broad",
                       errors=[{"name": "since", "location": "query", "code": "period",
                                "reason": f"since and until, at most {MAX_PERIOD_DAYS} days apart"}])


def list_events(auditor: Auditor, page: PageParams, f: AuditFilter) -> tuple[list[tuple[AuditEvent, list[str]]], bool]:
    """A page of the municipality's events; the read is audited with every pseudonym it shows. Who may
    read no events is refused (403) before a query too broad is (400)."""
    if POLICY.rules_for(auditor.principal):
        require_read_rule(f)
    filters = {k: str(v) for k, v in vars(f).items() if v is not None}
    found, more = POLICY.page(auditor, page, *_conditions(f), detail={"filter": filters}, refusal=REFUSAL)
    return [(fo.row.AuditEvent, pseudonyms(fo.row)) for fo in found], more


def processing_of(session: Session, pseudonym: str) -> list[tuple]:
    """Who processed a person's data, when, how and why (not the denied attempts): the rows of an
    access report, for the privacy officer of the person's municipality. Every event that names the
    person is about them, whatever tenant it was recorded under (events written before tenancy was
    recorded have none), so these are read across municipalities. Only the columns the report shows:
    a person may appear in thousands of events."""
    query = (select(AuditEvent.occurred_at, Organisation.name, AuditEvent.operation, AuditEvent.resource_type,
                    AuditEvent.processing_activity, AuditEvent.processing_activity_version, AuditEvent.legal_basis,
                    AuditEvent.outcome)
             .join(AuditEventPerson, AuditEventPerson.event_seq == AuditEvent.seq)
             .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
             .where(AuditEventPerson.pseudonym == pseudonym, AuditEvent.outcome != Outcome.denied)
             .order_by(AuditEvent.occurred_at, AuditEvent.seq))
    with POLICY.context(), tenancy.across_municipalities(session):
        return list(session.exec(query).all())
