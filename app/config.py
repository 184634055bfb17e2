"""All configuration, read once from the environment (or `.env`)."""

from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_MATCH_KEY = "demo-only-person-match-key"
# A valid Fernet key that everyone can read: demo mode only.
DEMO_WEBHOOK_SECRET_KEY = "ZGVtby1vbmx5LXdlYmhvb2stc2VjcmV0LWtleS0wMDA="
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Demo mode allows generated keys and built-in secrets; production refuses them.
    demo_mode: bool = False
    demo_password: str = "demo"
    database_url: str = "sqlite:///./data/casusregister.db"
    # PostgreSQL: the role that owns the tables, for migrations and the audit log's own retention (the
    # only deletion from it). DATABASE_URL is then the application's role, which owns no table.
    owner_database_url: str | None = None
    # The application's role, granted what it needs after every migration (PostgreSQL).
    database_app_role: str | None = None
    # Connections per process on PostgreSQL: kept open, and opened beyond that under load. With N replicas
    # of W workers each, the database sees up to N × W × (size + overflow): keep it under max_connections.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    data_dir: Path = Path("./data")
    migrations_dir: Path = REPO_ROOT / "migrations"

    # Token issuing (embedded identity provider).
    jwt_issuer: str = "https://casusregister.local"
    jwt_audience: str = "casusregister"
    jwt_algorithm: str = "ES256"
    jwt_private_key_file: Path | None = None
    # A directory of signing keys shared by every replica, for rotation (`casusregister keys rotate`):
    # the newest signs, all verify and are published. Instead of JWT_PRIVATE_KEY_FILE.
    jwt_keys_dir: Path | None = None
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=60)
    # Tokens from the municipality's identity provider: issuer, audience and JWKS are configuration.
    external_issuer: str | None = None
    external_audience: str | None = None
    external_jwks_file: Path | None = None
    external_jwks_url: str | None = None

    # Keyed hash for person matching: lets intake find a person by BSN or name + date of birth
    # through an index, without storing a plain lookup key.
    person_match_key: str = DEMO_MATCH_KEY

    emergency_access_hours: int = Field(default=8, ge=1, le=72)
    # The chair's access to the cases on an agenda: it opens when the agenda of a meeting that starts
    # within AGENDA_HORIZON_DAYS is built, and closes CHAIR_ACCESS_DAYS_AFTER_CLOSE days after the meeting closes.
    agenda_horizon_days: int = Field(default=21, ge=1, le=90)
    chair_access_days_after_close: int = Field(default=7, ge=0, le=60)
    # Retention (days): signals closed with no further action, counted from triage; closed cases,
    # counted from closure. Erasure removes them with everything that hangs on them.
    retention_no_action_signal_days: int = Field(default=365, ge=1)
    retention_closed_case_days: int = Field(default=1826, ge=1)
    # Audit events (days, from the newest event of a sealed batch): longer than any data retention
    # above, so who processed a person's data stays answerable after the data itself is erased.
    retention_audit_days: int = Field(default=2557, ge=1)
    # Delivered and dead outbox messages (webhooks and other deliveries), counted from creation.
    retention_outbox_days: int = Field(default=30, ge=1)
    statistics_suppression_threshold: int = Field(default=5, ge=1)
    # Events younger than this are not sealed yet: a transaction that took its sequence number
    # earlier may still be committing.
    audit_seal_margin_seconds: int = Field(default=60, ge=0)
    audit_seal_batch_size: int = Field(default=10000, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    login_window_seconds: int = 900
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    webhook_allow_private_targets: bool = False
    # Fernet key(s) that encrypt the webhook signing secrets at rest; comma-separated for rotation
    # (the first encrypts, all decrypt).
    webhook_secret_key: str = DEMO_WEBHOOK_SECRET_KEY
    # Outbox delivery (webhooks and every other kind): attempts before dead-letter, exponential
    # backoff with jitter between them, the HTTP timeout, and how long a claimed message stays
    # invisible to other workers (longer than a delivery can take, so it is never sent twice at once).
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=30, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600, gt=0)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhook_lease_seconds: int = Field(default=120, ge=10)
    contact_email: str = "privacy@casusregister.example.nl"
    # Requests per minute on the API, per principal (user or client) and per client address; 0: no
    # limit. Counted in Redis when REDIS_URL is set (shared by all replicas), else in each process.
    redis_url: str | None = None
    rate_limit_principal_per_minute: int = Field(default=1200, ge=0)
    rate_limit_address_per_minute: int = Field(default=6000, ge=0)
    rate_limit_key_prefix: str = "casusregister-rate"
    # `casusregister worker`: seconds between runs of each job, and the longest pause after failures.
    worker_seal_interval_seconds: float = Field(default=10, gt=0)
    worker_delivery_interval_seconds: float = Field(default=5, gt=0)
    worker_retention_interval_seconds: float = Field(default=3600, gt=0)
    worker_throttle_purge_interval_seconds: float = Field(default=300, gt=0)
    worker_backoff_max_seconds: float = Field(default=300, gt=0)

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> "Settings":
        if self.demo_mode:
            return self
        if self.person_match_key == DEMO_MATCH_KEY or len(self.person_match_key) < 32:
            raise ValueError("PERSON_MATCH_KEY must be set to a secret of at least 32 characters")
        if self.jwt_private_key_file is None and self.jwt_keys_dir is None and self.external_issuer is None:
            raise ValueError("set JWT_KEYS_DIR, JWT_PRIVATE_KEY_FILE or an external identity provider (EXTERNAL_ISSUER)")
        if self.external_issuer and not (self.external_jwks_file or self.external_jwks_url):
            raise ValueError("EXTERNAL_ISSUER needs EXTERNAL_JWKS_FILE or EXTERNAL_JWKS_URL")
        if self.webhook_secret_key == DEMO_WEBHOOK_SECRET_KEY:
            raise ValueError("WEBHOOK_SECRET_KEY must be set to a Fernet key of your own")
        return self

    @model_validator(mode="after")
    def _check_webhook_settings(self) -> "Settings":
        for key in self.webhook_secret_key.split(","):
            Fernet(key.strip())  # raises ValueError for anything but a Fernet key
        if self.webhook_lease_seconds <= 2 * self.webhook_timeout_seconds:
            raise ValueError("WEBHOOK_LEASE_SECONDS must exceed twice WEBHOOK_TIMEOUT_SECONDS")
        return self

    @property
    def webhook_private_targets_allowed(self) -> bool:
        """Private, loopback or link-local callback addresses (plain http only to loopback, or in demo mode)."""
        return self.demo_mode or self.webhook_allow_private_targets

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
