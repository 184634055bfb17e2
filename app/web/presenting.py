"""What the pages show besides the policies' views: names of people and organisations, and order."""

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.auth.policies.meetings import MeetingAccess
from app.models import Organisation, User
from app.models.meeting import Meeting, MeetingStatus

# A meeting of this morning is still "coming" until it closes or the day is over.
STILL_COMING = timedelta(hours=12)


def coming_and_past(found: list[Meeting], now: datetime) -> tuple[list[Meeting], list[Meeting]]:
    """The coming meetings, soonest first, then the past ones, latest first."""
    coming = [m for m in found if m.status != MeetingStatus.closed and m.starts_at >= now - STILL_COMING]
    past = [m for m in found if m not in coming]
    return sorted(coming, key=lambda m: m.starts_at), sorted(past, key=lambda m: m.starts_at, reverse=True)


def display_name(session: Session, user_id: uuid.UUID) -> str:
    user = session.get(User, user_id)
    return user.display_name if user else ""


def owners(session: Session, access: MeetingAccess) -> list[Organisation]:
    """Who can own an action agreed here: the municipality and the organisations attending."""
    ids = {access.meeting.municipality_id, *access.attendees}
    return list(session.exec(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)).all())
