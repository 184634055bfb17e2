"""The Dockerfile and compose.yaml, read without a Docker engine: every setting they pass is one the
registry reads and accepts outside demo mode, every command they run exists, and replicas do not migrate.
deploy/smoke.sh builds and starts them where an engine runs (CI)."""

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
REGISTRY = ("migrate", "app-1", "app-2", "worker")
# Read by uvicorn itself, not by the registry's settings.
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS"}


def example_env() -> dict[str, str]:
    lines = (ROOT / "deploy" / "example.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def substituted(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME:?message} and ${NAME:-default}, as far as compose.yaml uses them."""
    def one(match: re.Match) -> str:
        name, _, rest = match.group(1).partition(":")
        return env.get(name) or (rest[1:] if rest.startswith("-") else "")
    return re.sub(r"\$\{([^}]+)\}", one, value)


def test_the_regional_deployment_has_its_parts():
    assert {"db", "redis", "migrate", "app-1", "app-2", "worker"} <= set(SERVICES)
    for replica in ("app-1", "app-2"):
        assert "command" not in SERVICES[replica], "replicas run the image's command: serve, without migrating"
        assert SERVICES[replica]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["worker"]["command"] == ["casusregister", "worker"]


def test_the_settings_it_passes_are_the_registrys_and_valid_outside_demo_mode(monkeypatch):
    env = example_env()
    for service in REGISTRY:
        variables = {name: substituted(str(value), env) for name, value in SERVICES[service]["environment"].items()}
        unknown = {name for name in variables if name.lower() not in Settings.model_fields} - UVICORN_VARIABLES
        assert not unknown, f"{service} sets what the registry does not read: {unknown}"
        for name in list(variables):
            monkeypatch.delenv(name, raising=False)
        read = {k.lower(): v for k, v in variables.items() if k not in UVICORN_VARIABLES}
        settings = Settings(_env_file=None, **read)
        assert not settings.demo_mode and settings.redis_url and settings.jwt_keys_dir


def commands() -> list[list[str]]:
    """Every `casusregister …` the image and compose.yaml run."""
    found = [re.findall(r"casusregister ([a-z-]+(?: [a-z-]+)?)", str(SERVICES[s].get("command", ""))) for s in REGISTRY]
    found.append(re.findall(r"casusregister ([a-z-]+)", (ROOT / "Dockerfile").read_text().split("CMD", 1)[-1]))
    return [text.split() for group in found for text in group]


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_it_runs_exists(command):
    words = command if command[0] in ("keys", "audit", "retention", "webhooks") else command[:1]
    assert CliRunner().invoke(cli, [*words, "--help"]).exit_code == 0


def test_the_image_serves_without_migrating():
    cmd = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")]
    assert len(cmd) == 1 and "serve" in cmd[0] and "migrate" not in cmd[0]
