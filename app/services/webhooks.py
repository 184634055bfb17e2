"""Webhook deliveries: signing secrets, signatures, and the deliverer for outbox kind `webhook`.

The scheme follows the Standard Webhooks specification (standardwebhooks.com), so receivers can
use its libraries: the secret is `whsec_` + base64 of 32 random bytes; a delivery carries
`webhook-id` (the event id), `webhook-timestamp` (Unix seconds), `webhook-signature`
(`v1,` + base64 HMAC-SHA256 with the decoded secret over `{id}.{timestamp}.{body}`) and, beyond the
specification, `webhook-key-id`, naming the secret that signed it.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time

import httpx
from cryptography.fernet import Fernet, MultiFernet
from sqlmodel import Session

from app import tracing
from app.config import Settings
from app.models import OutboxMessage, Subscription
from app.services import outbox, targets
from app.services.outbox import DeliveryFailed

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_key_id() -> str:
    return "whk_" + secrets.token_hex(8)


def _cipher(settings: Settings) -> MultiFernet:
    return MultiFernet([Fernet(key.strip()) for key in settings.webhook_secret_key.split(",")])


def encrypt_secret(settings: Settings, secret: str) -> str:
    return _cipher(settings).encrypt(secret.encode()).decode()


def decrypt_secret(settings: Settings, token: str) -> str:
    return _cipher(settings).decrypt(token.encode()).decode()


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, key_id: str, event_id: str, body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"content-type": "application/json", "webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, event_id, timestamp, body), "webhook-key-id": key_id}


def deliver(session: Session, message: OutboxMessage, http_client: httpx.Client) -> None:
    """POSTs the event to the subscription's callback URL; any 2xx answer is a delivery."""
    settings: Settings = session.info["settings"]
    subscription = session.get(Subscription, message.subscription_id) if message.subscription_id else None
    if subscription is None or not subscription.active:
        raise DeliveryFailed("the subscription was deleted", permanent=True)
    try:
        targets.check_callback_url(subscription.callback_url, settings.webhook_private_targets_allowed,
                                   settings.demo_mode)
    except targets.TargetRefused as exc:
        raise DeliveryFailed(f"callback URL refused: {exc}") from exc
    body = json.dumps(message.payload, separators=(",", ":")).encode()
    secret = decrypt_secret(settings, subscription.secret_encrypted)
    headers = signed_headers(secret, subscription.key_id, str(message.id), body)
    headers["traceparent"] = tracing.outgoing_traceparent()
    try:
        # Streamed and never read: a receiver's answer body is neither needed nor stored.
        with http_client.stream("POST", subscription.callback_url, content=body, headers=headers) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    if 300 <= status < 400:
        raise DeliveryFailed(f"the callback URL answered HTTP {status}; redirects are not followed")
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the callback URL answered HTTP {status}")


outbox.register_deliverer(outbox.WEBHOOK_KIND, deliver)
