"""Request bodies for tests."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.models import ApiClient, Organisation, Role, Scope, User
from app.services import accounts

VALID_BSN = "111222333"
OTHER_BSN = "123456782"


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
