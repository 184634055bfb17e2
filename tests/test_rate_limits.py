"""Rate limits per principal and per client address: 429 with Retry-After, shared by replicas through
Redis, in-process without it, and documented on every operation."""

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from fastapi.testclient import TestClient

from app.factory import create_app
from app.openapi import API_PREFIX

ME = f"{API_PREFIX}/auth/me"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_reachable() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            raise
        return False


@contextmanager
def replica(app, **limits) -> Iterator[TestClient]:
    """Another instance of the registry on the same database, with these limits."""
    instance = create_app(app.state.settings.model_copy(update=limits))
    try:
        with TestClient(instance) as client:
            yield client
    finally:
        instance.state.engine.dispose()


def assert_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 60


class TestInProcess:
    def test_a_principal_over_its_limit_waits_others_do_not(self, app, auth):
        with replica(app, rate_limit_principal_per_minute=3) as client:
            for _ in range(3):
                assert client.get(ME, headers=auth("coordinator")).status_code == 200
            assert_limited(client.get(ME, headers=auth("coordinator")))
            assert client.get(ME, headers=auth("chair")).status_code == 200

    def test_an_address_is_limited_also_before_its_token_is_checked(self, app, auth):
        with replica(app, rate_limit_address_per_minute=4) as client:
            for _ in range(2):
                assert client.get(ME, headers={"Authorization": "Bearer guessed"}).status_code == 401
            assert client.get(ME, headers=auth("coordinator")).status_code == 200
            assert client.post(f"{API_PREFIX}/auth/token", data={"grant_type": "password", "username": "x",
                                                                "password": "y"}).status_code == 400
            assert_limited(client.get(ME, headers=auth("chair")))
            assert_limited(client.post(f"{API_PREFIX}/auth/token", data={"grant_type": "password"}))

    def test_no_limit_when_set_to_zero(self, app, auth):
        with replica(app, rate_limit_principal_per_minute=0, rate_limit_address_per_minute=0) as client:
            assert all(client.get(ME, headers=auth("coordinator")).status_code == 200 for _ in range(30))


@pytest.fixture
def redis_settings():
    if not _redis_reachable():
        pytest.skip("Redis is not reachable (required with CI=true)")
    return {"redis_url": REDIS_URL, "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}"}


class TestShared:
    def test_replicas_share_the_count(self, app, auth, redis_settings):
        limits = {**redis_settings, "rate_limit_principal_per_minute": 4}
        with replica(app, **limits) as first, replica(app, **limits) as second:
            for client in (first, second, first, second):
                assert client.get(ME, headers=auth("coordinator")).status_code == 200
            assert_limited(first.get(ME, headers=auth("coordinator")))
            assert_limited(second.get(ME, headers=auth("coordinator")))

    def test_an_unreachable_store_serves_and_says_so_once(self, app, auth, caplog):
        limits = {"redis_url": "redis://127.0.0.1:1/0", "rate_limit_principal_per_minute": 1}
        with replica(app, **limits) as client, caplog.at_level(logging.WARNING, logger="casusregister.ratelimit"):
            assert all(client.get(ME, headers=auth("coordinator")).status_code == 200 for _ in range(3))
        warnings = [r for r in caplog.records if r.name == "casusregister.ratelimit"]
        assert len(warnings) == 1 and "serving without limits" in warnings[0].getMessage()


def test_every_operation_documents_429_and_503_with_retry_after(app):
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code in ("429", "503"):
                assert "Retry-After" in operation["responses"][code]["headers"], f"{method} {path} {code}"
