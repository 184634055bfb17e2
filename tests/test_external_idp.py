"""Tokens of the municipality's identity provider are accepted by configuration alone."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jose import jwk, jwt

from app.factory import create_app

IDP = "https://login.gemeente.example"


@pytest.fixture
def idp(app, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = jwk.construct(pem, "RS256").public_key().to_dict()
    public = {k: v.decode() if isinstance(v, bytes) else v for k, v in public.items()}
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "idp-1", "alg": "RS256"}]}))
    settings = app.state.settings.model_copy(update={
        "external_issuer": IDP, "external_audience": "casusregister-prod", "external_jwks_file": tmp_path / "jwks.json"})
    external_app = create_app(settings)
    with TestClient(external_app) as client:
        yield client, pem
    external_app.state.engine.dispose()


def claims_for(auth, **overrides) -> dict:
    local = jwt.get_unverified_claims(auth("care")["Authorization"].split()[1])
    return {**local, "iss": IDP, "aud": "casusregister-prod", **overrides}


def test_idp_token_is_accepted(idp, auth):
    client, pem = idp
    token = jwt.encode(claims_for(auth), pem, algorithm="RS256", headers={"kid": "idp-1"})
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["roles"] == ["partner"]


@pytest.mark.parametrize("overrides", [{"iss": "https://other.example"}, {"aud": "casusregister"}])
def test_idp_token_with_wrong_issuer_or_audience_is_rejected(idp, auth, overrides):
    client, pem = idp
    token = jwt.encode(claims_for(auth, **overrides), pem, algorithm="RS256", headers={"kid": "idp-1"})
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_idp_key_cannot_sign_for_local_issuer(idp, auth):
    client, pem = idp
    claims = jwt.get_unverified_claims(auth("care")["Authorization"].split()[1])
    token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "idp-1"})
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
