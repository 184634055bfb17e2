"""Signal intake and reading: validation, idempotency, and who sees what."""

import base64
import json
import uuid

import pytest
from sqlmodel import func, select

from app.models import Person, Signal
from tests.db import inspect_db
from tests.factories import OTHER_BSN, arnhem_coordinator, signal_body, submit

SIGNALS = "/api/v1/signals"
NAIVE_CURSOR = base64.urlsafe_b64encode(json.dumps(["2030-01-01T00:00:00", str(uuid.uuid4())]).encode()).decode()


def count(app, model) -> int:
    with inspect_db(app) as session:
        return session.exec(select(func.count()).select_from(model)).one()


class TestCreateSignal:
    def test_anonymous_is_401(self, client):
        response = client.post(SIGNALS, json=signal_body())
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    def test_melder_creates_and_sees_only_status(self, client, auth):
        response = client.post(SIGNALS, json=signal_body(), headers=auth("teacher"))
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"view", "id", "status", "submitted_at"}
        assert body["status"] == "received"
        assert response.headers["location"] == f"{SIGNALS}/{body['id']}"

    def test_client_with_scope_creates(self, client, auth):
        response = client.post(SIGNALS, json=signal_body(), headers=auth.client("arnhem-system"))
        assert response.status_code == 201

    def test_client_without_scope_is_403(self, client, auth, app):
        headers = auth.client("arnhem-system", scopes=["referrals:send"])
        assert client.post(SIGNALS, json=signal_body(), headers=headers).status_code == 403
        assert count(app, Signal) == 0

    @pytest.mark.parametrize("username", ["coordinator", "chair", "care", "expert", "privacy", "admin"])
    def test_non_reporters_are_403(self, client, auth, app, username):
        assert client.post(SIGNALS, json=signal_body(), headers=auth(username)).status_code == 403
        assert count(app, Signal) == 0

    def test_all_validation_errors_together_and_nothing_stored(self, client, auth, app):
        body = signal_body(bsn="123456789", categories=[], description="x" * 5001,
                           observed_at="2999-01-01T00:00:00Z", urgency="whenever", unexpected=True)
        response = client.post(SIGNALS, json=body, headers=auth("teacher"))
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/invalid-input") and problem["title"] and problem["detail"]
        names = {e["name"] for e in problem["errors"]}
        assert {"subject.bsn", "categories", "description", "observed_at", "urgency", "unexpected"} <= names
        assert all(e["location"] == "body" and e["reason"] for e in problem["errors"])
        assert count(app, Signal) == 0 and count(app, Person) == 0

    @pytest.mark.parametrize("overrides", [
        {"observed_at": "2026-01-01T10:00:00"},  # no offset
        {"subject": {"name": "", "date_of_birth": "2005-01-01"}},
        {"subject": {"name": "A", "date_of_birth": "1850-01-01"}},
        {"subject": {"name": "A", "date_of_birth": "2005-02-30"}},
        {"categories": ["other", "other"]},
        {"categories": ["shoplifting"]},
        {"channel": "pigeon"},
        {"subject": {"name": "Piet\u0000Jansen", "date_of_birth": "2005-01-01"}},
        {"description": "line\u0007bell"},
    ])
    def test_invalid_fields_are_400(self, client, auth, overrides):
        response = client.post(SIGNALS, json=signal_body(**overrides), headers=auth("teacher"))
        assert response.status_code == 400, response.text

    def test_malformed_json_is_400(self, client, auth):
        response = client.post(SIGNALS, content=b"{not json", headers={**auth("teacher"),
                                                                        "content-type": "application/json"})
        assert response.status_code == 400

    def test_body_over_limit_is_413(self, client, auth, app):
        limit = app.state.settings.max_body_bytes
        response = client.post(SIGNALS, json=signal_body(description="x" * (limit + 10)), headers=auth("teacher"))
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    def test_streamed_body_over_limit_is_413(self, client, auth, app):
        limit = app.state.settings.max_body_bytes

        def chunks():
            for _ in range(limit // 1024 + 2):
                yield b" " * 1024

        headers = {**auth("teacher"), "content-type": "application/json"}
        response = client.post(SIGNALS, content=chunks(), headers=headers)
        assert response.status_code == 413


class TestIdempotency:
    def test_retry_returns_original_and_stores_once(self, client, auth, app):
        headers, body = {**auth("teacher"), "Idempotency-Key": "intake-0001"}, signal_body()
        first = client.post(SIGNALS, json=body, headers=headers)
        second = client.post(SIGNALS, json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert count(app, Signal) == 1

    def test_same_key_other_body_is_409(self, client, auth, app):
        headers = {**auth("teacher"), "Idempotency-Key": "intake-0002"}
        assert client.post(SIGNALS, json=signal_body(), headers=headers).status_code == 201
        response = client.post(SIGNALS, json=signal_body(name="Piet"), headers=headers)
        assert response.status_code == 409
        assert response.json()["type"].endswith("/idempotency-key-reused")
        assert count(app, Signal) == 1

    def test_keys_are_per_caller(self, client, auth, app):
        body = signal_body()
        for user in ("teacher", "youthworker"):
            response = client.post(SIGNALS, json=body, headers={**auth(user), "Idempotency-Key": "shared-key"})
            assert response.status_code == 201
        assert count(app, Signal) == 2


class TestPersonMatching:
    def test_same_bsn_is_the_same_person_and_reporter_learns_nothing(self, client, auth):
        first = submit(client, auth("teacher"))
        second_response = client.post(SIGNALS, json=signal_body(name="J. de Vries"), headers=auth("police"))
        assert set(second_response.json()) == {"view", "id", "status", "submitted_at"}
        coordinator = auth("coordinator")
        a = client.get(f"{SIGNALS}/{first['id']}", headers=coordinator).json()
        b = client.get(f"{SIGNALS}/{second_response.json()['id']}", headers=coordinator).json()
        assert a["person"]["id"] == b["person"]["id"]
        assert (a["match_reason"], b["match_reason"]) == (None, "bsn")

    def test_name_and_birth_date_match_when_bsn_does_not_contradict(self, client, auth):
        first = submit(client, auth("teacher"), bsn=None)
        second = submit(client, auth("teacher"), name="  jan DE vriés ", bsn=None)
        third = submit(client, auth("teacher"), bsn=OTHER_BSN)
        coordinator = auth("coordinator")
        people = [client.get(f"{SIGNALS}/{s['id']}", headers=coordinator).json() for s in (first, second, third)]
        assert people[1]["match_reason"] == "name_and_date_of_birth"
        assert people[0]["person"]["id"] == people[1]["person"]["id"]
        # A BSN can be added to the person the first two signals named; it matches by name then.
        assert people[2]["person"]["id"] == people[0]["person"]["id"]


class TestReadSignal:
    def test_reporter_reads_own_status_only(self, client, auth):
        created = submit(client, auth("teacher"))
        response = client.get(f"{SIGNALS}/{created['id']}", headers=auth("teacher"))
        assert response.status_code == 200
        assert response.json() == created

    def test_other_reporter_gets_404_like_unknown(self, client, auth):
        created = submit(client, auth("teacher"))
        other = client.get(f"{SIGNALS}/{created['id']}", headers=auth("youthworker"))
        unknown = client.get(f"{SIGNALS}/{uuid.uuid4()}", headers=auth("youthworker"))
        assert other.status_code == unknown.status_code == 404
        assert other.json()["detail"] == unknown.json()["detail"]

    def test_coordinator_reads_full_signal(self, client, auth):
        created = submit(client, auth("teacher"))
        response = client.get(f"{SIGNALS}/{created['id']}", headers=auth("coordinator"))
        body = response.json()
        assert response.status_code == 200 and body["view"] == "full"
        assert body["person"]["name"] == "Jan de Vries" and body["person"]["bsn"] == "111222333"
        assert body["person"]["pseudonym"].startswith("P-")

    @pytest.mark.parametrize("username", ["chair", "care", "expert", "privacy", "admin"])
    def test_roles_without_signal_access_get_404(self, client, auth, username):
        created = submit(client, auth("teacher"))
        assert client.get(f"{SIGNALS}/{created['id']}", headers=auth(username)).status_code == 404

    def test_coordinator_of_another_municipality_gets_404(self, client, auth, app):
        headers = arnhem_coordinator(app, auth)
        created = submit(client, auth("teacher"))
        assert client.get(f"{SIGNALS}/{created['id']}", headers=headers).status_code == 404

    def test_invalid_id_is_400(self, client, auth):
        assert client.get(f"{SIGNALS}/not-a-uuid", headers=auth("coordinator")).status_code == 400


class TestListSignals:
    def test_reporter_lists_only_own(self, client, auth):
        mine = submit(client, auth("teacher"))
        submit(client, auth("youthworker"))
        items = client.get(SIGNALS, headers=auth("teacher")).json()["items"]
        assert [i["id"] for i in items] == [mine["id"]]
        assert set(items[0]) == {"view", "id", "status", "submitted_at"}

    def test_coordinator_lists_municipality_with_cursor(self, client, auth):
        created = [submit(client, auth("teacher"), name=f"Persoon {i}") for i in range(5)]
        seen, cursor = [], None
        while True:
            params = {"pageSize": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get(SIGNALS, params=params, headers=auth("coordinator")).json()
            assert len(page["items"]) <= 2
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [c["id"] for c in reversed(created)]

    def test_status_filter(self, client, auth):
        submit(client, auth("teacher"))
        headers = auth("coordinator")
        assert len(client.get(SIGNALS, params={"status": "received"}, headers=headers).json()["items"]) == 1
        assert client.get(SIGNALS, params={"status": "in_triage"}, headers=headers).json()["items"] == []
        assert client.get(SIGNALS, params={"status": "bogus"}, headers=headers).status_code == 400

    def test_arnhem_coordinator_sees_none_of_utrecht(self, client, auth, app):
        headers = arnhem_coordinator(app, auth)
        submit(client, auth("teacher"))
        assert client.get(SIGNALS, headers=headers).json()["items"] == []

    @pytest.mark.parametrize("params", [{"pageSize": 0}, {"pageSize": 101}, {"pageSize": "x"},
                                        {"cursor": "garbage!"}, {"cursor": NAIVE_CURSOR}])
    def test_bad_paging_is_400(self, client, auth, params):
        response = client.get(SIGNALS, params=params, headers=auth("coordinator"))
        assert response.status_code == 400
        assert response.json()["errors"]

    @pytest.mark.parametrize("username", ["care", "expert", "privacy", "admin"])
    def test_roles_without_signal_access_are_403(self, client, auth, username):
        assert client.get(SIGNALS, headers=auth(username)).status_code == 403


def test_concurrent_retries_with_one_key_store_one_signal(client, auth, app):
    """Clients retry while the first attempt is still running: still exactly one signal."""
    from concurrent.futures import ThreadPoolExecutor

    headers, body = {**auth("teacher"), "Idempotency-Key": "concurrent-key"}, signal_body()
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: client.post(SIGNALS, json=body, headers=headers), range(6)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(app, Signal) == 1


def test_concurrent_intake_about_one_person_makes_one_person_record(client, auth, app):
    from concurrent.futures import ThreadPoolExecutor

    body, headers = signal_body(), auth("teacher")
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: client.post(SIGNALS, json=body, headers=headers).status_code, range(8)))
    assert statuses == [201] * 8
    assert count(app, Signal) == 8 and count(app, Person) == 1


def test_intake_does_not_change_the_person_record(client, auth):
    first = submit(client, auth("teacher"), bsn=None)
    second = submit(client, auth("police"), bsn="123456782")
    coordinator = auth("coordinator")
    a = client.get(f"{SIGNALS}/{first['id']}", headers=coordinator).json()
    b = client.get(f"{SIGNALS}/{second['id']}", headers=coordinator).json()
    assert a["person"]["id"] == b["person"]["id"] and b["person"]["bsn"] is None
    assert b["subject"]["bsn"] == "123456782"
    assert [m["id"] for m in b["matches"]] == [first["id"]]
