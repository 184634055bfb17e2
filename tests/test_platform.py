"""Cross-cutting contract: health, headers, problem details, the OpenAPI document and its linter."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app import API_VERSION

ROOT = Path(__file__).resolve().parent.parent
SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
# A copy of the official ruleset in the repository, so that a clone anywhere runs the linter; the
# original beside the repository (../shared) is compared with it where present.
RULESET = ROOT / "openapi" / "nl-api-design-rules.linter.yaml"
SHARED_RULESET = ROOT.parent / "shared" / "nl-api-design-rules" / "linter.yaml"


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["backlog"]["outbox_pending"] == 0


@pytest.mark.parametrize("method,path", [("GET", "/health"), ("GET", "/api/v1/auth/me"), ("GET", "/nowhere"),
                                         ("DELETE", "/health"), ("POST", "/api/v1/auth/token")])
def test_every_response_carries_version_and_request_id(client, method, path):
    response = client.request(method, path)
    assert response.headers["api-version"] == API_VERSION
    assert response.headers["x-request-id"]


def test_request_id_is_always_the_servers_own(client):
    """It is the audit log's trace id: a caller cannot make two requests share one."""
    first = client.get("/health", headers={"X-Request-ID": "trace-abc-123"}).headers["x-request-id"]
    second = client.get("/health", headers={"X-Request-ID": "trace-abc-123"}).headers["x-request-id"]
    assert "trace-abc-123" not in (first, second) and first != second


def test_server_error_is_a_problem_with_headers_and_logs_no_personal_data(client, app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom with a name: Jan de Vries")

    monkeypatch.setattr(app.state.keyring, "verify", broken)
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["api-version"] == API_VERSION and response.headers["x-request-id"]
    assert "Jan de Vries" not in response.text
    assert "RuntimeError" in caplog.text and "Jan de Vries" not in caplog.text


@pytest.mark.parametrize("method,path,status", [("GET", "/nowhere", 404), ("DELETE", "/health", 405)])
def test_routing_errors_are_problems(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(response.json())


def test_openapi_is_public_with_cors(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["info"]["version"] == API_VERSION
    assert document["servers"][0]["url"] == "/api/v1"
    assert client.get("/docs").status_code == 200


def test_committed_openapi_matches_the_app(tmp_path):
    """Generated as `casusregister openapi` generates it: from a fresh app, not the session's, whose
    cached document other tests' requests may have built under their own settings."""
    from typer.testing import CliRunner

    from app.cli import cli

    generated = tmp_path / "openapi.json"
    assert CliRunner().invoke(cli, ["openapi", "--output", str(generated)]).exit_code == 0
    committed = (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")
    stale = "openapi/openapi.json is stale: run `casusregister openapi`"
    assert committed == generated.read_text(encoding="utf-8"), stale


def test_no_operation_documents_422(client):
    document = client.get("/openapi.json").json()
    for item in document["paths"].values():
        for operation in item.values():
            assert "422" not in operation["responses"]
            assert "400" in operation["responses"]


def test_the_ruleset_copy_equals_the_official_one():
    if not SHARED_RULESET.exists():
        pytest.skip(f"the official ruleset is not beside this clone ({SHARED_RULESET})")
    assert RULESET.read_bytes() == SHARED_RULESET.read_bytes()


def test_openapi_passes_the_nl_api_design_rules_linter(tmp_path):
    spectral = str(SPECTRAL) if SPECTRAL.exists() else shutil.which("spectral")
    if spectral is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spectral is required in CI (npm ci installs it)")
        pytest.skip("spectral not installed (./run.sh test installs it when npm is available)")
    assert RULESET.exists(), f"the official ruleset is expected at {RULESET}"
    result = subprocess.run([spectral, "lint", "-r", str(RULESET), "-f", "json", "-o", str(tmp_path / "out.json"),
                             str(ROOT / "openapi" / "openapi.json")], capture_output=True, text=True, timeout=120)
    assert (tmp_path / "out.json").exists(), result.stderr + result.stdout
    findings = json.loads((tmp_path / "out.json").read_text())
    errors = [f for f in findings if f["severity"] == 0]
    assert errors == [], errors


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/v1/cases/00000000-0000-0000-0000-000000000000", "GET, PATCH"),
    ("PUT", "/api/v1/meetings/00000000-0000-0000-0000-000000000000/agenda/items/x", "DELETE, PATCH"),
    ("DELETE", "/api/v1/signals", "GET, POST"),
    ("POST", "/health", "GET"),
])
def test_a_405_names_every_method_the_path_answers_to(client, method, path, allowed):
    """RFC 9110 §15.5.6; FastAPI makes a route per method, so the first to match knew only its own."""
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("query", ["page_size=1", "pageSize=1&sort=name", "status=open&stauts=closed"])
def test_an_unknown_query_parameter_is_refused_not_ignored(client, auth, query):
    response = client.get(f"/api/v1/cases?{query}", headers=auth("coordinator"))
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    known = {"pageSize", "cursor", "status"}
    assert {e["name"] for e in response.json()["errors"]} == {p.split("=")[0] for p in query.split("&")} - known


@pytest.mark.parametrize("query", ["cursor=abc&cursor=", "status=open&status=closed", "pageSize=1&pageSize=1000"])
def test_a_query_parameter_given_twice_is_refused(client, auth, query):
    """A framework takes the last value: `?cursor=<anything>&cursor=` would quietly read the first page."""
    response = client.get(f"/api/v1/cases?{query}", headers=auth("coordinator"))
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert [(e["name"], e["code"]) for e in response.json()["errors"]] == [(query.split("=")[0], "repeated_parameter")]


@pytest.mark.parametrize(("accept", "status"), [
    ("application/pdf", 406), ("image/*", 406), ("application/json;q=0", 406), ("text/html", 406),
    ("application/json", 200), ("application/*", 200), ("*/*", 200), ("application/pdf, application/json;q=0.1", 200),
])
def test_an_accept_the_route_cannot_meet_answers_406(client, auth, accept, status):
    response = client.get("/api/v1/cases", headers=auth("coordinator") | {"Accept": accept})
    assert response.status_code == status, response.text
    if status == 406:
        assert response.headers["content-type"] == "application/problem+json"
        assert "application/json" in response.json()["detail"]


def test_a_route_that_prints_accepts_what_it_prints(client, auth):
    """The access report is also a printable document: text/html is acceptable there, PDF is not."""
    from tests.case_helpers import new_case

    case = new_case(client, auth)
    person = client.get(f"/api/v1/cases/{case['id']}", headers=auth("coordinator")).json()["person"]
    url = f"/api/v1/persons/{person['id']}/access-report"
    assert client.get(url, headers=auth("privacy") | {"Accept": "text/html"}).status_code == 200
    assert client.get(url, headers=auth("privacy") | {"Accept": "application/pdf"}).status_code == 406


def test_a_database_it_cannot_reach_answers_503_with_retry_after(client, auth, monkeypatch, caplog):
    """Not a 500: the client can tell it apart from a bug, and knows when to send the request again."""
    from sqlalchemy.exc import OperationalError

    from app.routers import cases

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT …", {}, ConnectionError("server closed the connection: Jan de Vries"))

    monkeypatch.setattr(cases, "list_cases", unreachable)
    response = client.get("/api/v1/cases", headers=auth("coordinator"))
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/problem+json"
    assert "Jan de Vries" not in response.text and "Jan de Vries" not in caplog.text


def test_any_other_database_error_stays_a_500(client, auth, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.routers import cases

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT …", {}, ValueError("duplicate key"))

    monkeypatch.setattr(cases, "list_cases", broken)
    assert client.get("/api/v1/cases", headers=auth("coordinator")).status_code == 500
