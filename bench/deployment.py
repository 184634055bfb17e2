"""A production-like deployment for one bench run: a fresh PostgreSQL database, real secrets, accounts, tokens."""

import os
import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.auth.passwords import hasher
from app.auth.tokens import KeyRing
from app.config import Settings
from app.db import Session, make_engine
from app.migrate import upgrade
from app.models import OrganisationKind, Role
from app.services import accounts
from bench.server import Server, cpu_seconds, free_port

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://127.0.0.1:5432/test")
# As in production: the tables belong to the owner (migrations), the servers connect as a role that
# owns nothing, under row-level security. Cluster-wide roles, created by the first run.
OWNER_ROLE, APP_ROLE = "casusregister_bench_owner", "casusregister_bench_app"
# username, organisation code, role: the callers of the bench's requests.
USERS = [("bench-melder", "PBN", Role.melder), ("bench-coordinator", "BEN", Role.coordinator),
         ("bench-privacy", "BEN", Role.privacy_officer), ("bench-chair", "BEN", Role.chair)]


@dataclass
class Deployment:
    directory: Path
    database: str
    settings: Settings
    env: dict[str, str]
    tokens: dict[str, str]  # username -> bearer token
    user_ids: dict[str, str]
    organisations: list[uuid.UUID]
    engine: Engine

    @property
    def dsn(self) -> str:
        """The administrator's connection to this database: bulk loads, outside row-level security."""
        return make_url(ADMIN_URL).set(database=self.database).render_as_string(hide_password=False)

    def database_cpu_seconds(self, database: str | None = None) -> dict[int, float]:
        """CPU time of the PostgreSQL backends serving this database, or another one on the same server (a
        local server; 0 where /proc cannot see them)."""
        with psycopg.connect(self.dsn) as db:
            pids = {pid for (pid,) in db.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                                 "AND pid <> pg_backend_pid()", (database or self.database,))}
        return cpu_seconds(pids)

    def analyze(self) -> None:
        """What autovacuum would have done by now: this machine's PostgreSQL runs with autovacuum off, and
        a plan made from the statistics of an empty table (a bitmap scan and sort of every signal of the
        municipality for a page of ten) would otherwise stay cached for the whole run."""
        with psycopg.connect(self.dsn, autocommit=True) as db:
            db.execute("ANALYZE")

    def server(self, app: str, workers: int, name: str, env: dict[str, str] | None = None) -> Server:
        """uvicorn as in production (several workers, uvloop, httptools, uvicorn's access log off); the
        application's own request log writes one line per request to the server's log file, as in production."""
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--proxy-headers", "--no-access-log", "--log-level", "warning"]
        return Server(argv, env or self.env, self.directory / f"{name}.log", port)


def _signing_key(directory: Path) -> Path:
    path = directory / "signing-key.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def _accounts(settings: Settings, engine: Engine) -> tuple[dict[str, tuple[str, dict]], list[uuid.UUID]]:
    with Session(engine) as session:
        h = hasher(settings.argon2_time_cost, settings.argon2_memory_cost)
        municipality = accounts.create_organisation(session, "Gemeente Benchstad", OrganisationKind.municipality,
                                                    "BEN", None)
        police = accounts.create_organisation(session, "Politie Benchstad", OrganisationKind.police, "PBN",
                                              municipality)
        by_code = {"BEN": municipality, "PBN": police}
        claims = {}
        for username, code, role in USERS:
            user = accounts.create_user(session, h, username, username, by_code[code], [role],
                                        secrets.token_urlsafe(24))
            claims[username] = (str(user.id), {"actor": "user", "name": username, "org": str(user.organisation_id),
                                               "roles": [role.value]})
        session.commit()
        return claims, [municipality.id, police.id]


def _role_url(role: str, database: str) -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", username=role, database=database)
    return url.render_as_string(hide_password=False)


def _new_database() -> str:
    database = f"casus_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for role in (OWNER_ROLE, APP_ROLE):
            conn.execute(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                         "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        conn.execute(f'CREATE DATABASE "{database}" OWNER {OWNER_ROLE}')
    return database


def create(directory: Path) -> Deployment:
    database = _new_database()
    env = {"DATABASE_URL": _role_url(APP_ROLE, database), "OWNER_DATABASE_URL": _role_url(OWNER_ROLE, database),
           "DATABASE_APP_ROLE": APP_ROLE, "DEMO_MODE": "false", "DATA_DIR": str(directory),
           "PERSON_MATCH_KEY": secrets.token_hex(32), "JWT_PRIVATE_KEY_FILE": str(_signing_key(directory)),
           "WEBHOOK_SECRET_KEY": Fernet.generate_key().decode(), "TOKEN_TTL_SECONDS": "3600",
           # One principal sends thousands of requests a minute here; the limiter still counts each one.
           "RATE_LIMIT_PRINCIPAL_PER_MINUTE": "1000000000", "RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000000"}
    settings = Settings(**{k.lower(): v for k, v in env.items()})
    owner = make_engine(settings, owner=True)
    upgrade(settings, owner)
    owner.dispose()
    engine = make_engine(settings)
    claims, organisations = _accounts(settings, engine)
    keyring = KeyRing.from_settings(settings)
    tokens = {name: keyring.issue(subject, c)[0] for name, (subject, c) in claims.items()}
    user_ids = {name: subject for name, (subject, _) in claims.items()}
    return Deployment(directory, database, settings, env, tokens, user_ids, organisations, engine)


def drop(deployment: Deployment) -> None:
    deployment.engine.dispose()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{deployment.database}" WITH (FORCE)')
