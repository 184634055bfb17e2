"""JWT issuing and verification (RFC 8725). The only module that imports python-jose.

Only asymmetric algorithms are accepted, always from an explicit list; the `kid` is looked up
among configured keys only, and issuer, audience and expiry are always checked.
"""

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from jose import jwk, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from app.auth import keys as key_store
from app.config import Settings

ALLOWED_ALGORITHMS = ("ES256", "RS256")
JWKS_REFRESH_SECONDS = 300


class InvalidToken(Exception):
    """The token is not acceptable; the reason is for logs and tests, never for the client, who learns
    only whether it expired (`expired`: a client then fetches a new one rather than give up)."""

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithm: str
    public_jwk: dict[str, Any]
    issuer: str
    audience: str
    # Built once: python-jose would otherwise rebuild the key from its JWK on every verification.
    verifier: jwk.Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verifier", jwk.construct(self.public_jwk, self.algorithm))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint, used as the key id."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[public_jwk["kty"]]
    canonical = json.dumps({k: public_jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def _public_jwk(private_pem: bytes, algorithm: str) -> dict[str, Any]:
    public = jwk.construct(private_pem, algorithm).public_key().to_dict()
    public = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}
    return {**public, "alg": algorithm, "use": "sig", "kid": thumbprint(public)}


def key_id(private_pem: bytes, algorithm: str) -> str:
    return _public_jwk(private_pem, algorithm)["kid"]


def signing_keys_dir(settings: Settings) -> Path | None:
    """JWT_KEYS_DIR; in demo mode without a key of its own, one under DATA_DIR that it fills itself."""
    if settings.jwt_keys_dir is not None:
        return settings.jwt_keys_dir
    if settings.demo_mode and settings.jwt_private_key_file is None:
        return settings.data_dir / "jwt-keys"
    return None


def _external_key(public_jwk: dict[str, Any], s: Settings) -> VerificationKey | None:
    """None for a key that cannot be built (a malformed JWK): tokens signed with it fail as unknown."""
    try:
        return VerificationKey(public_jwk["kid"], public_jwk["alg"], public_jwk, s.external_issuer,
                               s.external_audience or s.jwt_audience)
    except (JOSEError, ValueError, TypeError, KeyError):
        return None


@dataclass
class KeyRing:
    settings: Settings
    # The signing key and its public JWK in one attribute: a reload by another thread swaps them together.
    signing: tuple[bytes, dict[str, Any]] | None = None
    keys: dict[str, VerificationKey] = field(default_factory=dict)
    # Our own keys' public JWKs, newest first: the first signs, all verify (a rotation's predecessors,
    # until retired); and the identity provider's keys, when one is configured.
    local: list[dict[str, Any]] = field(default_factory=list)
    ours: dict[str, VerificationKey] = field(default_factory=dict)
    external: dict[str, VerificationKey] = field(default_factory=dict)
    keys_dir: Path | None = None
    _keys_dir_mtime: int | None = None
    _external_fetched_at: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        if settings.jwt_algorithm not in ALLOWED_ALGORITHMS:
            raise ValueError(f"JWT_ALGORITHM must be one of {ALLOWED_ALGORITHMS}")
        ring = cls(settings, keys_dir=signing_keys_dir(settings))
        if ring.keys_dir is not None:
            if settings.demo_mode:
                key_store.ensure(ring.keys_dir, settings.jwt_algorithm)
            ring._load_key_directory()
        elif settings.jwt_private_key_file is not None:
            ring._use_local_keys([settings.jwt_private_key_file.read_bytes()])
        if settings.external_issuer:
            ring._load_external_keys()
        return ring

    def _use_local_keys(self, pems: list[bytes]) -> None:
        """`pems` newest first."""
        algorithm = self.settings.jwt_algorithm
        self.local = [_public_jwk(pem, algorithm) for pem in pems]
        self.signing = (pems[0], self.local[0]) if pems else None
        self.ours = {public["kid"]: VerificationKey(public["kid"], algorithm, public, self.settings.jwt_issuer,
                                                    self.settings.jwt_audience) for public in self.local}
        self.keys = {**self.external, **self.ours}

    @property
    def signing_jwk(self) -> dict[str, Any] | None:
        return self.signing[1] if self.signing else None

    def _load_key_directory(self) -> None:
        self._keys_dir_mtime = self.keys_dir.stat().st_mtime_ns
        self._use_local_keys([key.pem() for key in reversed(key_store.stored(self.keys_dir))])

    def _refresh_local(self) -> None:
        """`keys rotate` (or an operator removing a compromised key) may have changed the directory: one
        stat() tells."""
        if self.keys_dir is not None and self.keys_dir.stat().st_mtime_ns != self._keys_dir_mtime:
            self._load_key_directory()

    def _load_external_keys(self) -> None:
        """Replaces the identity provider's key set, so keys it withdrew stop being trusted."""
        s = self.settings
        self._external_fetched_at = time.monotonic()  # also after a failure: no fetch per bad token
        if s.external_jwks_file:
            document = json.loads(s.external_jwks_file.read_text())
        else:
            document = httpx.get(s.external_jwks_url, timeout=5.0).raise_for_status().json()
        usable = (key for key in document.get("keys", [])
                  if key.get("alg") in ALLOWED_ALGORITHMS and key.get("kid") and key.get("use", "sig") == "sig")
        self.external = {key.kid: key for key in (_external_key(k, s) for k in usable) if key is not None}
        self.keys = {**self.external, **self.ours}

    def _find_key(self, kid: str) -> VerificationKey | None:
        self._refresh_local()  # a key removed from the directory is distrusted at once
        if kid not in self.keys and self.settings.external_jwks_url and (
                time.monotonic() - self._external_fetched_at > JWKS_REFRESH_SECONDS):
            try:
                self._load_external_keys()  # the identity provider may have rotated its keys
            except (httpx.HTTPError, ValueError) as exc:
                raise InvalidToken("identity provider keys unavailable") from exc
        return self.keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        self._refresh_local()
        return {"keys": list(self.local)}

    def issue(self, subject: str, claims: dict[str, Any]) -> tuple[str, int]:
        self._refresh_local()
        if self.signing is None:
            raise RuntimeError("this registry does not issue tokens (no signing key configured)")
        pem, public = self.signing
        now = int(time.time())
        ttl = self.settings.token_ttl_seconds
        payload = {**claims, "iss": self.settings.jwt_issuer, "aud": self.settings.jwt_audience,
                   "sub": subject, "iat": now, "nbf": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
        token = jwt.encode(payload, pem, algorithm=self.settings.jwt_algorithm,
                           headers={"kid": public["kid"], "typ": "at+jwt"})
        return token, ttl

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken("malformed token") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken("algorithm not allowed")
        key = self._find_key(kid) if isinstance(kid, str) else None
        if key is None or key.algorithm != algorithm:
            raise InvalidToken("unknown key")
        options = {"leeway": self.settings.jwt_leeway_seconds, "require_exp": True, "require_iat": True,
                   "require_sub": True, "require_iss": True, "require_aud": True, "require_jti": True}
        try:
            return jwt.decode(token, key.verifier, algorithms=[key.algorithm], audience=key.audience,
                              issuer=key.issuer, options=options)
        except ExpiredSignatureError as exc:  # checked after the signature: only a genuine token expires
            raise InvalidToken("expired", expired=True) from exc
        except JOSEError as exc:
            raise InvalidToken(str(exc)) from exc
