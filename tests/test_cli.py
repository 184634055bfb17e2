"""The casusregister command: migrations, demo seeding and its refusals, accounts."""

import time

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.factories import cli_environment


@pytest.fixture
def env(tmp_path, monkeypatch):
    cli_environment(tmp_path, monkeypatch)
    return monkeypatch


def run(*args, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_seed_demo_needs_demo_mode(env):
    env.setenv("DEMO_MODE", "false")
    env.setenv("PERSON_MATCH_KEY", "k" * 40)
    env.setenv("EXTERNAL_ISSUER", "https://idp.example")
    env.setenv("EXTERNAL_JWKS_FILE", "/nonexistent")
    env.setenv("WEBHOOK_SECRET_KEY", "d2ViaG9vay1zZWNyZXQta2V5LWZvci10ZXN0cy0wMDA=")
    assert run("migrate").exit_code == 0
    result = run("seed-demo")
    assert result.exit_code == 2 and "DEMO_MODE" in result.output


def test_production_refuses_default_secrets(env):
    env.setenv("DEMO_MODE", "false")
    result = run("migrate")
    assert result.exit_code == 2 and "PERSON_MATCH_KEY" in result.output


def test_migrate_seed_is_idempotent(env):
    assert run("migrate").exit_code == 0
    assert "demo data loaded" in run("seed-demo").output
    assert "already present" in run("seed-demo").output


def test_seed_refuses_a_database_with_real_data(env):
    assert run("migrate").exit_code == 0
    assert run("create-organisation", "Gemeente Zeist", "municipality", "ZST").exit_code == 0
    result = run("seed-demo")
    assert result.exit_code == 2 and "refusing" in result.output


def test_create_user_and_client(env):
    assert run("migrate").exit_code == 0
    assert run("create-organisation", "Gemeente Zeist", "municipality", "ZST").exit_code == 0
    assert run("create-organisation", "Wijkteam Zeist", "care", "WTZ", "--municipality", "ZST").exit_code == 0
    short = run("create-user", "kort", "WTZ", "--role", "partner", "--password", "short")
    assert short.exit_code == 2 and "12 characters" in short.output
    ok = run("create-user", "jdoe", "ZST", "--role", "coordinator", "--password", "a-long-password-1")
    assert ok.exit_code == 0, ok.output
    client = run("create-client", "zeist-system", "ZST", "--scope", "signals:create")
    assert client.exit_code == 0 and "client_secret (shown once): " in client.output
    assert run("create-user", "x", "NOPE", "--role", "melder", "--password", "a-long-password-1").exit_code == 2


def test_join_network(env):
    assert run("migrate").exit_code == 0
    for args in (("Gemeente Zeist", "municipality", "ZST"), ("Gemeente Bunnik", "municipality", "BNK"),
                 ("Reclassering Midden", "probation", "RCM", "--municipality", "ZST")):
        assert run("create-organisation", *args).exit_code == 0
    joined = run("join-network", "RCM", "BNK")
    assert joined.exit_code == 0 and "works in the network of BNK" in joined.output
    assert run("join-network", "RCM", "BNK").exit_code == 0  # again: nothing changes
    assert run("join-network", "RCM", "ZST").exit_code == 2  # its own network already
    assert run("join-network", "BNK", "ZST").exit_code == 2  # a municipality joins no other's network
    assert run("join-network", "ZST", "RCM").exit_code == 2


def test_audit_seal_verify_export(env, tmp_path):
    import json
    import sqlite3

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.factory import create_app
    from tests.factories import signal_body

    env.setenv("AUDIT_SEAL_MARGIN_SECONDS", "0")
    assert run("migrate").exit_code == 0 and run("seed-demo", "--no-week").exit_code == 0
    with TestClient(create_app(Settings())) as client:
        token = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "teacher",
                                                        "password": "demo"}).json()["access_token"]
        for _ in range(3):
            client.post("/api/v1/signals", json=signal_body(), headers={"Authorization": f"Bearer {token}"})
    verified = run("audit", "verify", "--seal")
    assert verified.exit_code == 0 and "checked 3 events in 1 seals" in verified.output

    exported = run("audit", "export", "2000-01-01", "2100-01-01", "--operator", "fg-utrecht",
                   "--output", str(tmp_path / "audit.jsonl"))
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert exported.exit_code == 0 and len(lines) == 3 and json.loads(lines[0])["operation"] == "create"
    assert json.loads(lines[0])["persons"][0].startswith("P-")
    utrecht = run("audit", "export", "2000-01-01", "2100-01-01", "--operator", "fg-utrecht", "--municipality", "UTR",
                  "--output", str(tmp_path / "utrecht.jsonl"))
    arnhem = run("audit", "export", "2000-01-01", "2100-01-01", "--operator", "fg-arnhem", "--municipality", "ARN",
                 "--output", str(tmp_path / "arnhem.jsonl"))
    assert utrecht.exit_code == 0 and arnhem.exit_code == 0
    assert len((tmp_path / "utrecht.jsonl").read_text().splitlines()) == 3  # not the registry's own export event
    assert "exported 0 events" in arnhem.output

    with sqlite3.connect(tmp_path / "cli.db") as db:
        assert db.execute("SELECT operation, actor_name FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone() == (
            "export", "fg-arnhem")
        db.execute("UPDATE audit_events SET actor_name = 'x' WHERE seq = 2")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "BROKEN: seal 1" in broken.output


def test_retention_run_from_the_command_line(env):
    assert run("migrate").exit_code == 0 and run("seed-demo", "--no-week").exit_code == 0
    planned = run("retention", "run", "--operator", "fg", "--dry-run")
    assert planned.exit_code == 0 and "would erase: 0 signals, 0 cases" in planned.output
    done = run("retention", "run", "--operator", "fg")
    assert done.exit_code == 0 and "erased: 0 signals" in done.output


def test_audit_purge_from_the_command_line(env):
    assert run("migrate").exit_code == 0
    planned = run("audit", "purge", "--operator", "fg", "--dry-run")
    assert planned.exit_code == 0 and "would remove: 0 seals, 0 events" in planned.output
    done = run("audit", "purge", "--operator", "fg")
    assert done.exit_code == 0 and "removed: 0 seals, 0 events" in done.output
    assert "checked 0 events" in run("audit", "verify").output


def test_audit_seal_loop_stops_at_sigterm_without_waiting_out_the_pause(env, monkeypatch):
    import os
    import signal

    from app.audit import chain as audit_chain

    env.setenv("AUDIT_SEAL_MARGIN_SECONDS", "0")
    assert run("migrate").exit_code == 0 and run("seed-demo", "--no-week").exit_code == 0
    real_seal = audit_chain.seal

    def seal_then_terminate(*args):
        written = real_seal(*args)
        os.kill(os.getpid(), signal.SIGTERM)  # as a service manager stops it, mid-round
        return written
    monkeypatch.setattr(audit_chain, "seal", seal_then_terminate)
    started = time.monotonic()
    result = run("audit", "seal", "--loop", "3600")
    assert result.exit_code == 0 and result.output.count("seal(s) written") == 1 and "stopped" in result.output
    assert time.monotonic() - started < 30
