"""Writing audit events: every access to personal data, and every denied attempt."""

import uuid
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Select, bindparam, func, insert, select, true
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from app.auth import guard
from app.auth.principal import CurrentPrincipal, Principal
from app.db import SessionDep, dialect_name
from app.models import AuditEvent, AuditEventPerson
from app.models.audit import Operation, Outcome

EVENTS = AuditEvent.__table__
PERSONS = AuditEventPerson.__table__
# Built once and reused with parameters: SQLAlchemy then neither rebuilds nor re-keys them per request.
INSERT_EVENT = insert(EVENTS).returning(EVENTS.c.seq)
INSERT_PERSONS = insert(PERSONS)


def _event_with_persons() -> Select:
    """PostgreSQL: the event and its persons in one statement, one round trip instead of two."""
    columns = {column.name: bindparam(column.name, type_=column.type) for column in EVENTS.c if column.name != "seq"}
    event = insert(EVENTS).values(columns).returning(EVENTS.c.seq).cte("event")
    named = func.unnest(bindparam("pseudonyms", type_=postgresql.ARRAY(PERSONS.c.pseudonym.type))).alias("named")
    each_name = select(event.c.seq, named.column).select_from(event.join(named, true()))  # one event, n names
    persons = insert(PERSONS).from_select(["event_seq", "pseudonym"], each_name).cte("persons")
    return select(event.c.seq).add_cte(persons)


EVENT_WITH_PERSONS = _event_with_persons()

PUBLIC_TASK = "AVG art. 6(1)(e), public task: person-centred approach (Gemeentewet art. 172)"
# Processing activities (verwerkingsactiviteiten) and the legal basis each rests on.
LEGAL_BASIS = {
    "signal-intake": PUBLIC_TASK,
    "signal-follow-up": PUBLIC_TASK,
    "person-search": PUBLIC_TASK,
    "case-management": PUBLIC_TASK,
    "emergency-access": "AVG art. 6(1)(d), vital interests: emergency access, reviewed afterwards",
    "privacy-supervision": "AVG art. 38-39: supervision by the data protection officer",
    "statistics": "AVG art. 89: aggregated statistics for evaluation, small counts suppressed",
    "retention": "AVG art. 5(1)(e), storage limitation: erasure after the retention period",
    "referral": "AVG art. 6(1): the basis recorded on the referral (detail.legal_basis)",
    "referral-disclosure": "AVG art. 6(1): the basis recorded on the referral (detail.legal_basis); "
                           "disclosure to another organisation's registry",
}


def write_event(session: Session, event: AuditEvent, pseudonyms: Iterable[str]) -> AuditEvent:
    """Plain INSERTs rather than the ORM's unit of work: this runs on every audited request, and the
    rows are never changed afterwards."""
    values, names = event.model_dump(exclude={"seq"}), sorted(set(pseudonyms))
    with guard.access("audit log"):
        if names and dialect_name(session) == "postgresql":
            event.seq = session.execute(EVENT_WITH_PERSONS, values | {"pseudonyms": names}).scalar_one()
            return event
        event.seq = session.execute(INSERT_EVENT, values).scalar_one()
        if names:
            session.execute(INSERT_PERSONS, [{"event_seq": event.seq, "pseudonym": name} for name in names])
    return event


class Auditor:
    """Records what one principal does in one request.

    Allowed accesses join the request's transaction, so they commit with the data (no audit, no
    data). Denials commit at once, because the failing request rolls back.
    """

    def __init__(self, request: Request, session: Session, principal: Principal) -> None:
        self.request, self.session, self.principal = request, session, principal
        self.settings = request.app.state.settings
        # The municipality whose data the request works on, once a policy admitted the caller to it:
        # the tenant of the events that follow, unless one names its own.
        self.acting_for: uuid.UUID | None = None

    def _event(self, operation: Operation, resource_type: str, resource_id: Any, outcome: Outcome,
               activity: str, detail: dict | None, municipality_id: uuid.UUID | None) -> AuditEvent:
        p = self.principal
        return AuditEvent(
            trace_id=self.request.state.request_id, actor_kind=p.kind, actor_id=str(p.id),
            actor_name=p.name, organisation_id=p.organisation_id,
            municipality_id=municipality_id or self.acting_for or p.municipality_id,
            roles=",".join(sorted(p.roles | p.scopes)), operation=operation, resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id), outcome=outcome,
            processing_activity=activity, legal_basis=LEGAL_BASIS.get(activity),
            client_address=self.request.client.host if self.request.client else None,
            detail=detail or {})

    def allowed(self, operation: Operation, resource_type: str, resource_id: Any, pseudonyms: Iterable[str],
                activity: str, detail: dict | None = None, emergency: bool = False,
                municipality_id: uuid.UUID | None = None) -> AuditEvent:
        """`emergency`: allowed only through break-the-glass, marked for the privacy officer's review."""
        outcome = Outcome.emergency if emergency else Outcome.allowed
        event = self._event(operation, resource_type, resource_id, outcome, activity, detail, municipality_id)
        return write_event(self.session, event, pseudonyms)

    def denied(self, operation: Operation, resource_type: str, resource_id: Any, pseudonyms: Iterable[str],
               activity: str, detail: dict | None = None, municipality_id: uuid.UUID | None = None) -> None:
        """Commits at once, because the request is about to fail and roll back.

        Access is decided before anything changes, so what the commit takes along is at most the
        audit of reads this request already made. One connection: SQLite has a single writer.
        """
        event = self._event(operation, resource_type, resource_id, Outcome.denied, activity, detail, municipality_id)
        write_event(self.session, event, pseudonyms)
        self.session.commit()


async def get_auditor(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Auditor:
    """Async: it only builds an object, so it need not take a trip through the thread pool."""
    return Auditor(request, session, principal)


AuditorDep = Annotated[Auditor, Depends(get_auditor)]


def write_system_event(session: Session, operator: str, operation: str, resource_type: str, activity: str,
                       detail: dict, pseudonyms: Iterable[str] = (), municipality_id: uuid.UUID | None = None,
                       resource_id: Any = None) -> AuditEvent:
    """An event for work done by the registry itself (export, retention, delivery), by a named operator."""
    event = AuditEvent(trace_id=str(uuid.uuid4()), actor_kind="system", actor_name=operator[:100],
                       municipality_id=municipality_id, operation=operation, resource_type=resource_type,
                       resource_id=None if resource_id is None else str(resource_id), outcome=Outcome.allowed,
                       processing_activity=activity, legal_basis=LEGAL_BASIS.get(activity), detail=detail)
    return write_event(session, event, pseudonyms)
