"""Users and API clients: who may act, for which organisation, with which roles or scopes."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


class Role(StrEnum):
    melder = "melder"
    coordinator = "coordinator"
    chair = "chair"
    partner = "partner"
    expert = "expert"
    privacy_officer = "privacy_officer"
    admin = "admin"


class Scope(StrEnum):
    signals_create = "signals:create"
    # A municipality's own case system reads the signals of that municipality.
    signals_read = "signals:read"
    # A partner's system reads the actions its organisation owns.
    actions_read = "actions:read"
    referrals_send = "referrals:send"
    referrals_receive = "referrals:receive"
    webhooks_manage = "webhooks:manage"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = id_field()
    username: str = Field(max_length=100, unique=True)
    display_name: str = Field(max_length=200)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = created_at_field()


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"

    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=100, unique=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = created_at_field()


class LoginFailure(SQLModel, table=True):
    """One failed login, kept for the rate limit window (per account and per address)."""

    __tablename__ = "login_failures"

    id: uuid.UUID = id_field()
    account: str = Field(max_length=100, index=True)
    address: str = Field(max_length=64, index=True)
    occurred_at: datetime = created_at_field()
