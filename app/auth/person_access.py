"""Person matching on intake: keyed hashes looked up through an index, never shown to the reporter."""

import hashlib
import hmac
import unicodedata
import uuid
from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, func, select

from app.audit.writer import Auditor
from app.auth.principal import forbidden
from app.db import DIALECT_INSERTS, dialect_name
from app.models import Case, MatchLock, Person, Signal
from app.models.audit import Operation
from app.models.matching import CaseRef, PersonCandidate, PersonSearch
from app.models.signal import MatchReason


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


def _lock_statement(insert):
    statement = insert(MatchLock.__table__)
    return statement.on_conflict_do_update(index_elements=["key"], set_={"key": statement.excluded.key})


# Intake runs these on every signal: built once, reused with parameters.
LOCKS = {name: _lock_statement(insert) for name, insert in DIALECT_INSERTS.items()}
IN_MUNICIPALITY = select(Person).where(Person.municipality_id == bindparam("municipality_id"))
BY_BSN = IN_MUNICIPALITY.where(Person.bsn_key == bindparam("key"))
BY_NAME_AND_BIRTH_DATE = IN_MUNICIPALITY.where(Person.name_dob_key == bindparam("key")).order_by(Person.created_at)


def _lock(session: Session, keys: list[str]) -> None:
    """Row locks (PostgreSQL) or the write lock (SQLite) on the matching keys, held until commit."""
    statement = LOCKS[dialect_name(session)]
    for key in sorted(keys):
        session.execute(statement, {"key": key})


class MatchKeys(NamedTuple):
    """The keyed hashes a subject is matched by, and stored with when it becomes a new person."""

    name_dob: str
    bsn: str | None


def match_keys(secret: str, name: str, date_of_birth: date, bsn: str | None) -> MatchKeys:
    return MatchKeys(name_dob_key(secret, name, date_of_birth), None if bsn is None else bsn_key(secret, bsn))


def find_match(session: Session, municipality_id: uuid.UUID, keys: MatchKeys) -> tuple[Person, MatchReason] | None:
    """The same person in this municipality: by exact BSN, else by name and date of birth when the
    BSNs do not contradict each other. Locks the keys first, so concurrent intakes match in turn."""
    _lock(session, [keys.name_dob] + ([keys.bsn] if keys.bsn is not None else []))
    if keys.bsn is not None:
        person = session.exec(BY_BSN, params={"municipality_id": municipality_id, "key": keys.bsn}).first()
        if person is not None:
            return person, MatchReason.bsn
    candidates = session.exec(BY_NAME_AND_BIRTH_DATE, params={"municipality_id": municipality_id,
                                                              "key": keys.name_dob})
    for person in candidates.all():
        if keys.bsn is None or person.bsn is None:
            return person, MatchReason.name_and_date_of_birth
    return None


def search(session: Session, secret: str, municipality_id: uuid.UUID, name: str | None, date_of_birth: date | None,
           bsn: str | None) -> list[tuple[Person, MatchReason]]:
    """Persons of one municipality by exact BSN and/or by name and date of birth, through the indexes."""
    found: dict[uuid.UUID, tuple[Person, MatchReason]] = {}
    if bsn is not None:
        params = {"municipality_id": municipality_id, "key": bsn_key(secret, bsn)}
        for person in session.exec(BY_BSN, params=params).all():
            found[person.id] = (person, MatchReason.bsn)
    if name is not None and date_of_birth is not None:
        params = {"municipality_id": municipality_id, "key": name_dob_key(secret, name, date_of_birth)}
        for person in session.exec(BY_NAME_AND_BIRTH_DATE, params=params).all():
            found.setdefault(person.id, (person, MatchReason.name_and_date_of_birth))
    return list(found.values())


def same_name_and_birth_date(session: Session, person: Person) -> list[Person]:
    """Other person records that share name and date of birth (their BSNs differ)."""
    query = select(Person).where(Person.municipality_id == person.municipality_id,
                                 Person.name_dob_key == person.name_dob_key, Person.id != person.id)
    return list(session.exec(query).all())


def candidates(auditor: Auditor, secret: str, query: PersonSearch) -> list[PersonCandidate]:
    """Coordinator only; the query itself is written to the audit log with the persons it found."""
    principal, session = auditor.principal, auditor.session
    municipality = principal.coordinated_municipality
    detail = {"query": query.model_dump(mode="json", exclude_none=True)}
    if municipality is None:
        auditor.denied(Operation.search, "person", None, [], "person-search", detail)
        raise forbidden("Only a coordinator searches for persons.")
    found = search(session, secret, municipality, query.name, query.date_of_birth, query.bsn)
    ids = [p.id for p, _ in found]
    case_rows = session.exec(select(Case).where(Case.person_id.in_(ids)).order_by(Case.created_at)).all()
    counts = dict(session.exec(select(Signal.person_id, func.count()).where(Signal.person_id.in_(ids))
                               .group_by(Signal.person_id)).all())
    result = [PersonCandidate(id=p.id, name=p.name, date_of_birth=p.date_of_birth, match=reason,
                              cases=[CaseRef(id=c.id, number=c.number, status=c.status)
                                     for c in case_rows if c.person_id == p.id],
                              signal_count=counts.get(p.id, 0)) for p, reason in found]
    auditor.allowed(Operation.search, "person", None, [p.pseudonym for p, _ in found], "person-search",
                    {**detail, "count": len(result)})
    return result
