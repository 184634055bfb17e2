"""Hostile input: every request below is answered with a clear 4xx problem document and changes no record.

test_signals.py covers a signal body over the limit (declared and streamed), malformed JSON and the
field rules one by one; test_tokens.py covers every rejected token on GET /auth/me. Here: the same
attacks on other operations and content types, and forged tokens on an operation that writes.
"""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwt

from tests.authz_world import item_body, records
from tests.case_helpers import API, new_case
from tests.factories import signal_body, submit
from tests.test_tokens import b64, signed

JSON = {"content-type": "application/json"}
PAGE_SIZES = ["0", "-1", "101", "1e3", "abc", "9" * 40, ""]
BAD_BSNS = ["12345678", "1234567890", "123456789", "000000000", "111 222 333", "１１１２２２３３３", 111222333]
BAD_DATES = ["2026-13-45T25:61:00Z", "2026-02-30T10:00:00Z", "yesterday", "", "10000-01-01T00:00:00Z", 1700000000]


def deeply_nested(depth: int) -> bytes:
    body = json.dumps(signal_body()).encode()
    return body[:-1] + b', "district": ' + b"[" * depth + b"]" * depth + b"}"


def invalid_utf8() -> bytes:
    return json.dumps(signal_body(description="MARK")).encode().replace(b"MARK", b"Trekt zich \xc3\x28 terug \xff")


def streamed(size: int):
    for _ in range(size // 4096 + 2):
        yield b" " * 4096


# name: (caller, expected status, request given the setup context: method, path and httpx arguments)
Request = Callable[[dict], tuple[str, str, dict[str, Any]]]
HOSTILE: dict[str, tuple[str, int, Request]] = {
    "item body over the limit": ("coordinator", 413, lambda c: (
        "POST", f"/cases/{c['case']}/items", {"json": item_body() | {"text": "x" * (c["limit"] + 1)}})),
    "item body streamed over the limit": ("coordinator", 413, lambda c: (
        "POST", f"/cases/{c['case']}/items", {"content": streamed(c["limit"]), "headers": JSON})),
    "token form over the limit": ("anonymous", 413, lambda c: (
        "POST", "/auth/token", {"data": {"grant_type": "password", "username": "x", "password": "y" * c["limit"]}})),
    "token form streamed over the limit": ("anonymous", 413, lambda c: (
        "POST", "/auth/token", {"content": streamed(c["limit"]),
                                "headers": {"content-type": "application/x-www-form-urlencoded"}})),
    "deeply nested JSON": ("teacher", 400, lambda c: ("POST", "/signals", {"content": deeply_nested(100_000),
                                                                         "headers": JSON})),
    "deeply nested JSON within the limit": ("teacher", 400, lambda c: (
        "POST", "/signals", {"content": b'{"a":' * 150_000 + b"1" + b"}" * 150_000, "headers": JSON})),
    "signal as text/plain": ("teacher", 415, lambda c: (
        "POST", "/signals", {"content": json.dumps(signal_body()), "headers": {"content-type": "text/plain"}})),
    "signal as XML": ("teacher", 415, lambda c: (
        "POST", "/signals", {"content": b"<signal/>", "headers": {"content-type": "application/xml"}})),
    "signal as a form": ("teacher", 415, lambda c: ("POST", "/signals", {"data": {"description": "x"}})),
    "signal without a content type": ("teacher", 415, lambda c: (
        "POST", "/signals", {"content": json.dumps(signal_body()).encode()})),
    "case change as text/plain": ("coordinator", 415, lambda c: (
        "PATCH", f"/cases/{c['case']}", {"content": '{"status": "closed"}',
                                         "headers": {"content-type": "text/plain", "If-Match": c["etag"]}})),
    "token request as JSON": ("anonymous", 400, lambda c: ("POST", "/auth/token", {"json": {
        "grant_type": "client_credentials", "client_id": "arnhem-system", "client_secret": "demo-test-password"}})),
    "invalid UTF-8 in a JSON body": ("teacher", 400, lambda c: ("POST", "/signals", {"content": invalid_utf8(),
                                                                                   "headers": JSON})),
    "invalid UTF-8 in a path": ("coordinator", 400, lambda c: ("GET", "/cases/%ff%fe", {})),
    "invalid UTF-8 in a query": ("privacy", 400, lambda c: ("GET", "/audit-events?since=%ff%fe", {})),
    **{f"NUL in the query parameter {name}": ("privacy", 400, lambda c, name=name: (
        "GET", f"/audit-events?{name}=a%00b", {})) for name in ("actorId", "pseudonym", "resourceType", "resourceId")},
    "NUL in an Idempotency-Key": ("teacher", 400, lambda c: (
        "POST", "/signals", {"json": signal_body(), "headers": {"Idempotency-Key": "a\x00b"}})),
    "NaN in JSON": ("coordinator", 400, lambda c: ("POST", "/persons/search", {
        "content": b'{"name": NaN, "date_of_birth": "2005-03-01"}', "headers": JSON})),
    "a 5000-digit number": ("coordinator", 400, lambda c: ("POST", "/persons/search", {
        "content": b'{"bsn": 1' + b"0" * 5000 + b"}", "headers": JSON})),
    "an overlong Idempotency-Key": ("teacher", 400, lambda c: (
        "POST", "/signals", {"json": signal_body(), "headers": {"Idempotency-Key": "k" * 10_000}})),
    "an overlong path id": ("coordinator", 400, lambda c: ("GET", f"/cases/{'a' * 5000}", {})),
    "item date not a date": ("coordinator", 400, lambda c: (
        "POST", f"/cases/{c['case']}/items", {"json": item_body() | {"date": "2025-02-30"}})),
    "statistics over an impossible period": ("coordinator", 400, lambda c: (
        "GET", "/statistics?since=2026-02-30T00:00:00Z&until=2026-13-01T00:00:00Z", {})),
    **{f"pageSize={size!r} on {path}": (caller, 400, lambda c, size=size, path=path: (
        "GET", f"{path}?pageSize={size}", {}))
       for caller, path in [("coordinator", "/signals"), ("coordinator", "/cases"), ("privacy", "/emergency-accesses"),
                            ("privacy", "/audit-events")] for size in PAGE_SIZES},
    **{f"observed_at={value!r}": ("teacher", 400, lambda c, value=value: (
        "POST", "/signals", {"json": signal_body(observed_at=value)})) for value in BAD_DATES},
    **{f"date_of_birth={value!r}": ("teacher", 400, lambda c, value=value: (
        "POST", "/signals", {"json": signal_body() | {"subject": {"name": "A", "date_of_birth": value}}}))
       for value in BAD_DATES[1:]},
    **{f"bsn={value!r} in a signal": ("teacher", 400, lambda c, value=value: (
        "POST", "/signals", {"json": signal_body(bsn=value)})) for value in BAD_BSNS},
    **{f"bsn={value!r} in a search": ("coordinator", 400, lambda c, value=value: (
        "POST", "/persons/search", {"json": {"bsn": value}})) for value in BAD_BSNS},
}


@pytest.fixture
def setup(client, auth, app) -> dict:
    case = new_case(client, auth)
    return {"case": case["id"], "limit": app.state.settings.max_body_bytes,
            "etag": client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).headers["etag"]}


def headers_of(auth, caller: str) -> dict[str, str]:
    return {} if caller == "anonymous" else auth(caller)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem["type"].startswith("https://casusregister.nl/problems/")
    return problem


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_request_is_a_problem_and_changes_nothing(client, auth, app, setup, name):
    caller, status, build = HOSTILE[name]
    method, path, arguments = build(setup)
    arguments["headers"] = headers_of(auth, caller) | arguments.get("headers", {})
    before = records(app)

    response = client.request(method, API + path, **arguments)

    assert_problem(response, status)
    assert records(app) == before


def teacher_claims(auth, **overrides) -> dict:
    return {**jwt.get_unverified_claims(auth("teacher")["Authorization"].split()[1]), **overrides}


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(app, claims: dict) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": app.state.keyring.signing_jwk["kid"]}
    public_pem = app.state.keyring.jwks()["keys"][0]
    return jwt.encode(claims, json.dumps(public_pem), algorithm="HS256", headers=header)


def other_key_same_kid(app, claims: dict) -> str:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": app.state.keyring.signing_jwk["kid"]})


PAST = int(time.time()) - 3600
FORGED_TOKENS: dict[str, Callable[[Any, Any], str]] = {
    "alg none": lambda app, auth: unsigned({"alg": "none", "kid": app.state.keyring.signing_jwk["kid"]},
                                           teacher_claims(auth)),
    "HS256 signed with the public key": lambda app, auth: hs256_with_public_key(app, teacher_claims(auth)),
    "signed by another key under our kid": lambda app, auth: other_key_same_kid(app, teacher_claims(auth)),
    "expired": lambda app, auth: signed(app, teacher_claims(auth, iat=PAST, nbf=PAST, exp=PAST + 60)),
    "not yet valid": lambda app, auth: signed(app, teacher_claims(auth, nbf=int(time.time()) + 3600)),
    "wrong audience": lambda app, auth: signed(app, teacher_claims(auth, aud="https://other.example")),
    "wrong issuer": lambda app, auth: signed(app, teacher_claims(auth, iss="https://evil.example")),
    "unknown kid": lambda app, auth: signed(app, teacher_claims(auth), kid="not-a-configured-key"),
    "no kid": lambda app, auth: jwt.encode(teacher_claims(auth), app.state.settings.jwt_private_key_file.read_bytes(),
                                           algorithm="ES256"),
    "roles raised in the payload": lambda app, auth: auth("teacher")["Authorization"].split()[1].split(".")[0] + "."
    + b64(json.dumps(teacher_claims(auth, roles=["coordinator"])).encode()) + "."
    + auth("teacher")["Authorization"].split()[1].split(".")[2],
}


@pytest.mark.parametrize("name", FORGED_TOKENS)
def test_forged_token_cannot_write(client, auth, app, name):
    token = FORGED_TOKENS[name](app, auth)
    before = records(app)

    response = client.post(f"{API}/signals", json=signal_body(), headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert records(app) == before


SCRIPT = "<script>alert('x')</script>"
SQL = "Robert'); DROP TABLE persons; --"


def test_sql_and_html_in_text_are_stored_and_returned_verbatim(client, auth, app):
    signal = submit(client, auth("teacher"), name=f"{SQL} {SCRIPT}", bsn=None,
                    description=f"' OR '1'='1 {SCRIPT}", district="<img src=x onerror=alert(1)>")
    coordinator = auth("coordinator")

    read = client.get(f"{API}/signals/{signal['id']}", headers=coordinator)
    assert read.headers["content-type"] == "application/json"
    body = read.json()
    assert body["person"]["name"] == f"{SQL} {SCRIPT}"
    assert (body["description"], body["district"]) == (f"' OR '1'='1 {SCRIPT}", "<img src=x onerror=alert(1)>")
    search = client.post(f"{API}/persons/search", json={"name": f"{SQL} {SCRIPT}", "date_of_birth": "2005-03-01"},
                         headers=coordinator).json()
    assert [p["id"] for p in search["items"]] == [body["person"]["id"]]
    injected = client.post(f"{API}/persons/search", json={"name": "x' OR '1'='1", "date_of_birth": "2005-03-01"},
                           headers=coordinator).json()
    assert injected["items"] == []


def test_html_access_report_escapes_what_a_reporter_typed(client, auth):
    signal = submit(client, auth("teacher"), name=f"Jan {SCRIPT}", bsn=None)
    person = client.get(f"{API}/signals/{signal['id']}", headers=auth("coordinator")).json()["person"]["id"]

    report = client.get(f"{API}/persons/{person}/access-report", headers=auth("privacy") | {"Accept": "text/html"})

    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert SCRIPT not in report.text
    assert "Jan &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in report.text
