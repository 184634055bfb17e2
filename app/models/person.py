"""Persons (betrokkenen): the most sensitive data in the registry."""

import secrets
import uuid
from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


def new_pseudonym() -> str:
    return "P-" + secrets.token_hex(8).upper()


class Person(SQLModel, table=True):
    __tablename__ = "persons"

    id: uuid.UUID = id_field()
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    # Random and stable: used in the audit log and in statistics instead of the identity.
    pseudonym: str = Field(default_factory=new_pseudonym, max_length=20, unique=True)
    name: str = Field(max_length=200)
    date_of_birth: date
    bsn: str | None = Field(default=None, max_length=9)
    address: str | None = Field(default=None, max_length=300)
    district: str | None = Field(default=None, max_length=100)
    # Keyed hashes (HMAC) for matching through an index rather than a scan.
    bsn_key: str | None = Field(default=None, max_length=64, index=True)
    name_dob_key: str = Field(max_length=64, index=True)
    created_at: datetime = created_at_field()


class PersonPublic(SQLModel):
    id: uuid.UUID
    pseudonym: str
    name: str
    date_of_birth: date
    bsn: str | None
    address: str | None
    district: str | None


class MatchLock(SQLModel, table=True):
    """A row per matching key, locked while an intake matches on it, so two intakes about the same
    person cannot both decide that the person is new."""

    __tablename__ = "match_locks"

    key: str = Field(max_length=64, primary_key=True)
