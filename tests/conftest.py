"""Test databases: SQLite always, PostgreSQL too when reachable (required with CI=true).

One database per backend per test run, migrated by Alembic and seeded with the demo network;
each test starts from that state (the tables tests write to are emptied before every test).
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from app import demo
from app.config import Settings
from app.db import Session
from app.factory import create_app
from app.migrate import upgrade
from app.models import ApiClient, User
from tests.db import dispose_owner_engine, inspect_db, owner_engine

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://127.0.0.1:5432/test")
OWNER_ROLE, APP_ROLE = "casusregister_test_owner", "casusregister_test_app"
PASSWORD = "demo-test-password"
# Tables that tests write to, children first.
MUTABLE_TABLES = ["agenda_addenda", "actions", "closure_proposals", "agenda_items", "meeting_attendees", "meetings",
                  "audit_seals", "audit_event_persons", "audit_events", "idempotency_records", "referral_items", "referrals",
                  "external_endpoints", "item_shares", "information_items",
                  "emergency_accesses", "case_history", "case_members", "signals", "cases", "case_number_sequences",
                  "persons", "login_failures", "outbox_messages", "subscriptions", "audit_anchors"]


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        return False


BACKENDS = ["sqlite"] + (["postgresql"] if _postgres_reachable() else [])


@dataclass(frozen=True)
class TestDatabase:
    name: str | None  # a PostgreSQL database to drop afterwards
    url: str  # the application's connection
    owner_url: str  # the tables' owner: migrations, the audit log's own retention
    app_role: str | None = None


def _role_url(role: str, name: str) -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", username=role, database=name).render_as_string(
        hide_password=False)


def _create_pg_database() -> TestDatabase:
    """A database owned by OWNER_ROLE; the application connects as APP_ROLE, which owns nothing, as in
    production: row-level security and the append-only audit log hold for it. Roles are cluster-wide,
    created by the first run and reused."""
    name = f"casus_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for role in (OWNER_ROLE, APP_ROLE):
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                         "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {OWNER_ROLE}')
    return TestDatabase(name, _role_url(APP_ROLE, name), _role_url(OWNER_ROLE, name), APP_ROLE)


def database_settings(database: TestDatabase) -> dict:
    """Besides the application's DATABASE_URL: the owner's, and the role the migrations grant to."""
    return {"owner_database_url": database.owner_url, "database_app_role": database.app_role}


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _signing_key(directory) -> str:
    path = directory / "signing-key.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(path)


def make_settings(database_url: str, directory, **overrides) -> Settings:
    values = dict(demo_mode=False, database_url=database_url, data_dir=str(directory),
                  jwt_private_key_file=_signing_key(directory), person_match_key="t" * 40,
                  argon2_time_cost=1, argon2_memory_cost=64, demo_password=PASSWORD,
                  webhook_secret_key=Fernet.generate_key().decode(), webhook_allow_private_targets=True,
                  # The suite sends thousands of requests a minute as one principal; tests/test_rate_limits.py
                  # sets limits of its own.
                  rate_limit_principal_per_minute=0, rate_limit_address_per_minute=0)
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


def new_database(backend: str, directory) -> TestDatabase:
    if backend == "sqlite":
        url = f"sqlite:///{directory}/test.db"
        return TestDatabase(None, url, url)
    return _create_pg_database()


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory) -> Iterator[FastAPI]:
    directory = tmp_path_factory.mktemp(backend)
    database = new_database(backend, directory)
    application = create_app(make_settings(database.url, directory, **database_settings(database)))
    upgrade(application.state.settings, owner_engine(application))
    with Session(application.state.engine) as session:
        demo.seed(session, application.state.hasher, PASSWORD)
        session.commit()
    yield application
    application.state.engine.dispose()
    dispose_owner_engine(application)
    if database.name:
        _drop_pg_database(database.name)


def empty_mutable_tables(app: FastAPI) -> None:
    with inspect_db(app, owner=True) as session:
        if app.state.engine.dialect.name == "postgresql":
            # The audit tables refuse DELETE outside the retention operation (see migration 0003).
            session.execute(text("SET LOCAL casusregister.audit_retention = 'on'"))
        for table in MUTABLE_TABLES:
            session.execute(text(f"DELETE FROM {table}"))
        session.commit()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    empty_mutable_tables(app)
    with TestClient(app, raise_server_exceptions=bool(os.environ.get("RAISE_SERVER_EXCEPTIONS"))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def auth(app) -> "Tokens":
    return Tokens(app)


class Tokens:
    """Bearer headers for the demo accounts, minted with the registry's own key."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._cache: dict[str, dict[str, str]] = {}

    def __call__(self, username: str) -> dict[str, str]:
        if username not in self._cache:
            with Session(self.app.state.engine) as session:
                user = session.exec(select(User).where(User.username == username)).one()
                claims = {"actor": "user", "name": user.username, "org": str(user.organisation_id),
                          "roles": list(user.roles)}
                subject = str(user.id)
            token, _ = self.app.state.keyring.issue(subject, claims)
            self._cache[username] = {"Authorization": f"Bearer {token}"}
        return self._cache[username]

    def client(self, client_id: str, scopes: list[str] | None = None) -> dict[str, str]:
        with Session(self.app.state.engine) as session:
            api_client = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).one()
            claims = {"actor": "client", "name": client_id, "org": str(api_client.organisation_id),
                      "scope": " ".join(api_client.scopes if scopes is None else scopes)}
            subject = str(api_client.id)
        token, _ = self.app.state.keyring.issue(subject, claims)
        return {"Authorization": f"Bearer {token}"}
