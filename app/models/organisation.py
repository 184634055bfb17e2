"""Organisations: the parties in the network."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


class OrganisationKind(StrEnum):
    municipality = "municipality"
    police = "police"
    public_prosecutor = "public_prosecutor"
    care = "care"
    youth_work = "youth_work"
    education = "education"
    probation = "probation"
    expert_pool = "expert_pool"
    external_municipality = "external_municipality"


class OrganisationBase(SQLModel):
    name: str = Field(max_length=200, unique=True)
    kind: OrganisationKind = Field(sa_type=String(30))
    # Short code used in case numbers, e.g. UTR in UTR-2026-0042.
    code: str = Field(max_length=10, unique=True)


class Organisation(OrganisationBase, table=True):
    __tablename__ = "organisations"

    id: uuid.UUID = id_field()
    # The municipality whose network this organisation works in; a municipality points to itself.
    municipality_id: uuid.UUID | None = Field(default=None, foreign_key="organisations.id")
    created_at: datetime = created_at_field()


class OrganisationNetwork(SQLModel, table=True):
    """A further municipality whose network an organisation serves, besides its own (`municipality_id`):
    a regional police unit, probation or an expert pool works for several municipalities, and reaches
    each one's data only through its memberships, referrals and actions there."""

    __tablename__ = "organisation_networks"

    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)


class OrganisationPublic(OrganisationBase):
    id: uuid.UUID
    municipality_id: uuid.UUID | None
