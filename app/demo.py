"""Demo data: the Utrecht network, its users and Arnhem's system (`seed`), and the two things the demo's
week (app/demo_week.py, recorded through the API) needs done outside it: whether it is there, and moving
what each of its steps wrote back to the moment the step happened in the story. Never on a database with
real data."""

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import Engine, or_
from sqlmodel import Session, func, select

from app.auth import tenancy
from app.models import (
    Action,
    AgendaAddendum,
    AgendaItem,
    Case,
    CaseHistory,
    CaseMember,
    ClosureProposal,
    InformationItem,
    Meeting,
    Organisation,
    OrganisationKind,
    Person,
    Referral,
    Role,
    Scope,
    Signal,
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


def week_present(session: Session) -> bool:
    """Whether the registry holds any signal or meeting: the demo's week, or work done by hand (then the
    week is not added to it)."""
    with tenancy.maintenance("demo data", session):
        return any(session.exec(select(model.id).limit(1)).first() is not None for model in (Signal, Meeting))


# The clock columns of what the week writes through the API, moved back with each step. A signal's
# observed_at moves only where the registry set it (an inbound referral's): a time a request names lies
# before the step. Not a meeting's starts_at, which a request names ahead; not the audit log, which keeps
# when the demo data was really recorded.
CLOCK_COLUMNS = {
    Signal: ("created_at", "updated_at", "triaged_at", "observed_at"),
    Person: ("created_at",),
    Case: ("created_at", "updated_at"),
    CaseMember: ("added_at",),
    CaseHistory: ("at",),
    InformationItem: ("created_at", "superseded_at"),
    Meeting: ("created_at", "started_at", "closed_at"),
    AgendaItem: ("added_at", "removed_at", "decided_at"),
    AgendaAddendum: ("created_at",),
    ClosureProposal: ("proposed_at",),
    Action: ("created_at", "closed_at"),
    Referral: ("created_at", "updated_at"),
}


# Due dates the API checks against today, of what is created (and with it, due) in a step.
DUE_DATES = {Action: "due_date", Referral: "due_date"}


def move_back(engine: Engine, since: datetime, to: datetime, days: int) -> None:
    """What was written from `since` on moves to `to`, keeping its order: every clock column in
    CLOCK_COLUMNS at or after `since` by `to - since`; and the due dates of what was created in that
    time (DUE_DATES), which the API checked against today, back by `days`."""
    shift = to - since
    with Session(engine) as session, tenancy.maintenance("demo data", session):
        for model, columns in CLOCK_COLUMNS.items():
            fields = [getattr(model, c) for c in columns]
            for row in session.exec(select(model).where(or_(*(f >= since for f in fields)))).all():
                due = DUE_DATES.get(model)
                if due and row.created_at >= since and getattr(row, due) is not None:
                    setattr(row, due, getattr(row, due) - timedelta(days=days))
                for column in columns:
                    value = getattr(row, column)
                    if value is not None and value >= since:
                        setattr(row, column, value + shift)
                session.add(row)
        session.commit()
