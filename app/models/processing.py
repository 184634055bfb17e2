"""The register of processing activities (verwerkingsregister, AVG art. 30): what the registry does with
personal data, why, and on which legal basis. Every audit event names one version of one activity."""

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

URI_PREFIX = "urn:nl:casusregister:verwerkingsactiviteit:"
KEY_PATTERN = r"^[a-z][a-z0-9-]{1,59}$"  # an activity's key, e.g. signal-intake


class ProcessingActivity(SQLModel, table=True):
    __tablename__ = "processing_activities"

    key: str = Field(primary_key=True, max_length=60, description="Stable key, e.g. signal-intake")
    version: int = Field(primary_key=True, ge=1, description="Raised whenever the activity's description changes")
    uri: str = Field(max_length=200, description="Stable URI of the activity (all versions)")
    name: str = Field(max_length=200)
    purpose: str = Field(max_length=1000, description="Doel")
    legal_basis: str = Field(max_length=500, description="Grondslag, with the article")
    legal_basis_articles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data_subject_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    personal_data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retention: str = Field(max_length=500, description="Bewaartermijn")
    log_confidentiality: str = Field(max_length=20, description="vertrouwelijk or intern: who may read its logs")
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessingActivityPublic(SQLModel):
    key: str
    version: int
    uri: str
    name: str
    purpose: str
    legal_basis: str
    legal_basis_articles: list[str]
    data_subject_categories: list[str]
    personal_data_categories: list[str]
    recipients: list[str]
    retention: str
    log_confidentiality: str
    registered_at: datetime


class ProcessingActivityPage(SQLModel):
    items: list[ProcessingActivityPublic]
    next_cursor: str | None = None
