"""Signing-key rotation: a new key signs at once on every replica, the previous keys verify until every
token they signed has expired, and then they are retired."""

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from app.auth import keys
from app.auth.tokens import InvalidToken, KeyRing, key_id
from app.cli import cli
from tests.conftest import make_settings
from tests.factories import cli_environment

LIFETIME = timedelta(minutes=15, seconds=30)
ME = "/api/v1/auth/me"


@pytest.fixture
def keys_dir(tmp_path):
    return tmp_path / "jwt-keys"


def ring(keys_dir, tmp_path) -> KeyRing:
    """A replica's key ring, reading the shared directory."""
    settings = make_settings(f"sqlite:///{tmp_path}/unused.db", tmp_path, jwt_private_key_file=None,
                             jwt_keys_dir=keys_dir)
    return KeyRing.from_settings(settings)


def kid_of(token: str) -> str:
    from jose import jwt
    return jwt.get_unverified_header(token)["kid"]


def test_the_newest_key_signs_and_every_key_verifies_on_every_replica(keys_dir, tmp_path):
    first = keys.add(keys_dir, "ES256")
    replica_a, replica_b = ring(keys_dir, tmp_path), ring(keys_dir, tmp_path)
    old_token, _ = replica_a.issue("u1", {"actor": "user"})
    added, removed = keys.rotate(keys_dir, "ES256", LIFETIME)
    assert removed == [] and kid_of(old_token) == key_id(first.pem(), "ES256")
    new_token, _ = replica_b.issue("u2", {"actor": "user"})  # no restart: the next token uses the new key
    assert kid_of(new_token) == key_id(added.pem(), "ES256")
    for replica in (replica_a, replica_b):
        assert replica.verify(old_token)["sub"] == "u1" and replica.verify(new_token)["sub"] == "u2"
        assert [k["kid"] for k in replica.jwks()["keys"]] == [kid_of(new_token), kid_of(old_token)]


def test_a_key_is_retired_once_its_successor_outlived_a_token(keys_dir, tmp_path):
    now = datetime.now(UTC)
    oldest = keys.add(keys_dir, "ES256", now - timedelta(hours=2))
    replica = ring(keys_dir, tmp_path)
    stale_token, _ = replica.issue("u1", {"actor": "user"})
    previous = keys.add(keys_dir, "ES256", now - timedelta(minutes=20))
    recent_token, _ = replica.issue("u2", {"actor": "user"})
    added, removed = keys.rotate(keys_dir, "ES256", LIFETIME)
    assert removed == [oldest] and [k.path for k in keys.stored(keys_dir)] == [previous.path, added.path]
    assert replica.verify(recent_token)["sub"] == "u2", "the previous key verifies until its tokens expire"
    with pytest.raises(InvalidToken, match="unknown key"):
        replica.verify(stale_token)  # a retired key is distrusted at once, also by a running replica


def test_retirement_counts_from_the_successor_not_the_key_itself():
    at = datetime(2026, 12, 1, tzinfo=UTC)
    stored = [keys.StoredKey(None, at - timedelta(days=60)), keys.StoredKey(None, at - timedelta(minutes=10)),
              keys.StoredKey(None, at)]
    assert keys.retired(stored, LIFETIME, at) == [], "its successor signs for 10 minutes: tokens may live on"
    assert keys.retired(stored, LIFETIME, at + timedelta(minutes=6)) == [stored[0]]
    assert keys.retired(stored[:1], LIFETIME, at + timedelta(days=400)) == [], "the only key stays"


def test_files_that_are_not_keys_are_ignored(keys_dir, tmp_path):
    keys.add(keys_dir, "ES256")
    (keys_dir / "README.pem").write_text("not a key")
    (keys_dir / ".20260101T000000000000Z.pem.tmp").write_text("half a key")
    assert len(ring(keys_dir, tmp_path).jwks()["keys"]) == 1


def test_rs256_keys_rotate_too(keys_dir, tmp_path):
    keys.add(keys_dir, "RS256")
    settings = make_settings(f"sqlite:///{tmp_path}/unused.db", tmp_path, jwt_private_key_file=None,
                             jwt_keys_dir=keys_dir, jwt_algorithm="RS256")
    replica = KeyRing.from_settings(settings)
    token, _ = replica.issue("u", {"actor": "user"})
    keys.rotate(keys_dir, "RS256", LIFETIME)
    assert replica.verify(token)["sub"] == "u" and replica.jwks()["keys"][0]["kty"] == "RSA"


def test_tokens_of_the_previous_key_keep_working_over_http(app, client, auth, keys_dir, tmp_path):
    keys.add(keys_dir, "ES256")
    configured = app.state.keyring
    app.state.keyring = KeyRing.from_settings(app.state.settings.model_copy(
        update={"jwt_private_key_file": None, "jwt_keys_dir": keys_dir}))
    try:
        before = auth.__class__(app)("coordinator")
        keys.rotate(keys_dir, "ES256", LIFETIME)
        after = auth.__class__(app)("coordinator")
        assert before != after
        assert client.get(ME, headers=before).status_code == 200 and client.get(ME, headers=after).status_code == 200
        assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
    finally:
        app.state.keyring = configured  # the State object keeps its attributes apart: no monkeypatch here


class TestCommands:
    def test_rotate_and_list(self, tmp_path, monkeypatch):
        cli_environment(tmp_path, monkeypatch)  # demo mode: the keys live under DATA_DIR
        run = CliRunner().invoke
        assert run(cli, ["keys", "rotate"]).exit_code == 0 and run(cli, ["keys", "rotate"]).exit_code == 0
        listed = run(cli, ["keys", "list"]).output.splitlines()
        assert len(listed) == 2 and listed[0].endswith("verifies") and listed[1].endswith("signs")

    def test_rotation_needs_a_key_directory(self, tmp_path, monkeypatch):
        cli_environment(tmp_path, monkeypatch)
        monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(tmp_path / "one-key.pem"))
        result = CliRunner().invoke(cli, ["keys", "rotate"])
        assert result.exit_code == 2 and "JWT_KEYS_DIR" in result.output
