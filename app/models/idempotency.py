"""Stored answers to requests sent with an Idempotency-Key, so a retry gets the same answer."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: uuid.UUID = id_field()
    actor: str = Field(max_length=80)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    resource_id: uuid.UUID | None = None
    # The municipality whose data the stored answer holds (the tenant of the row).
    municipality_id: uuid.UUID | None = None
    response_body: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()
