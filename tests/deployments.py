"""A registry deployed as real processes on a PostgreSQL database of its own: for the crash, fault and
replica tests, which stop, cut and kill what a TestClient cannot."""

import os
import secrets
import subprocess
from pathlib import Path

import httpx

from bench.server import BIN, Server, free_port
from tests.conftest import TestDatabase, _signing_key

PASSWORD = "deployment-test-password"


def registry_env(database: TestDatabase, directory: Path, **extra: str) -> dict[str, str]:
    """Demo mode (the demo accounts), on `database`, with cheap password hashing and immediate sealing."""
    return {"DATABASE_URL": database.url, "OWNER_DATABASE_URL": database.owner_url,
            "DATABASE_APP_ROLE": database.app_role, "DEMO_MODE": "true", "DEMO_PASSWORD": PASSWORD,
            "DATA_DIR": str(directory), "JWT_PRIVATE_KEY_FILE": _signing_key(directory),
            "PERSON_MATCH_KEY": secrets.token_hex(32), "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "64",
            "AUDIT_SEAL_MARGIN_SECONDS": "0", **extra}


def command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "casusregister"), *args], env={**os.environ, **env}, capture_output=True,
                          text=True)


def prepare(env: dict[str, str]) -> None:
    for args in (["migrate"], ["seed-demo", "--no-week"]):
        done = command(env, *args)
        assert done.returncode == 0, done.stdout + done.stderr


def server(env: dict[str, str], log: Path, workers: int = 2) -> Server:
    port = free_port()
    return Server([str(BIN / "casusregister"), "serve", "--port", str(port), "--workers", str(workers)], env, log, port)


def token(url: str, username: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/token",
                          data={"grant_type": "password", "username": username, "password": PASSWORD})
    return response.raise_for_status().json()["access_token"]


def audit_intact(env: dict[str, str]) -> str:
    """`audit verify --seal`'s output; asserts it found the log intact."""
    verified = command(env, "audit", "verify", "--seal")
    assert verified.returncode == 0 and "the audit log is intact" in verified.stdout, verified.stdout + verified.stderr
    return verified.stdout
