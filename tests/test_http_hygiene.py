"""HTTP hygiene: no response of the API may be cached, whatever its status."""

import uuid

import pytest

from tests.conftest import PASSWORD
from tests.factories import submit

API = "/api/v1"


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


def _broken(*args, **kwargs):
    raise RuntimeError("boom")
