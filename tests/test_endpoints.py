"""casusregister register-endpoint: the administrator links another municipality's registry."""

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db import make_engine
from app.models import ExternalEndpoint, Organisation
from app.services import endpoints
from tests.factories import cli_environment

ARGS = ["--municipality", "UTR", "--base-url", "https://arnhem.example.nl", "--token-url",
        "https://arnhem.example.nl/api/v1/auth/token", "--client-id", "utrecht-system"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    cli_environment(tmp_path, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["seed-demo", "--no-week"]).exit_code == 0
    return runner


def _links() -> list[tuple[ExternalEndpoint, str, str, str]]:
    settings = Settings()
    with Session(make_engine(settings)) as session:
        codes = {o.id: o.code for o in session.exec(select(Organisation)).all()}
        return [(link, codes[link.organisation_id], codes[link.municipality_id], endpoints.client_secret(settings, link))
                for link in session.exec(select(ExternalEndpoint)).all()]


def test_registers_the_link_with_the_secret_encrypted(env):
    result = env.invoke(cli, ["register-endpoint", "ARN", *ARGS], input="s3cret-from-arnhem\n")
    assert result.exit_code == 0, result.output
    [(link, organisation, municipality, secret)] = _links()
    assert (organisation, municipality, link.client_id, secret) == ("ARN", "UTR", "utrecht-system", "s3cret-from-arnhem")
    assert "s3cret" not in link.client_secret_encrypted


def test_registering_again_replaces_the_link(env):
    env.invoke(cli, ["register-endpoint", "ARN", *ARGS], input="first-secret\n")
    env.invoke(cli, ["register-endpoint", "ARN", *ARGS], input="second-secret\n")
    assert [secret for *_, secret in _links()] == ["second-secret"]


@pytest.mark.parametrize(("organisation", "override"), [("GGZ", []), ("ARN", ["--municipality", "GGZ"]),
                                                        ("ARN", ["--base-url", "ftp://arnhem.example.nl"])])
def test_refuses_what_is_not_a_link_between_municipalities(env, organisation, override):
    result = env.invoke(cli, ["register-endpoint", organisation, *ARGS, *override], input="secret\n")
    assert result.exit_code == 2 and _links() == []


def test_outside_demo_mode_it_needs_the_services_webhook_key_and_nothing_else(env, monkeypatch):
    """It encrypts the client secret with WEBHOOK_SECRET_KEY; the person-match key and the signing keys
    are the service's concern, not this command's."""
    from cryptography.fernet import Fernet

    from app.cli import EndpointSettings

    monkeypatch.setenv("DEMO_MODE", "false")
    missing = env.invoke(cli, ["register-endpoint", "ARN", *ARGS], input="secret\n")
    assert missing.exit_code == 2 and "WEBHOOK_SECRET_KEY" in missing.output
    assert "PERSON_MATCH_KEY" not in missing.output and "the service's configuration" in missing.output
    monkeypatch.setenv("WEBHOOK_SECRET_KEY", Fernet.generate_key().decode())
    result = env.invoke(cli, ["register-endpoint", "ARN", *ARGS], input="s3cret-from-arnhem\n")
    assert result.exit_code == 0, result.output
    settings = EndpointSettings()
    with Session(make_engine(settings)) as session:
        [link] = session.exec(select(ExternalEndpoint)).all()
        assert endpoints.client_secret(settings, link) == "s3cret-from-arnhem"
