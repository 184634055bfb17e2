"""HTTP hygiene: no response of the API may be cached, whatever its status; the request log names
routes, never ids, query strings or client addresses."""

import logging
import uuid

import pytest
import uvicorn
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import PASSWORD
from tests.factories import cli_environment, submit

API = "/api/v1"
ACCESS_LOG = "casusregister.access"


def assert_no_store(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"


class TestNoStore:
    def test_personal_data(self, client, auth):
        submit(client, auth("teacher"))
        response = client.get(f"{API}/signals", headers=auth("coordinator"))
        assert_no_store(response, 200)
        assert response.json()["items"]

    def test_token_endpoint(self, client):
        form = {"grant_type": "password", "username": "coordinator", "password": PASSWORD}
        response = client.post(f"{API}/auth/token", data=form)
        assert_no_store(response, 200)
        assert response.json()["access_token"]

    def test_without_a_token(self, client):
        assert_no_store(client.get(f"{API}/signals"), 401)

    def test_not_found_problem(self, client, auth):
        response = client.get(f"{API}/cases/{uuid.uuid4()}", headers=auth("coordinator"))
        assert_no_store(response, 404)
        assert response.headers["content-type"] == "application/problem+json"

    def test_validation_problem(self, client, auth):
        response = client.post(f"{API}/signals", json={}, headers=auth("teacher"))
        assert_no_store(response, 400)
        assert response.headers["content-type"] == "application/problem+json"

    def test_body_over_the_limit(self, client, auth, app):
        body = b" " * (app.state.settings.max_body_bytes + 1)
        headers = auth("teacher") | {"content-type": "application/json"}
        assert_no_store(client.post(f"{API}/signals", content=body, headers=headers), 413)

    def test_server_error_rendered_by_the_middleware(self, client, app, monkeypatch):
        monkeypatch.setattr(app.state.keyring, "verify", _broken)
        assert_no_store(client.get(f"{API}/auth/me", headers={"Authorization": "Bearer x"}), 500)

    @pytest.mark.parametrize("path", ["/health", "/ready", "/openapi.json", "/.well-known/jwks.json"])
    def test_public_routes_keep_their_caching(self, client, path):
        response = client.get(path)
        assert response.status_code == 200
        assert "cache-control" not in response.headers


class TestRequestLog:
    @pytest.fixture(autouse=True)
    def _capture(self, caplog):
        caplog.set_level(logging.INFO, logger=ACCESS_LOG)

    def test_route_template_never_ids_or_query(self, client, auth, caplog):
        case_id = str(uuid.uuid4())
        response = client.get(f"{API}/cases/{case_id}?status=intake&secret=x", headers=auth("coordinator"))
        assert response.status_code == 400  # parameters the route does not take
        line, fields = the_line(caplog)
        assert set(fields) == {"method", "route", "status", "duration_ms", "request_id", "trace_id"}
        assert fields["method"] == "GET" and fields["route"] == "/api/v1/cases/{id}" and fields["status"] == "400"
        assert fields["request_id"] == response.headers["x-request-id"] and float(fields["duration_ms"]) >= 0
        for leak in (case_id, "status=intake", "secret", "testclient"):
            assert leak not in line

    def test_unmatched_path_is_a_placeholder(self, client, caplog):
        response = client.get(f"{API}/nothing/123")
        line, fields = the_line(caplog)
        assert fields["route"] == "<unmatched>" and fields["status"] == "404"
        assert "nothing" not in line and "123" not in line.replace(response.headers["x-request-id"], "")

    def test_server_error(self, client, app, monkeypatch, caplog):
        monkeypatch.setattr(app.state.keyring, "verify", _broken)
        client.get(f"{API}/auth/me", headers={"Authorization": "Bearer x"})
        _, fields = the_line(caplog)
        assert fields["route"] == "/api/v1/auth/me" and fields["status"] == "500"

    def test_body_over_the_limit(self, client, app, caplog):
        body = b" " * (app.state.settings.max_body_bytes + 1)
        client.post(f"{API}/signals", content=body, headers={"content-type": "application/json"})
        _, fields = the_line(caplog)
        assert fields["method"] == "POST" and fields["status"] == "413"


def test_serve_turns_uvicorn_access_log_off(tmp_path, monkeypatch):
    cli_environment(tmp_path, monkeypatch)
    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    [options] = runs
    assert options["access_log"] is False


def the_line(caplog) -> tuple[str, dict[str, str]]:
    """The one request log line of the test's request, and its key=value fields."""
    [line] = [record.getMessage() for record in caplog.records if record.name == ACCESS_LOG]
    return line, dict(field.split("=", 1) for field in line.split(" "))


def _broken(*args, **kwargs):
    raise RuntimeError("boom")
