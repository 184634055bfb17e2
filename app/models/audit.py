"""Audit events: one access to personal data, or one denied attempt.

Field names follow the Logboek Dataverwerkingen (trace id, processing activity, data subject)
and NEN 7513 (who, on whose behalf, what, when, outcome) where they fit.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
AuditId = BigInteger().with_variant(Integer(), "sqlite")


class Operation(StrEnum):
    read = "read"
    list = "list"
    create = "create"
    update = "update"
    search = "search"
    delete = "delete"


class Outcome(StrEnum):
    allowed = "allowed"
    denied = "denied"
    emergency = "emergency"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_municipality_occurred", "municipality_id", "occurred_at", "event_id"),)

    # Monotonic sequence: the order in which events were written.
    seq: int | None = Field(default=None, sa_column=Column(AuditId, primary_key=True, autoincrement=True))
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    trace_id: str = Field(max_length=64, index=True)
    actor_kind: str = Field(max_length=10)
    actor_id: str | None = Field(default=None, max_length=64, index=True)
    actor_name: str | None = Field(default=None, max_length=100)
    organisation_id: uuid.UUID | None = Field(default=None, index=True)
    # The municipality whose data the event concerns (the tenant); None for work on the registry as a
    # whole (retention, export) and for events written before tenancy was recorded.
    municipality_id: uuid.UUID | None = Field(default=None)
    roles: str | None = Field(default=None, max_length=200)
    on_behalf_of: str | None = Field(default=None, max_length=200)
    operation: str = Field(max_length=20)
    resource_type: str = Field(max_length=40)
    resource_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=10, index=True)
    processing_activity: str = Field(max_length=100)
    # The version of the activity in the register (processing_activities) the event was written under
    # (the writer refuses an activity the register does not hold); None only for events written before
    # the register existed. No foreign key: SQLite cannot add one to a table without rebuilding it.
    processing_activity_version: int | None = None
    # W3C trace context: the event is one span of its trace; its parent is the caller's operation, in
    # another application where `foreign_processor` names it (the Logboek Dataverwerkingen model).
    span_id: str | None = Field(default=None, max_length=16)
    parent_span_id: str | None = Field(default=None, max_length=16)
    foreign_processor: str | None = Field(default=None, max_length=500)
    legal_basis: str | None = Field(default=None, max_length=200)
    client_address: str | None = Field(default=None, max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditEventPerson(SQLModel, table=True):
    """The persons an event concerns, by pseudonym, indexed for access requests."""

    __tablename__ = "audit_event_persons"

    event_seq: int = Field(sa_column=Column(AuditId, ForeignKey("audit_events.seq"), primary_key=True))
    pseudonym: str = Field(max_length=20, primary_key=True, index=True)


class AuditSeal(SQLModel, table=True):
    """A sealed batch of audit events: the Merkle root of its events, chained to the previous seal.

    Events are written without hashing (no lock between concurrent requests); a sealer closes
    batches afterwards, so altering, inserting or deleting an event breaks its batch's root.
    """

    __tablename__ = "audit_seals"

    seq: int | None = Field(default=None, sa_column=Column(AuditId, primary_key=True, autoincrement=True))
    first_event_seq: int = Field(sa_column=Column(AuditId, nullable=False))
    last_event_seq: int = Field(sa_column=Column(AuditId, nullable=False))
    event_count: int
    merkle_root: str = Field(max_length=64)
    # Unique: two sealers racing cannot both extend the same predecessor.
    prev_hash: str = Field(max_length=64, unique=True)
    seal_hash: str = Field(max_length=64)
    sealed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditAnchor(SQLModel, table=True):
    """Where verification starts once the audit log's own retention removed its oldest sealed batches.

    Holds the hash of the last removed seal, so the first remaining seal must link to it; nothing at
    or before an anchor may remain. Anchors are chained like seals and never removed.
    """

    __tablename__ = "audit_anchors"

    seq: int | None = Field(default=None, sa_column=Column(AuditId, primary_key=True, autoincrement=True))
    seal_seq: int = Field(sa_column=Column(AuditId, nullable=False))
    last_event_seq: int = Field(sa_column=Column(AuditId, nullable=False))
    seal_hash: str = Field(max_length=64)
    seals: int
    events: int
    # Unique: two purges racing cannot both extend the same predecessor.
    prev_hash: str = Field(max_length=64, unique=True)
    anchor_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEventView(SQLModel):
    seq: int
    event_id: uuid.UUID
    occurred_at: datetime
    trace_id: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    organisation_id: uuid.UUID | None
    municipality_id: uuid.UUID | None
    roles: str | None
    operation: str
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    processing_activity: str
    processing_activity_version: int | None
    span_id: str | None
    parent_span_id: str | None
    foreign_processor: str | None
    legal_basis: str | None
    client_address: str | None
    detail: dict
    persons: list[str]


class ProcessingRecord(SQLModel):
    """One processing of the person's data, as the person may learn it (AVG art. 15)."""

    occurred_at: datetime
    organisation: str
    operation: str
    resource_type: str
    activity: str = Field(description="Key of the processing activity (GET /processing-activities)")
    purpose: str = Field(description="The activity's purpose, in Dutch")
    legal_basis: str | None
    emergency: bool


class OrganisationSummary(SQLModel):
    organisation: str
    first: datetime
    last: datetime
    count: int


class ActivitySummary(SQLModel):
    """One processing activity the person's data was part of: what for, on which basis, and by whom."""

    activity: str
    version: int | None = Field(description="The register's version the latest processing was recorded under")
    name: str
    purpose: str
    legal_basis: str | None
    legal_basis_articles: list[str]
    retention: str | None
    organisations: list[OrganisationSummary]


class AccessReport(SQLModel):
    pseudonym: str
    name: str
    date_of_birth: date
    generated_at: datetime
    activities: list[ActivitySummary]
    organisations: list[OrganisationSummary]
    processing: list[ProcessingRecord]
