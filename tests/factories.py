"""Request bodies for tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.models import ApiClient, EmergencyAccess, Organisation, Role, Scope, User
from app.models.base import utcnow
from app.services import accounts
from tests.db import inspect_db

VALID_BSN = "111222333"
OTHER_BSN = "123456782"
EMERGENCY_REASON = "Acute dreiging gemeld door de wijk; informatie is vandaag nodig voor het veiligheidsoverleg."


def signal_body(name: str = "Jan de Vries", bsn: str | None = VALID_BSN, **overrides: Any) -> dict[str, Any]:
    subject: dict[str, Any] = {"name": name, "date_of_birth": "2005-03-01"}
    if bsn is not None:
        subject["bsn"] = bsn
    body = {
        "subject": subject,
        "categories": ["social_isolation", "online_propaganda"],
        "description": "Trekt zich terug en deelt extremistische filmpjes.",
        "observed_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "urgency": "high",
        "channel": "in_person",
        "district": "Overvecht",
    }
    body.update(overrides)
    return body


def submit(client, headers, **overrides) -> dict[str, Any]:
    response = client.post("/api/v1/signals", json=signal_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def arnhem_user(app, auth, username: str, display_name: str, role: Role) -> dict[str, str]:
    """Bearer headers of a user of another municipality (Arnhem) with one role, created once per database."""
    with Session(app.state.engine) as session:
        if session.exec(select(User).where(User.username == username)).first() is None:
            arnhem = session.exec(select(Organisation).where(Organisation.code == "ARN")).one()
            accounts.create_user(session, app.state.hasher, username, display_name, arnhem, [role],
                                 "arnhem-password-123")
            session.commit()
    return auth(username)


def arnhem_coordinator(app, auth) -> dict[str, str]:
    return arnhem_user(app, auth, "arnhem-coordinator", "Regisseur Arnhem", Role.coordinator)


def arnhem_privacy_officer(app, auth) -> dict[str, str]:
    return arnhem_user(app, auth, "arnhem-privacy", "Functionaris gegevensbescherming Arnhem", Role.privacy_officer)


def arnhem_case(client, auth, app, **signal_overrides) -> dict:
    """A signal of Arnhem's system, triaged by Arnhem's coordinator into a new case; returns the case."""
    coordinator = arnhem_coordinator(app, auth)
    signal = submit(client, auth.client("arnhem-system"), **signal_overrides)
    triaged = client.post(f"/api/v1/signals/{signal['id']}/triage", json={"outcome": "new_case"}, headers=coordinator)
    assert triaged.status_code == 200, triaged.text
    return client.get(f"/api/v1/cases/{triaged.json()['case_id']}", headers=coordinator).json()


def emergency_access_row(app, case_id: str, username: str) -> str:
    """Break-the-glass written directly, for where no user may break it through the API (Arnhem has no
    partner organisations): the row a partner's break-the-glass would write."""
    with inspect_db(app) as session:
        actor = session.exec(select(User).where(User.username == username)).one()
        access = EmergencyAccess(case_id=uuid.UUID(case_id), actor_id=actor.id, actor_name=actor.username,
                                 organisation_id=actor.organisation_id, reason=EMERGENCY_REASON,
                                 expires_at=utcnow() + timedelta(hours=4))
        session.add(access)
        session.commit()
        return str(access.id)


def api_client(app, auth, client_id: str, code: str, scopes: list[Scope]) -> dict[str, str]:
    """Bearer headers of an API client of organisation `code` with these scopes, created once per database."""
    with Session(app.state.engine) as session:
        if session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).first() is None:
            accounts.create_client(session, app.state.hasher, client_id, accounts.find_organisation(session, code),
                                   scopes)
            session.commit()
    return auth.client(client_id)


def cli_environment(tmp_path, monkeypatch) -> None:
    """The `casusregister` command in demo mode on a SQLite file in tmp_path, with cheap password hashing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    monkeypatch.setenv("ARGON2_MEMORY_COST", "64")
    monkeypatch.setenv("DEMO_MODE", "true")


def with_etag(client, headers: dict[str, str], path: str) -> dict[str, str]:
    """`headers` and If-Match with the ETag of `path` as these headers read it now."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return headers | {"If-Match": response.headers["etag"]}
