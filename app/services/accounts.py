"""Organisations, users and API clients: the administrator's work (CLI)."""

import secrets
import uuid

from argon2 import PasswordHasher
from sqlmodel import Session, select

from app.auth.passwords import hash_secret
from app.models import ApiClient, Organisation, OrganisationKind, OrganisationNetwork, Role, Scope, User

MIN_PASSWORD = 12


class AccountError(ValueError):
    pass


def find_organisation(session: Session, name_or_code: str) -> Organisation:
    query = select(Organisation).where((Organisation.name == name_or_code) | (Organisation.code == name_or_code))
    organisation = session.exec(query).first()
    if organisation is None:
        raise AccountError(f"no organisation named or coded {name_or_code!r}")
    return organisation


def create_organisation(session: Session, name: str, kind: OrganisationKind, code: str,
                        municipality: Organisation | None) -> Organisation:
    organisation = Organisation(id=uuid.uuid4(), name=name, kind=kind, code=code.upper())
    # Municipalities (local and external) form their own network; others join one.
    is_municipality = kind in (OrganisationKind.municipality, OrganisationKind.external_municipality)
    if not is_municipality and municipality is None:
        raise AccountError("a non-municipal organisation needs the municipality whose network it joins")
    organisation.municipality_id = organisation.id if is_municipality else municipality.id
    session.add(organisation)
    session.flush()
    return organisation


def serving(session: Session, organisation_id: uuid.UUID, municipality_id: uuid.UUID) -> Organisation | None:
    """The organisation, if it works in the municipality's network: its own, or one it joined."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.municipality_id == municipality_id:
        return organisation
    joined = session.get(OrganisationNetwork, (organisation_id, municipality_id))
    return organisation if joined is not None else None


def join_network(session: Session, organisation: Organisation, municipality: Organisation) -> OrganisationNetwork:
    """The organisation works in the municipality's network too (a regional partner serving several)."""
    if municipality.kind not in (OrganisationKind.municipality, OrganisationKind.external_municipality):
        raise AccountError(f"{municipality.name} is not a municipality")
    if organisation.municipality_id in (None, municipality.id) or organisation.kind in (
            OrganisationKind.municipality, OrganisationKind.external_municipality):
        raise AccountError(f"{organisation.name} is a municipality or already works in {municipality.name}'s network")
    network = session.get(OrganisationNetwork, (organisation.id, municipality.id))
    if network is None:
        network = OrganisationNetwork(organisation_id=organisation.id, municipality_id=municipality.id)
        session.add(network)
        session.flush()
    return network


def create_user(session: Session, hasher: PasswordHasher, username: str, display_name: str,
                organisation: Organisation, roles: list[Role], password: str, demo: bool = False) -> User:
    if not roles:
        raise AccountError("a user needs at least one role")
    if len(password) < MIN_PASSWORD and not demo:
        raise AccountError(f"passwords have at least {MIN_PASSWORD} characters")
    user = User(username=username, display_name=display_name, organisation_id=organisation.id,
                roles=sorted(r.value for r in roles), password_hash=hash_secret(password, hasher))
    session.add(user)
    session.flush()
    return user


def create_client(session: Session, hasher: PasswordHasher, client_id: str, organisation: Organisation,
                  scopes: list[Scope], secret: str | None = None) -> tuple[ApiClient, str]:
    """Returns the client and its secret, which is shown once and stored only as a hash."""
    secret = secret or secrets.token_urlsafe(32)
    client = ApiClient(client_id=client_id, organisation_id=organisation.id,
                       scopes=sorted(s.value for s in scopes), secret_hash=hash_secret(secret, hasher))
    session.add(client)
    session.flush()
    return client, secret
