"""Signals: who may know a signal exists, and in which view.

| relationship | who | view | may |
|---|---|---|---|
| coordinator | the coordinator of the signal's municipality | full, with the records that may be the same person | read, triage, re-open |
| system | a system of that municipality with scope signals:read (its own case system) | full | read |
| chair | a chair, while the signal's case is on the agenda of a meeting they chair (the case's chair window) | full | read |
| reporter | the user or system that reported it | reporter: whether it was picked up, nothing more | read |

The reporter learns nothing the registry knows about the person. Anyone else: 404.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path
from sqlalchemy import and_, insert
from sqlmodel import Session, select

from app.audit.writer import Auditor, AuditorDep
from app.auth.policies import persons
from app.auth.policies.cases import chaired_case_ids
from app.auth.policy import Found, Policy, Rule, Viewer
from app.errors import not_found
from app.models import Case, Person, Scope, Signal
from app.models.audit import Operation
from app.models.matching import SignalMatch
from app.pagination import PageParams

SignalViewKind = Literal["full", "reporter"]
FOLLOW_UP, INTAKE = "signal-triage", "signal-intake"
TRIAGE = {"coordinator"}
MAX_MATCHES = 50

RULES = (
    Rule("coordinator", "full", lambda p: p.coordinated_municipality is not None,
         lambda v: Signal.municipality_id == v.principal.coordinated_municipality),
    Rule("system", "full", lambda p: p.has_scope(Scope.signals_read) and p.works_for_municipality,
         lambda v: Signal.municipality_id == v.principal.municipality_id),
    Rule("chair", "full", lambda p: p.municipal_chair, lambda v: Signal.case_id.in_(chaired_case_ids(v))),
    Rule("reporter", "reporter", lambda p: p.may_report,
         lambda v: and_(Signal.reporter_kind == v.principal.kind, Signal.reporter_id == v.principal.id),
         activity=INTAKE),
)
POLICY = Policy("signal", FOLLOW_UP, RULES, select(Signal, Person).join(Person, Person.id == Signal.person_id),
                id=Signal.id, order=(Signal.created_at, Signal.id), pseudonyms=lambda row: [row.Person.pseudonym],
                municipality=lambda row: row.Signal.municipality_id)
INSERT_SIGNAL = insert(Signal.__table__)


@dataclass(frozen=True)
class SignalAccess:
    signal: Signal
    person: Person
    rule: str
    view: SignalViewKind
    matches: list[SignalMatch] | None = None

    @classmethod
    def of(cls, found: Found, matches: list[SignalMatch] | None = None) -> "SignalAccess":
        return cls(found.row.Signal, found.row.Person, found.rule.name, found.view, matches)


def readable_signal(id: Annotated[uuid.UUID, Path(description="Signal id")], auditor: AuditorDep) -> SignalAccess:
    """The signal as the caller may see it. The coordinator also gets the other records that may be
    the same person (to triage), and those persons are in the audit event too."""
    found = POLICY.find(auditor.session, Viewer.of(auditor), Signal.id == id)
    if not found:
        POLICY.deny(auditor, Operation.read, id)
        raise not_found()
    signal, person, rule = found[0].row.Signal, found[0].row.Person, found[0].rule
    matches, lookalikes = _matches(auditor.session, signal, person) if rule.name == "coordinator" else (None, [])
    auditor.acting_for = signal.municipality_id
    auditor.allowed(Operation.read, "signal", id, [person.pseudonym, *lookalikes], rule.activity or FOLLOW_UP,
                    {"view": rule.view}, municipality_id=signal.municipality_id)
    return SignalAccess.of(found[0], matches)


ReadableSignal = Annotated[SignalAccess, Depends(readable_signal)]


def triageable_signal(id: Annotated[uuid.UUID, Path(description="Signal id")], auditor: AuditorDep) -> SignalAccess:
    """A signal the caller coordinates, row-locked so that two triages of it run one after the other.
    Who else may read it gets 403, the rest 404."""
    found = POLICY.load_to_change(auditor, id, TRIAGE, "Only the coordinator of the signal's municipality triages it.")
    return SignalAccess.of(found)


TriageableSignal = Annotated[SignalAccess, Depends(triageable_signal)]


def _matches(session: Session, signal: Signal, person: Person) -> tuple[list[SignalMatch], list[str]]:
    """Other signals and cases about this person, and about records that share name and birth date
    but not the BSN; with why each matched. Found through the person and name/birth-date indexes."""
    lookalikes = persons.same_name_and_birth_date(session, person)
    reason_by_person = {person.id: "bsn" if person.bsn else "name_and_date_of_birth"}
    reason_by_person |= {p.id: "name_and_date_of_birth_bsn_differs" for p in lookalikes}
    person_ids = list(reason_by_person)
    with POLICY.context():
        signals = session.exec(select(Signal).where(Signal.person_id.in_(person_ids), Signal.id != signal.id)
                               .order_by(Signal.created_at.desc()).limit(MAX_MATCHES)).all()
        cases = session.exec(select(Case).where(Case.person_id.in_(person_ids)).order_by(Case.created_at.desc())).all()
    found = [SignalMatch(kind="case", id=c.id, number=c.number, status=c.status, created_at=c.created_at,
                         reason=reason_by_person[c.person_id]) for c in cases]
    found += [SignalMatch(kind="signal", id=s.id, number=None, status=s.status, created_at=s.created_at,
                          reason=reason_by_person[s.person_id]) for s in signals]
    return found, [p.pseudonym for p in lookalikes]


def list_signals(auditor: Auditor, page: PageParams, status: str | None) -> tuple[list[SignalAccess], bool]:
    """One page of visible signals, newest first, and whether more follow; audited with the persons shown."""
    conditions = [] if status is None else [Signal.status == status]
    found, more = POLICY.page(auditor, page, *conditions, detail={"status": status},
                              refusal="Your role gives no access to signals.")
    return [SignalAccess.of(f) for f in found], more


def insert_signal(session: Session, signal: Signal) -> None:
    """A reported signal: a plain INSERT rather than the unit of work (intake is the busiest write)."""
    with POLICY.context():
        session.execute(INSERT_SIGNAL, signal.model_dump())
