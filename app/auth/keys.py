"""The token-signing keys on disk, for rotation without logging anyone out.

A key directory (JWT_KEYS_DIR, shared by every replica) holds one PEM file per key, named by the UTC
moment it was made, so name order is age order. The newest key signs; every key in the directory
verifies and is published in the JWKS. `casusregister keys rotate` adds a key and removes those whose
successor has existed longer than a token lives: no token signed with a removed key is still valid.
Replicas see a new key at their next token (they look at the directory's modification time).
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

NAME_FORMAT = "%Y%m%dT%H%M%S%fZ"
SUFFIX = ".pem"


@dataclass(frozen=True)
class StoredKey:
    path: Path
    created: datetime

    def pem(self) -> bytes:
        return self.path.read_bytes()


def _created(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name.removesuffix(SUFFIX), NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None  # not one of ours (an editor's backup, a README): ignored


def stored(directory: Path) -> list[StoredKey]:
    """The keys, oldest first."""
    found = (StoredKey(path, _created(path)) for path in directory.glob(f"*{SUFFIX}"))
    return sorted((key for key in found if key.created is not None), key=lambda key: key.created)


def new_private_key(algorithm: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1()) if algorithm == "ES256" else rsa.generate_private_key(65537, 3072)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def add(directory: Path, algorithm: str, now: datetime | None = None) -> StoredKey:
    """Written beside its final name, then renamed: a replica never reads half a key."""
    directory.mkdir(parents=True, exist_ok=True)
    created = now or datetime.now(UTC)
    path = directory / f"{created.strftime(NAME_FORMAT)}{SUFFIX}"
    scratch = directory / f".{path.name}.tmp"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(new_private_key(algorithm))
    os.replace(scratch, path)
    return StoredKey(path, created)


def ensure(directory: Path, algorithm: str) -> None:
    """A first key where there is none (demo mode, a new deployment)."""
    if not stored(directory):
        try:
            add(directory, algorithm)
        except FileExistsError:
            pass  # another process made it at the same moment


def retired(keys: list[StoredKey], token_lifetime: timedelta, now: datetime) -> list[StoredKey]:
    """Keys whose successor signs for longer than a token lives: nothing they signed is valid now."""
    return [old for old, successor in zip(keys, keys[1:], strict=False) if now - successor.created > token_lifetime]


def rotate(directory: Path, algorithm: str, token_lifetime: timedelta) -> tuple[StoredKey, list[StoredKey]]:
    """Adds a key and removes the retired ones; returns the new key and the removed ones."""
    added = add(directory, algorithm)
    removed = retired(stored(directory), token_lifetime, added.created)
    for key in removed:
        key.path.unlink(missing_ok=True)
    return added, removed
