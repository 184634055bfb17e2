"""Token issuing and every way a token is rejected (RFC 8725)."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from jose import jwt

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(app, claims: dict, **header) -> str:
    key = app.state.settings.jwt_private_key_file.read_bytes()
    kid = app.state.keyring.signing_jwk["kid"]
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid, **header})


def valid_claims(app, auth, **overrides) -> dict:
    token = auth("coordinator")["Authorization"].split()[1]
    claims = jwt.get_unverified_claims(token)
    return {**claims, **overrides}


def me(client, token: str):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


class TestPasswordGrant:
    def test_issues_a_working_token(self, client, app):
        response = client.post(TOKEN, data={"grant_type": "password", "username": "coordinator",
                                            "password": "demo-test-password"})
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == app.state.settings.token_ttl_seconds
        claims = jwt.get_unverified_claims(body["access_token"])
        assert {"iss", "aud", "sub", "exp", "iat", "jti", "org", "roles"} <= set(claims)
        assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"
        who = me(client, body["access_token"]).json()
        assert who["kind"] == "user" and who["roles"] == ["coordinator"]
        assert who["organisation"]["name"] == "Gemeente Utrecht"

    @pytest.mark.parametrize("username,password", [("coordinator", "wrong"), ("nobody", "demo-test-password")])
    def test_bad_credentials_are_400_invalid_grant(self, client, username, password):
        response = client.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == "invalid_grant"

    def test_overlong_username_is_400(self, client):
        response = client.post(TOKEN, data={"grant_type": "password", "username": "a" * 150, "password": "x"})
        assert response.status_code == 400

    def test_missing_fields_and_unknown_grant_are_400(self, client):
        assert client.post(TOKEN, data={"grant_type": "password", "username": "x"}).status_code == 400
        assert client.post(TOKEN, data={"grant_type": "implicit"}).status_code == 400
        assert client.post(TOKEN, json={"grant_type": "password"}).status_code == 400

    def test_failed_logins_are_rate_limited_per_account(self, client, app):
        limit = app.state.settings.login_max_failures_per_account
        for _ in range(limit):
            client.post(TOKEN, data={"grant_type": "password", "username": "chair", "password": "wrong"})
        response = client.post(TOKEN, data={"grant_type": "password", "username": "chair",
                                            "password": "demo-test-password"})
        assert response.status_code == 429
        assert "retry-after" in response.headers
        other = client.post(TOKEN, data={"grant_type": "password", "username": "care",
                                         "password": "demo-test-password"})
        assert other.status_code == 200

    def test_failed_logins_are_rate_limited_per_address(self, client, app):
        limit = app.state.settings.login_max_failures_per_address
        for i in range(limit):
            client.post(TOKEN, data={"grant_type": "password", "username": f"guess{i}", "password": "x"})
        response = client.post(TOKEN, data={"grant_type": "password", "username": "care",
                                            "password": "demo-test-password"})
        assert response.status_code == 429


class TestClientCredentials:
    def test_issues_a_client_token(self, client):
        response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "arnhem-system",
                                            "client_secret": "demo-test-password"})
        assert response.status_code == 200
        who = me(client, response.json()["access_token"]).json()
        assert who["kind"] == "client" and "signals:create" in who["scopes"] and who["roles"] == []

    def test_narrowed_scope(self, client):
        response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "arnhem-system",
                                            "client_secret": "demo-test-password", "scope": "referrals:send"})
        assert me(client, response.json()["access_token"]).json()["scopes"] == ["referrals:send"]

    def test_scope_not_granted_is_400(self, client):
        response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "arnhem-system",
                                            "client_secret": "demo-test-password", "scope": "admin:all"})
        assert response.status_code == 400 and response.json()["error"] == "invalid_scope"

    def test_bad_secret_is_401_invalid_client(self, client):
        response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "arnhem-system",
                                            "client_secret": "nope"})
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"


class TestRejectedTokens:
    def test_missing_token(self, client):
        response = client.get(ME)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="casusregister"'  # no error code (RFC 6750 3.1)

    def test_expired(self, client, app, auth):
        """RFC 6750: `invalid_token`, and a client can tell an expired token from a bad one."""
        past = int(time.time()) - 3600
        response = me(client, signed(app, valid_claims(app, auth, iat=past, exp=past + 60)))
        assert response.status_code == 401 and response.json()["detail"] == "The access token expired."
        assert response.headers["www-authenticate"] == (
            'Bearer realm="casusregister", error="invalid_token", error_description="The access token expired."')

    def test_an_expired_token_with_a_forged_signature_is_invalid_not_expired(self, client, app, auth):
        past = int(time.time()) - 3600
        head, payload, signature = signed(app, valid_claims(app, auth, iat=past, exp=past + 60)).split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        response = me(client, f"{head}.{payload}.{flipped}")
        assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
        assert "expired" not in response.headers["www-authenticate"]

    def test_expiry_within_leeway_is_accepted(self, client, app, auth):
        now = int(time.time())
        assert me(client, signed(app, valid_claims(app, auth, exp=now - 5))).status_code == 200

    def test_wrong_audience(self, client, app, auth):
        assert me(client, signed(app, valid_claims(app, auth, aud="someone-else"))).status_code == 401

    def test_wrong_issuer(self, client, app, auth):
        assert me(client, signed(app, valid_claims(app, auth, iss="https://evil.example"))).status_code == 401

    def test_missing_expiry(self, client, app, auth):
        claims = valid_claims(app, auth)
        del claims["exp"]
        assert me(client, signed(app, claims)).status_code == 401

    def test_alg_none(self, client, app, auth):
        header = {"alg": "none", "typ": "JWT", "kid": app.state.keyring.signing_jwk["kid"]}
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(valid_claims(app, auth)).encode())}."
        assert me(client, token).status_code == 401

    def test_hs256_signed_with_public_key(self, client, app, auth):
        header = {"alg": "HS256", "typ": "JWT", "kid": app.state.keyring.signing_jwk["kid"]}
        public_pem = json.dumps(app.state.keyring.signing_jwk).encode()
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(valid_claims(app, auth)).encode())}"
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        assert me(client, f"{signing_input}.{b64(signature)}").status_code == 401

    def test_tampered_signature(self, client, auth):
        token = auth("coordinator")["Authorization"].split()[1]
        head, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged = b64(json.dumps({**claims, "roles": ["admin", "coordinator"]}).encode())
        assert me(client, f"{head}.{forged}.{signature}").status_code == 401
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        assert me(client, f"{head}.{payload}.{flipped}").status_code == 401

    def test_unknown_kid(self, client, app, auth):
        assert me(client, signed(app, valid_claims(app, auth), kid="not-a-configured-key")).status_code == 401

    def test_garbage(self, client):
        response = me(client, "not.a.token")
        assert response.status_code == 401 and response.headers["www-authenticate"] == (
            'Bearer realm="casusregister", error="invalid_token", error_description="The access token is not valid."')
        assert client.get(ME, headers={"Authorization": "Basic abc"}).status_code == 401


def test_jwks_publishes_the_public_key(client, app):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kid"] == app.state.keyring.signing_jwk["kid"] and keys[0]["alg"] == "ES256"
    assert "d" not in keys[0]


def test_parallel_guesses_count_before_verification(client, app):
    from concurrent.futures import ThreadPoolExecutor

    limit = app.state.settings.login_max_failures_per_account
    form = {"grant_type": "password", "username": "expert", "password": "wrong"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: client.post(TOKEN, data=form).status_code, range(16)))
    assert statuses.count(400) <= limit and statuses.count(429) >= 16 - limit


def test_deactivated_user_is_refused_at_once(client, app, auth):
    from sqlmodel import Session, select

    from app.models import User

    headers = auth("chair")
    assert client.get(ME, headers=headers).status_code == 200
    with Session(app.state.engine) as session:
        user = session.exec(select(User).where(User.username == "chair")).one()
        user.is_active = False
        session.add(user)
        session.commit()
    try:
        assert client.get(ME, headers=headers).status_code == 401
    finally:
        with Session(app.state.engine) as session:
            user = session.exec(select(User).where(User.username == "chair")).one()
            user.is_active = True
            session.add(user)
            session.commit()
