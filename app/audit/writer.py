"""Writing audit events: every access to personal data, and every denied attempt."""

import functools
import uuid
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Select, bindparam, func, insert, select, true
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from app import tracing
from app.auth import guard
from app.auth.principal import CurrentPrincipal, Principal
from app.db import SessionDep, dialect_name
from app.models import AuditEvent, AuditEventPerson, ExternalEndpoint
from app.models.audit import Operation, Outcome
from app.privacy import register

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

def _registered(session: Session, event: AuditEvent) -> None:
    """The event names the current version of its activity in the register, and its legal basis; an
    activity the register does not hold fails the request (no audit, no data)."""
    activity = register.activity(session.connection(), event.processing_activity)
    event.processing_activity_version, event.legal_basis = activity.version, activity.legal_basis


def _traced(event: AuditEvent, trace: tracing.Trace) -> None:
    event.trace_id, event.span_id, event.parent_span_id = trace.trace_id, trace.step(), trace.parent_span_id


def write_event(session: Session, event: AuditEvent, pseudonyms: Iterable[str]) -> AuditEvent:
    """Plain INSERTs rather than the ORM's unit of work: this runs on every audited request, and the
    rows are never changed afterwards. The event as given: Auditor and write_system_event complete it."""
    values, names = event.model_dump(exclude={"seq"}), sorted(set(pseudonyms))
    with guard.access("audit log"):
        if names and dialect_name(session) == "postgresql":
            event.seq = session.execute(EVENT_WITH_PERSONS, values | {"pseudonyms": names}).scalar_one()
            return event
        event.seq = session.execute(INSERT_EVENT, values).scalar_one()
        if names:
            session.execute(INSERT_PERSONS, [{"event_seq": event.seq, "pseudonym": name} for name in names])
    return event


USER_APPLICATION = "urn:nl:casusregister:user-application"


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
        event = AuditEvent(
            trace_id="", actor_kind=p.kind, actor_id=str(p.id),
            actor_name=p.name, organisation_id=p.organisation_id,
            municipality_id=municipality_id or self.acting_for or p.municipality_id,
            roles=",".join(sorted(p.roles | p.scopes)), operation=operation, resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id), outcome=outcome,
            processing_activity=activity, client_address=self.request.client.host if self.request.client else None,
            detail=detail or {})
        _traced(event, self.request.state.trace)
        _registered(self.session, event)
        if self.request.state.trace.foreign:
            event.foreign_processor = self._foreign_processor
        return event

    @functools.cached_property
    def _foreign_processor(self) -> str:
        """The application whose operation this request continues: another registry by its address, any
        other system by its client id; a user's application cannot be told apart, but is another's."""
        p = self.principal
        if p.kind != "client":
            return USER_APPLICATION
        base_url = self.session.execute(select(ExternalEndpoint.base_url).where(
            ExternalEndpoint.organisation_id == p.organisation_id)).scalar()
        return base_url or f"urn:nl:casusregister:client:{p.name}"

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
    """An event for work done by the registry itself (export, retention, delivery), by a named operator:
    a step of the current trace (a delivery continues the trace of the step that sent it), else of a new one."""
    event = AuditEvent(trace_id="", actor_kind="system", actor_name=operator[:100],
                       municipality_id=municipality_id, operation=operation, resource_type=resource_type,
                       resource_id=None if resource_id is None else str(resource_id), outcome=Outcome.allowed,
                       processing_activity=activity, detail=detail)
    _traced(event, tracing.current() or tracing.Trace.start())
    _registered(session, event)
    return write_event(session, event, pseudonyms)
