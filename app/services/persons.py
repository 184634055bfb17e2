"""Creating or matching the person a signal is about."""

import uuid

from sqlmodel import Session

from app.auth.policies import persons
from app.models import Person
from app.models.signal import MatchReason, SubjectIn


def match_or_create(session: Session, secret: str, municipality_id: uuid.UUID, subject: SubjectIn,
                    district: str | None) -> tuple[Person, MatchReason | None]:
    keys = persons.match_keys(secret, subject.name, subject.date_of_birth, subject.bsn)
    match = persons.find_match(session, municipality_id, keys)
    if match is not None:
        # What the reporter wrote stays on the signal; the person record is not changed by intake.
        return match
    person = Person(
        municipality_id=municipality_id, name=subject.name, date_of_birth=subject.date_of_birth,
        bsn=subject.bsn, address=subject.address, district=district, bsn_key=keys.bsn, name_dob_key=keys.name_dob)
    persons.insert_person(session, person)
    return person, None
