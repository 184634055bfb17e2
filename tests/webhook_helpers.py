"""A real HTTP receiver for webhook tests, subscriptions made directly, and the README's verifier."""

import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from sqlmodel import Session, select

from app.models import Organisation, OutboxMessage, Subscription
from app.models.base import utcnow
from app.services import webhooks

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_receiver() -> dict:
    """The Python snippet of the README's "Receiving webhooks" section, executed: `verify`, `handle`."""
    section = README.read_text().split("## Receiving webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An ASGI app that records each request and answers the next queued status (then 204)."""

    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def reset(self) -> None:
        self.statuses.clear()
        self.deliveries.clear()

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.deliveries.append(Delivery(scope["path"], headers, body))
        status = self.statuses.pop(0) if self.statuses else 204
        extra = [(b"location", self.url.encode())] if 300 <= status < 400 else []
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b"a body the registry must not store"})


def serve(receiver: Receiver) -> uvicorn.Server:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(receiver, lifespan="off", log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the receiver did not start"
    return server


def add_subscription(app, url: str, events=("signal.received",), code: str = "UTR") -> tuple[uuid.UUID, str]:
    """A subscription written directly; returns its id and signing secret."""
    secret = webhooks.new_secret()
    with Session(app.state.engine) as session:
        organisation = session.exec(select(Organisation).where(Organisation.code == code)).one()
        subscription = Subscription(organisation_id=organisation.id, callback_url=url, events=list(events),
                                    secret_encrypted=webhooks.encrypt_secret(app.state.settings, secret),
                                    key_id=webhooks.new_key_id(), created_by="test")
        session.add(subscription)
        session.commit()
        return subscription.id, secret


def organisation_id(app, code: str) -> uuid.UUID:
    with Session(app.state.engine) as session:
        return session.exec(select(Organisation.id).where(Organisation.code == code)).one()


def messages(app, **where) -> list[OutboxMessage]:
    with Session(app.state.engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query).all())


def make_due(app) -> None:
    """Brings every pending message's next attempt to now, as if the backoff had passed."""
    with Session(app.state.engine) as session:
        for message in session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all():
            message.next_attempt_at = utcnow()
        session.commit()
