"""Demo data: the Utrecht network, its users and Arnhem's system. Never on a database with real data."""

import uuid
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlmodel import Session, func, select

from app.auth import tenancy
from app.models import (
    Meeting,
    MeetingAttendee,
    Organisation,
    OrganisationKind,
    Role,
    Scope,
    User,
)
from app.services import accounts

K = OrganisationKind
# name, kind, code; all but the municipalities join Utrecht's network.
ORGANISATIONS = [
    ("Gemeente Utrecht", K.municipality, "UTR"),
    ("Politie Midden-Nederland", K.police, "POL"),
    ("Openbaar Ministerie", K.public_prosecutor, "OM"),
    ("Buurtteam Utrecht", K.care, "BTU"),
    ("JoU Jongerenwerk", K.youth_work, "JOU"),
    ("GGZ Utrecht", K.care, "GGZ"),
    ("Stichting Onderwijs Utrecht", K.education, "SOU"),
    ("Duidingspool Oost-Nederland", K.expert_pool, "DPO"),
    ("Gemeente Arnhem", K.external_municipality, "ARN"),
]
# username, display name, organisation code, roles
USERS = [
    ("coordinator", "Casusregisseur Utrecht", "UTR", [Role.coordinator]),
    ("chair", "Voorzitter casusoverleg", "UTR", [Role.chair]),
    ("police", "Wijkagent Midden-Nederland", "POL", [Role.partner, Role.melder]),
    ("care", "Behandelaar GGZ", "GGZ", [Role.partner]),
    ("youthworker", "Jongerenwerker JoU", "JOU", [Role.melder, Role.partner]),
    ("teacher", "Docent", "SOU", [Role.melder]),
    ("expert", "Deskundige duidingspool", "DPO", [Role.expert]),
    ("privacy", "Functionaris gegevensbescherming", "UTR", [Role.privacy_officer]),
    ("admin", "Functioneel beheerder", "UTR", [Role.admin]),
]
CLIENT = ("arnhem-system", "ARN", [Scope.referrals_send, Scope.referrals_receive, Scope.signals_create,
                                   Scope.webhooks_manage])


class RealDataPresent(RuntimeError):
    pass


def _is_demo_database(session: Session) -> bool:
    names = set(session.exec(select(Organisation.name)).all())
    usernames = set(session.exec(select(User.username)).all())
    return names <= {o[0] for o in ORGANISATIONS} and usernames <= {u[0] for u in USERS}


def seed(session: Session, hasher: PasswordHasher, password: str) -> bool:
    """Seeds an empty database; returns False if the demo data is already there."""
    if not _is_demo_database(session):
        raise RealDataPresent("the database holds organisations or users that are not demo data")
    if session.exec(select(func.count()).select_from(Organisation)).one():
        return False
    with tenancy.maintenance("demo data", session):
        _seed(session, hasher, password)
        session.flush()
    return True


def _seed(session: Session, hasher: PasswordHasher, password: str) -> None:
    by_code: dict[str, Organisation] = {}
    for name, kind, code in ORGANISATIONS:
        by_code[code] = accounts.create_organisation(session, name, kind, code, by_code.get("UTR"))
    for username, display, code, roles in USERS:
        accounts.create_user(session, hasher, username, display, by_code[code], roles, password, demo=True)
    client_id, code, scopes = CLIENT
    accounts.create_client(session, hasher, client_id, by_code[code], scopes, secret=password)
    _plan_weekly_conference(session, by_code)


def _plan_weekly_conference(session: Session, by_code: dict[str, Organisation]) -> None:
    """Four weekly case conferences from next Monday, so the agenda can be built once signals are triaged."""
    session.flush()
    chair = session.exec(select(User).where(User.username == "chair")).one()
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = today + timedelta(days=7 - today.weekday())
    series = uuid.uuid4()
    for week in range(4):
        meeting = Meeting(municipality_id=by_code["UTR"].id, series_id=series, starts_at=monday + timedelta(weeks=week),
                          chair_id=chair.id, location="Zorg- en Veiligheidshuis Utrecht", created_by=chair.id)
        session.add(meeting)
        session.flush()
        session.add_all(MeetingAttendee(meeting_id=meeting.id, organisation_id=by_code[c].id)
                        for c in ("UTR", "POL", "OM", "GGZ", "JOU"))
