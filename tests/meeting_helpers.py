"""Shared steps for meeting tests: user ids, planning a meeting, ageing triage times."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from app.models import AuditEvent, AuditEventPerson, Signal, User
from tests.case_helpers import API, organisation_id
from tests.db import inspect_db
from tests.factories import with_etag


def user_id(app, username: str) -> str:
    with Session(app.state.engine) as session:
        return str(session.exec(select(User.id).where(User.username == username)).one())


def plan(client, auth, app, *, hours: float = 1, attendees=("POL", "GGZ"), by: str = "coordinator", **extra) -> dict:
    headers = auth(by)
    body = {"starts_at": (datetime.now(UTC) + timedelta(hours=hours)).isoformat(), "chair_id": user_id(app, "chair"),
            "attending_organisation_ids": [organisation_id(client, headers, c) for c in attendees],
            "location": "Stadskantoor, zaal 3"} | extra
    response = client.post(f"{API}/meetings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def age_triage(app, signal_ids: list[str], days: float) -> None:
    """As if the signals were triaged `days` ago (during the past week)."""
    with inspect_db(app) as session:
        session.execute(update(Signal).where(Signal.id.in_([uuid.UUID(s) for s in signal_ids]))
                        .values(triaged_at=datetime.now(UTC) - timedelta(days=days)))
        session.commit()


def set_status(client, auth, meeting_id: str, status: str, by: str = "chair") -> dict:
    url = f"{API}/meetings/{meeting_id}"
    response = client.patch(url, json={"status": status}, headers=with_etag(client, auth(by), url))
    assert response.status_code == 200, response.text
    return response.json()


def persons_of_event(app, trace_id: str, resource_type: str) -> set[str]:
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id,
                                                      AuditEvent.resource_type == resource_type)).one()
        return set(session.exec(select(AuditEventPerson.pseudonym).where(AuditEventPerson.event_seq == event.seq)).all())
