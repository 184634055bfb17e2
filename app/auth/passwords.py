"""Argon2id password and client-secret hashing."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache
def hasher(time_cost: int = 3, memory_cost: int = 65536) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_secret(secret: str, ph: PasswordHasher) -> str:
    return ph.hash(secret)


def verify_secret(stored_hash: str | None, secret: str, ph: PasswordHasher) -> bool:
    """Spends the same work for unknown accounts, so timing does not tell which accounts exist."""
    try:
        return ph.verify(stored_hash or _dummy_hash(ph), secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash("no account has this password")
