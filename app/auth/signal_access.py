"""The choke point for signals: scoped queries, access decisions and their audit events."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app.audit.writer import AuditorDep
from app.auth import person_access
from app.auth.case_access import chaired_case_ids
from app.auth.principal import Principal, forbidden
from app.errors import not_found
from app.models import Case, Person, Role, Signal
from app.models.audit import Operation
from app.models.matching import SignalMatch
from app.pagination import PageParams, keyset

SignalViewKind = Literal["full", "reporter"]
MAX_MATCHES = 50


@dataclass(frozen=True)
class SignalAccess:
    signal: Signal
    person: Person
    view: SignalViewKind
    matches: list[SignalMatch] | None = None


def _own_reports(principal: Principal):
    return and_(Signal.reporter_kind == principal.kind, Signal.reporter_id == principal.id)


def _signal_conditions(principal: Principal) -> list:
    conditions = []
    if (municipality := principal.coordinated_municipality) is not None:
        conditions.append(Signal.municipality_id == municipality)
    if principal.may_report:
        conditions.append(_own_reports(principal))
    return conditions


def visible_signals(principal: Principal):
    """Signals the principal may know of: their municipality's as coordinator, their own as reporter,
    and as chair those of the cases on the agendas they chair (DESIGN.md), each with whether that is so."""
    conditions = _signal_conditions(principal)
    on_agenda = Signal.case_id.in_(chaired_case_ids(principal))
    where = or_(*conditions, on_agenda)
    return select(Signal, Person, on_agenda.label("on_chaired_agenda")).join(
        Person, Person.id == Signal.person_id).where(where)


def view_for(principal: Principal, signal: Signal, on_chaired_agenda: bool) -> SignalViewKind:
    if signal.municipality_id == principal.coordinated_municipality or on_chaired_agenda:
        return "full"
    return "reporter"


def _activity(view: SignalViewKind) -> str:
    return "signal-follow-up" if view == "full" else "signal-intake"


def _pseudonym_of(session: Session, signal_id: uuid.UUID) -> list[str]:
    """For a denial: whose data the attempt was aimed at, if the signal exists."""
    query = select(Person.pseudonym).join(Signal, Signal.person_id == Person.id).where(Signal.id == signal_id)
    return list(session.exec(query).all())


def readable_signal(id: Annotated[uuid.UUID, Path(description="Signal id")], auditor: AuditorDep) -> SignalAccess:
    principal, session = auditor.principal, auditor.session
    row = session.exec(visible_signals(principal).where(Signal.id == id)).first()
    if row is None:
        auditor.denied(Operation.read, "signal", id, _pseudonym_of(session, id), "signal-follow-up")
        raise not_found()
    signal, person, on_chaired_agenda = row
    view = view_for(principal, signal, on_chaired_agenda)
    # The matches (other records that may be the same person) serve triage: the coordinator's only.
    coordinating = signal.municipality_id == principal.coordinated_municipality
    matches, lookalikes = _matches(session, signal, person) if coordinating else (None, [])
    auditor.allowed(Operation.read, "signal", id, [person.pseudonym, *lookalikes], _activity(view), {"view": view})
    return SignalAccess(signal, person, view, matches)


def _matches(session: Session, signal: Signal, person: Person) -> tuple[list[SignalMatch], list[str]]:
    """Other signals and cases about this person, and about records that share name and birth date
    but not the BSN; with why each matched. Found through the person and name/birth-date indexes."""
    lookalikes = person_access.same_name_and_birth_date(session, person)
    reason_by_person = {person.id: "bsn" if person.bsn else "name_and_date_of_birth"}
    reason_by_person |= {p.id: "name_and_date_of_birth_bsn_differs" for p in lookalikes}
    person_ids = list(reason_by_person)
    signals = session.exec(select(Signal).where(Signal.person_id.in_(person_ids), Signal.id != signal.id)
                           .order_by(Signal.created_at.desc()).limit(MAX_MATCHES)).all()
    cases = session.exec(select(Case).where(Case.person_id.in_(person_ids)).order_by(Case.created_at.desc())).all()
    found = [SignalMatch(kind="case", id=c.id, number=c.number, status=c.status, created_at=c.created_at,
                         reason=reason_by_person[c.person_id]) for c in cases]
    found += [SignalMatch(kind="signal", id=s.id, number=None, status=s.status, created_at=s.created_at,
                          reason=reason_by_person[s.person_id]) for s in signals]
    return found, [p.pseudonym for p in lookalikes]


ReadableSignal = Annotated[SignalAccess, Depends(readable_signal)]


def list_signals(auditor: AuditorDep, page: PageParams, status: str | None) -> tuple[list[SignalAccess], bool]:
    """One page of visible signals, newest first, and whether more follow; one audit event per page."""
    principal, session = auditor.principal, auditor.session
    if not _signal_conditions(principal) and not principal.has_role(Role.chair):
        auditor.denied(Operation.list, "signal", None, [], "signal-follow-up")
        raise forbidden("Your role gives no access to signals.")
    query = visible_signals(principal)
    if status is not None:
        query = query.where(Signal.status == status)
    rows = session.exec(keyset(query, page, Signal.created_at, Signal.id)).all()
    accesses = [SignalAccess(s, p, view_for(principal, s, chaired)) for s, p, chaired in rows[: page.size]]
    full = any(a.view == "full" for a in accesses)
    auditor.allowed(Operation.list, "signal", None, [a.person.pseudonym for a in accesses],
                    _activity("full" if full else "reporter"),
                    {"count": len(accesses), "status": status, "signal_ids": [str(a.signal.id) for a in accesses]})
    return accesses, len(rows) > page.size
