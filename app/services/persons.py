"""Creating or matching the person a signal is about."""

import uuid

from sqlalchemy import insert
from sqlmodel import Session

from app.auth import person_access
from app.models import Person
from app.models.signal import MatchReason, SubjectIn

# A plain INSERT, built once, rather than the ORM's unit of work: intake creates a person on most
# signals, and the record is not changed again in that request.
INSERT_PERSON = insert(Person.__table__)


def match_or_create(session: Session, secret: str, municipality_id: uuid.UUID, subject: SubjectIn,
                    district: str | None) -> tuple[Person, MatchReason | None]:
    keys = person_access.match_keys(secret, subject.name, subject.date_of_birth, subject.bsn)
    match = person_access.find_match(session, municipality_id, keys)
    if match is not None:
        # What the reporter wrote stays on the signal; the person record is not changed by intake.
        return match
    person = Person(
        municipality_id=municipality_id, name=subject.name, date_of_birth=subject.date_of_birth,
        bsn=subject.bsn, address=subject.address, district=district, bsn_key=keys.bsn, name_dob_key=keys.name_dob)
    session.execute(INSERT_PERSON, person.model_dump())
    return person, None
