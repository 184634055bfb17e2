"""Person matching on intake: keyed hashes looked up through an index, never shown to the reporter."""

import hashlib
import hmac
import unicodedata
import uuid
from datetime import date

from sqlmodel import Session, select

from app.models import Person
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


def find_match(session: Session, secret: str, municipality_id: uuid.UUID, name: str, date_of_birth: date,
               bsn: str | None) -> tuple[Person, MatchReason] | None:
    """The same person in this municipality: by exact BSN, else by name and date of birth when the
    BSNs do not contradict each other."""
    in_municipality = select(Person).where(Person.municipality_id == municipality_id)
    if bsn is not None:
        person = session.exec(in_municipality.where(Person.bsn_key == bsn_key(secret, bsn))).first()
        if person is not None:
            return person, MatchReason.bsn
    candidates = session.exec(
        in_municipality.where(Person.name_dob_key == name_dob_key(secret, name, date_of_birth))
        .order_by(Person.created_at)).all()
    for person in candidates:
        if bsn is None or person.bsn is None:
            return person, MatchReason.name_and_date_of_birth
    return None
