"""Persons: the most sensitive records, and who may look them up.

| relationship | who | view | may |
|---|---|---|---|
| coordinator | the coordinator of the person's municipality | search result (name, date of birth, cases, number of signals) | search, open a case |
| privacy_officer | the privacy officer of the person's municipality | name and date of birth, on the access report | answer an access request |

Intake matches a reported subject against the persons of the signal's municipality for the
coordinator; nothing of the match reaches the reporter. A search is audited with the kind of
criteria used and the pseudonyms found, never with the BSN, name or date of birth searched for.
Persons otherwise reach a caller only inside a case, signal or referral, under those policies.
"""

import hashlib
import hmac
import unicodedata
import uuid
from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, func, insert
from sqlmodel import Session, select

from app.audit.writer import Auditor
from app.auth.policy import Policy, Rule, Viewer
from app.auth.principal import forbidden
from app.db import DIALECT_INSERTS, dialect_name
from app.errors import ApiError, not_found
from app.models import Case, MatchLock, Person, Signal
from app.models.audit import Operation
from app.models.matching import CaseRef, PersonCandidate, PersonSearch
from app.models.signal import MatchReason

SEARCH = "person-search"
RULES = (
    Rule("coordinator", "search", lambda p: p.coordinated_municipality is not None,
         lambda v: Person.municipality_id == v.principal.coordinated_municipality),
    Rule("privacy_officer", "access_report", lambda p: p.municipal_privacy_officer,
         lambda v: Person.municipality_id == v.principal.municipality_id),
)
POLICY = Policy("person", SEARCH, RULES, select(Person), id=Person.id, order=(Person.created_at, Person.id),
                pseudonyms=lambda row: [row.Person.pseudonym], municipality=lambda row: row.Person.municipality_id)


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and spacing do not make a different person."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in decomposed if c.isalnum() or c.isspace())
    return " ".join(letters.split())


def _keyed(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def bsn_key(secret: str, bsn: str) -> str:
    return _keyed(secret, "bsn", bsn)


def name_dob_key(secret: str, name: str, date_of_birth: date) -> str:
    return _keyed(secret, "name-dob", normalise_name(name), date_of_birth.isoformat())


def _lock_statement(insert_):
    statement = insert_(MatchLock.__table__)
    return statement.on_conflict_do_update(index_elements=["key"], set_={"key": statement.excluded.key})


# Intake runs these on every signal: built once, reused with parameters.
LOCKS = {name: _lock_statement(insert_) for name, insert_ in DIALECT_INSERTS.items()}
IN_MUNICIPALITY = select(Person).where(Person.municipality_id == bindparam("municipality_id"))
BY_BSN = IN_MUNICIPALITY.where(Person.bsn_key == bindparam("key"))
BY_NAME_AND_BIRTH_DATE = IN_MUNICIPALITY.where(Person.name_dob_key == bindparam("key")).order_by(Person.created_at)
INSERT_PERSON = insert(Person.__table__)


class MatchKeys(NamedTuple):
    """The keyed hashes a subject is matched by, and stored with when it becomes a new person."""

    name_dob: str
    bsn: str | None


def match_keys(secret: str, name: str, date_of_birth: date, bsn: str | None) -> MatchKeys:
    return MatchKeys(name_dob_key(secret, name, date_of_birth), None if bsn is None else bsn_key(secret, bsn))


def _lock(session: Session, keys: list[str]) -> None:
    """Row locks (PostgreSQL) or the write lock (SQLite) on the matching keys, held until commit."""
    statement = LOCKS[dialect_name(session)]
    for key in sorted(keys):
        session.execute(statement, {"key": key})


def find_match(session: Session, municipality_id: uuid.UUID, keys: MatchKeys) -> tuple[Person, MatchReason] | None:
    """The same person in this municipality: by exact BSN, else by name and date of birth when the
    BSNs do not contradict each other. Locks the keys first, so concurrent intakes match in turn."""
    _lock(session, [keys.name_dob] + ([keys.bsn] if keys.bsn is not None else []))
    with POLICY.context():
        if keys.bsn is not None:
            person = session.exec(BY_BSN, params={"municipality_id": municipality_id, "key": keys.bsn}).first()
            if person is not None:
                return person, MatchReason.bsn
        candidates = session.exec(BY_NAME_AND_BIRTH_DATE, params={"municipality_id": municipality_id,
                                                                  "key": keys.name_dob}).all()
    for person in candidates:
        if keys.bsn is None or person.bsn is None:
            return person, MatchReason.name_and_date_of_birth
    return None


def insert_person(session: Session, person: Person) -> None:
    """A new person from intake: a plain INSERT rather than the unit of work (intake is the busiest write)."""
    with POLICY.context():
        session.execute(INSERT_PERSON, person.model_dump())


def same_name_and_birth_date(session: Session, person: Person) -> list[Person]:
    """Other person records that share name and date of birth (their BSNs differ), for triage."""
    query = select(Person).where(Person.municipality_id == person.municipality_id,
                                 Person.name_dob_key == person.name_dob_key, Person.id != person.id)
    with POLICY.context():
        return list(session.exec(query).all())


def _search(session: Session, secret: str, municipality_id: uuid.UUID,
            query: PersonSearch) -> list[tuple[Person, MatchReason]]:
    found: dict[uuid.UUID, tuple[Person, MatchReason]] = {}
    with POLICY.context():
        if query.bsn is not None:
            params = {"municipality_id": municipality_id, "key": bsn_key(secret, query.bsn)}
            for person in session.exec(BY_BSN, params=params).all():
                found[person.id] = (person, MatchReason.bsn)
        if query.name is not None and query.date_of_birth is not None:
            params = {"municipality_id": municipality_id,
                      "key": name_dob_key(secret, query.name, query.date_of_birth)}
            for person in session.exec(BY_NAME_AND_BIRTH_DATE, params=params).all():
                found.setdefault(person.id, (person, MatchReason.name_and_date_of_birth))
    return list(found.values())


def criteria(query: PersonSearch) -> list[str]:
    """What the audit log keeps of a search: the kind of criteria, never their values."""
    return [kind for kind, used in (("bsn", query.bsn is not None),
                                    ("name_and_date_of_birth", query.name is not None)) if used]


def _candidates(session: Session, found: list[tuple[Person, MatchReason]]) -> list[PersonCandidate]:
    ids = [p.id for p, _ in found]
    with POLICY.context():
        case_rows = session.exec(select(Case).where(Case.person_id.in_(ids)).order_by(Case.created_at)).all()
        counts = dict(session.exec(select(Signal.person_id, func.count()).where(Signal.person_id.in_(ids))
                                   .group_by(Signal.person_id)).all())
    return [PersonCandidate(id=p.id, name=p.name, date_of_birth=p.date_of_birth, match=reason,
                            cases=[CaseRef(id=c.id, number=c.number, status=c.status)
                                   for c in case_rows if c.person_id == p.id],
                            signal_count=counts.get(p.id, 0)) for p, reason in found]


def candidates(auditor: Auditor, secret: str, query: PersonSearch) -> list[PersonCandidate]:
    """The coordinator's search in their own municipality, audited with what was found."""
    municipality = auditor.principal.coordinated_municipality
    detail = {"criteria": criteria(query)}
    if municipality is None:
        auditor.denied(Operation.search, "person", None, [], SEARCH, detail)
        raise forbidden("Only a coordinator searches for persons.")
    found = _search(auditor.session, secret, municipality, query)
    result = _candidates(auditor.session, found)
    auditor.allowed(Operation.search, "person", None, [p.pseudonym for p, _ in found], SEARCH,
                    detail | {"count": len(result)}, municipality_id=municipality)
    return result


def person_for_new_case(auditor: Auditor, person_id: uuid.UUID) -> Person:
    """A person of the coordinator's municipality, to open a case for (400 for anyone else's)."""
    if auditor.principal.coordinated_municipality is None:
        auditor.denied(Operation.create, "case", None, [], "case-management")
        raise forbidden("Only a coordinator opens cases.")
    found = POLICY.find(auditor.session, Viewer.of(auditor), Person.id == person_id, only={"coordinator"})
    if not found:
        POLICY.deny(auditor, Operation.create, person_id)
        raise ApiError(400, "Unknown person.", errors=[{"name": "person_id", "location": "body",
                                                        "code": "unknown_person", "reason": "no such person"}])
    return found[0].row.Person


def access_report_subject(auditor: Auditor, person_id: uuid.UUID) -> Person:
    """The person an access request is about, for the privacy officer of their municipality; else 404."""
    found = POLICY.find(auditor.session, Viewer.of(auditor), Person.id == person_id, only={"privacy_officer"})
    if not found:
        POLICY.deny(auditor, Operation.read, person_id, {"access_report": True})
        raise not_found()
    return found[0].row.Person
