"""Referrals (doorverwijzingen): a case handed, in part, to another party; and the links to other
municipalities' registries that referrals travel over."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, field_validator
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field, utcnow
from app.validation import Text, check_bsn, check_date_of_birth


class ReferralKind(StrEnum):
    referral = "referral"
    # Duidingsverzoek: addressed to an expert pool; answered with an assessment that lands in the case.
    assessment_request = "assessment_request"


class ReferralDirection(StrEnum):
    # Made here, from a case of this registry.
    outgoing = "outgoing"
    # Received from another municipality's registry through POST /inbound-referrals.
    incoming = "incoming"


class ReferralStatus(StrEnum):
    sent = "sent"
    accepted = "accepted"
    declined = "declined"
    completed = "completed"
    withdrawn = "withdrawn"


OPEN_STATUSES = (ReferralStatus.sent, ReferralStatus.accepted)


class LegalBasis(StrEnum):
    consent = "consent"
    public_task = "public_task"
    legal_obligation = "legal_obligation"
    vital_interest = "vital_interest"


class SharedField(StrEnum):
    """The person fields a referral may pass on; nothing else of the person travels."""

    name = "name"
    date_of_birth = "date_of_birth"
    bsn = "bsn"
    address = "address"
    district = "district"


class Referral(SQLModel, table=True):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("sender_organisation_id", "sender_reference"),
        Index("ix_referrals_municipality_created", "municipality_id", "created_at", "id"),
        Index("ix_referrals_recipient_created", "recipient_organisation_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=20)
    direction: str = Field(max_length=10)
    # The municipality of this registry the referral belongs to: the sender of an outgoing
    # referral, the recipient of an incoming one.
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id")
    case_id: uuid.UUID | None = Field(default=None, foreign_key="cases.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    # Incoming referrals enter triage as a signal.
    signal_id: uuid.UUID | None = Field(default=None, foreign_key="signals.id")
    sender_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    recipient_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    # Incoming: the sender's id for it. Outgoing to another registry: the id that registry gave it.
    sender_reference: str | None = Field(default=None, max_length=100)
    external_reference: str | None = Field(default=None, max_length=100)
    purpose: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=20)
    legal_basis_note: str | None = Field(default=None, max_length=2000)
    shared_fields: list[str] = Field(sa_column=Column(JSON, nullable=False))
    summary: str | None = Field(default=None)
    due_date: date | None = None
    status: str = Field(default=ReferralStatus.sent, max_length=10)
    status_note: str | None = Field(default=None, max_length=2000)
    assessment_item_id: uuid.UUID | None = None
    created_by: str = Field(max_length=80)
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReferralItem(SQLModel, table=True):
    """An information item a referral shares (its current version is shown)."""

    __tablename__ = "referral_items"

    referral_id: uuid.UUID = Field(foreign_key="referrals.id", primary_key=True)
    item_id: uuid.UUID = Field(primary_key=True)


class ExternalEndpoint(SQLModel, table=True):
    """Another municipality's registry, registered by the administrator: where referrals to it are
    delivered, the credentials of the client it gave us, and which municipality here it deals with."""

    __tablename__ = "external_endpoints"

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", unique=True)
    municipality_id: uuid.UUID = Field(foreign_key="organisations.id")
    base_url: str = Field(max_length=500)
    token_url: str = Field(max_length=500)
    client_id: str = Field(max_length=100)
    # Fernet token (WEBHOOK_SECRET_KEY); never returned, never logged.
    client_secret_encrypted: str = Field(max_length=1000)
    created_at: datetime = created_at_field()


Purpose = Text(2000)
Note = Text(2000)
MAX_SUMMARY = 120000
MAX_SHARED_ITEMS = 10


def _future_or_today(value: date | None) -> date | None:
    if value is not None and value < date.today():
        raise ValueError("must not be in the past")
    return value


class ReferralCreate(SQLModel):
    model_config = {"extra": "forbid"}

    recipient_organisation_id: uuid.UUID = Field(description=(
        "A partner in the municipality's network, an expert pool (the referral is then a request for "
        "assessment), or an external municipality (delivered to its registry)"))
    purpose: Purpose
    legal_basis: LegalBasis
    legal_basis_note: Note | None = None
    shared_fields: list[SharedField] = Field(max_length=len(SharedField), description=(
        "The person fields the recipient sees; nothing else of the person"), schema_extra={
        "json_schema_extra": {"uniqueItems": True}})
    shared_item_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SHARED_ITEMS, description=(
        "Information items of the case the recipient sees (their current version); nothing else of the case"),
        schema_extra={"json_schema_extra": {"uniqueItems": True}})
    due_date: Annotated[date | None, AfterValidator(_future_or_today)] = None

    @field_validator("shared_fields", "shared_item_ids")
    @classmethod
    def _unique(cls, value: list) -> list:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat")
        return value


class TransitionRequest(SQLModel):
    model_config = {"extra": "forbid"}

    note: Note | None = None


class CompletionRequest(TransitionRequest):
    assessment: Text(10000) | None = Field(default=None, description=(
        "Completing a request for assessment: the assessment (duiding), added to the case as an "
        "information item of kind `assessment`. Required there, refused elsewhere."))


class InboundSubject(SQLModel):
    model_config = {"extra": "forbid"}

    name: Text(200)
    date_of_birth: Annotated[date, AfterValidator(check_date_of_birth)]
    bsn: Annotated[str, AfterValidator(check_bsn)] | None = None


class InboundReferral(SQLModel):
    """A referral from another municipality's registry, with only the fields it chose to share."""

    model_config = {"extra": "forbid"}

    sender_reference: Text(100) = Field(description="The sender's id for the referral; a retry repeats it")
    purpose: Purpose
    legal_basis: LegalBasis
    subject: InboundSubject
    summary: Text(MAX_SUMMARY)


class InboundReceipt(SQLModel):
    """What the sending system learns: its referral arrived, under which id. No personal data."""

    id: uuid.UUID
    sender_reference: str
    status: ReferralStatus
    created_at: datetime


class SharedSubject(SQLModel):
    """The person as the referral shares them: a field not in `shared_fields` is null."""

    name: str | None = None
    date_of_birth: date | None = None
    bsn: str | None = None
    address: str | None = None
    district: str | None = None


class SharedItem(SQLModel):
    id: uuid.UUID
    kind: str
    version: int
    text: str
    source: str
    date: date


class ReferralRecipientView(SQLModel):
    """What the recipient sees, while the referral is open: its purpose and shared data, nothing else
    of the case."""

    view: Literal["recipient"] = "recipient"
    id: uuid.UUID
    kind: ReferralKind
    direction: ReferralDirection
    status: ReferralStatus
    sender_organisation_id: uuid.UUID
    recipient_organisation_id: uuid.UUID
    sender_reference: str | None
    purpose: str
    legal_basis: LegalBasis
    legal_basis_note: str | None
    shared_fields: list[SharedField]
    subject: SharedSubject
    items: list[SharedItem]
    summary: str | None
    due_date: date | None
    status_note: str | None
    created_at: datetime
    updated_at: datetime


class ReferralCoordinatorView(ReferralRecipientView):
    """The coordinator of the municipality the referral belongs to (and, reading only, the chair of a
    meeting with its case on the agenda): also which case or signal it concerns, and where an
    assessment landed."""

    view: Literal["coordinator", "chair"] = "coordinator"
    case_id: uuid.UUID | None
    signal_id: uuid.UUID | None
    external_reference: str | None
    assessment_item_id: uuid.UUID | None


ReferralView = ReferralCoordinatorView | ReferralRecipientView
