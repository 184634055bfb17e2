"""Links to other municipalities' registries, set up by the administrator: where referrals to an
external municipality go, with the credentials of the client that registry gave us (the secret is
stored encrypted with WEBHOOK_SECRET_KEY), and which municipality here deals with it."""

import uuid

import httpx
from sqlmodel import Session, select

from app.config import Settings
from app.models import ExternalEndpoint, Organisation, OrganisationKind
from app.services.accounts import AccountError
from app.services.webhooks import decrypt_secret, encrypt_secret


def endpoint_of(session: Session, organisation_id: uuid.UUID) -> ExternalEndpoint | None:
    query = select(ExternalEndpoint).where(ExternalEndpoint.organisation_id == organisation_id)
    return session.exec(query).first()


def _check_url(url: str, allow_plain_http: bool) -> str:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise AccountError(f"not an absolute URL: {url!r}")
    if parsed.scheme == "http" and not allow_plain_http:
        raise AccountError("another registry is reached over https (plain http only with WEBHOOK_ALLOW_PRIVATE_TARGETS)")
    return url


def register(session: Session, settings: Settings, organisation: Organisation, municipality: Organisation,
             base_url: str, token_url: str, client_id: str, secret: str) -> ExternalEndpoint:
    """Adds or replaces the link of an external municipality."""
    if organisation.kind != OrganisationKind.external_municipality:
        raise AccountError(f"{organisation.name} is not an external municipality")
    if municipality.kind != OrganisationKind.municipality:
        raise AccountError(f"{municipality.name} is not a municipality of this registry")
    allow = settings.webhook_private_targets_allowed
    link = endpoint_of(session, organisation.id) or ExternalEndpoint(organisation_id=organisation.id)
    link.municipality_id, link.client_id = municipality.id, client_id
    link.base_url, link.token_url = _check_url(base_url, allow), _check_url(token_url, allow)
    link.client_secret_encrypted = encrypt_secret(settings, secret)
    session.add(link)
    session.flush()
    return link


def client_secret(settings: Settings, link: ExternalEndpoint) -> str:
    return decrypt_secret(settings, link.client_secret_encrypted)
