"""Row-level security, the wall behind the policies (PostgreSQL): a query that forgets its scope, run
inside one municipality's request, returns no row of another; the application's role writes no row
into another municipality and cannot take the wall down.

The unscoped query gets past the runtime guard (app.auth.guard) on purpose, as a colleague's careless
query would if the guard were not there: what is left to stop it is the database."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.auth import guard, tenancy
from app.auth.principal import get_principal
from app.db import SessionDep
from app.factory import create_app
from app.models import Case, Referral, ReferralItem, metadata
from tests.case_helpers import new_case
from tests.db import inspect_db
from tests.factories import arnhem_case, arnhem_coordinator, emergency_access_row, signal_body, with_etag
from tests.meeting_helpers import user_id
from tests.webhook_helpers import organisation_id

API = "/api/v1"
# The tenant of every row of each table with personal data, selected without any condition. A row of a
# child table is joined to its parent with a LEFT JOIN: one whose parent is out of sight still comes back
# (with no tenant), so a child table that lacked a policy of its own would show, not hide behind the join.
TENANT_OF = {
    **{t: f"SELECT municipality_id FROM {t}" for t in
       ("persons", "signals", "cases", "meetings", "referrals", "audit_events", "idempotency_records")},
    **{t: f"SELECT c.municipality_id FROM {t} x LEFT JOIN cases c ON c.id = x.case_id" for t in
       ("case_members", "case_history", "information_items", "closure_proposals", "actions", "emergency_accesses")},
    **{t: f"SELECT m.municipality_id FROM {t} x LEFT JOIN meetings m ON m.id = x.meeting_id" for t in
       ("meeting_attendees", "agenda_items")},
    "item_shares": "SELECT c.municipality_id FROM item_shares x LEFT JOIN information_items i "
                   "ON i.item_id = x.item_id LEFT JOIN cases c ON c.id = i.case_id",
    "agenda_addenda": "SELECT m.municipality_id FROM agenda_addenda x LEFT JOIN agenda_items a "
                      "ON a.id = x.agenda_item_id LEFT JOIN meetings m ON m.id = a.meeting_id",
    "referral_items": "SELECT r.municipality_id FROM referral_items x LEFT JOIN referrals r ON r.id = x.referral_id",
    "audit_event_persons": "SELECT e.municipality_id FROM audit_event_persons x "
                           "LEFT JOIN audit_events e ON e.seq = x.event_seq",
}


@pytest.fixture
def postgresql(backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no row-level security: there the policies are the only wall")


def tenants(session, sql: str) -> list[str | None]:
    return sorted({None if m is None else str(m) for (m,) in session.execute(text(sql)).all()}, key=str)


def seen_by(bind) -> dict[str, set[str | None]]:
    return {table: set(tenants(bind, sql)) for table, sql in TENANT_OF.items()}


@pytest.fixture
def careless(app):
    """The app with one more route, as a colleague might add it: it knows who calls (so the request
    acts for the caller's municipalities) and runs every unscoped query above."""
    leaky = create_app(app.state.settings)

    @leaky.get(f"{API}/unscoped", dependencies=[Depends(get_principal)])
    def unscoped(session: SessionDep) -> dict[str, list[str | None]]:
        with guard.access("test"):
            return {table: tenants(session, sql) for table, sql in TENANT_OF.items()}

    with TestClient(leaky) as client:
        yield client
    leaky.state.engine.dispose()


def test_every_table_with_personal_data_is_tried():
    assert set(TENANT_OF) == guard.PERSONAL_TABLES


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def case_records(client, coordinator: dict, reporter: dict, code: str, owner: uuid.UUID) -> dict[str, str]:
    """A signal (with an Idempotency-Key, so it keeps a record) triaged into a case, with an item, a
    closure proposal and an action of the municipality itself."""
    headers = reporter | {"Idempotency-Key": f"rls-{code}"}
    signal = ok(client.post(f"{API}/signals", json=signal_body(name=f"Persoon {code}", bsn=None), headers=headers), 201)
    case = ok(client.post(f"{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                          headers=coordinator))["case_id"]
    item = ok(client.post(f"{API}/cases/{case}/items", headers=coordinator, json={
        "kind": "other", "text": "Gesprek met de moeder.", "source": "Gesprek", "date": "2025-01-10"}), 201)["id"]
    ok(client.post(f"{API}/cases/{case}/closure-proposals", json={"reason": "Geen zorgen meer."},
                   headers=coordinator), 201)
    ok(client.post(f"{API}/cases/{case}/actions", headers=coordinator, json={
        "description": "Huisbezoek", "due_date": "2099-01-01", "owner_organisation_id": str(owner)}), 201)
    return {"case": case, "item": item}


def meeting_records(client, app, coordinator: dict, chair: str, case: str, attendee: uuid.UUID) -> None:
    """A meeting the coordinator chairs, attended by the municipality, that discussed the case, closed,
    and got an addendum to its minutes."""
    body = {"starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "chair_id": user_id(app, chair),
            "attending_organisation_ids": [str(attendee)]}
    url = f"{API}/meetings/{ok(client.post(f'{API}/meetings', json=body, headers=coordinator), 201)['id']}"
    item = ok(client.post(f"{url}/agenda/items", json={"case_id": case}, headers=coordinator), 201)["items"][0]
    for status in ("in_progress", "closed"):
        ok(client.patch(url, json={"status": status}, headers=with_etag(client, coordinator, url)))
    ok(client.post(f"{url}/agenda/items/{item['id']}/addenda", json={"text": "Aanvulling."}, headers=coordinator), 201)


def referral_row(app, case_id: str, item_id: str) -> None:
    """A referral sharing the item, written directly: Arnhem has no partners to refer to through the API
    (and the wall is the database's, whatever wrote the rows)."""
    with inspect_db(app) as session:
        case = session.exec(select(Case).where(Case.id == uuid.UUID(case_id))).one()
        referral = Referral(kind="referral", direction="outgoing", municipality_id=case.municipality_id,
                            case_id=case.id, person_id=case.person_id, sender_organisation_id=case.municipality_id,
                            recipient_organisation_id=case.municipality_id, purpose="Begeleiding.",
                            legal_basis="public_task", shared_fields=["name"], created_by="test")
        session.add(referral)
        session.flush()
        session.add(ReferralItem(referral_id=referral.id, item_id=uuid.UUID(item_id)))
        session.commit()


def both_municipalities(client, auth, app) -> dict[str, str]:
    """The same records in Utrecht and in Arnhem, each made by its own coordinator; their ids by code."""
    callers = {"UTR": ("coordinator", auth("coordinator"), auth("teacher")),
               "ARN": ("arnhem-coordinator", arnhem_coordinator(app, auth), auth.client("arnhem-system"))}
    for code, (username, coordinator, reporter) in callers.items():
        municipality = organisation_id(app, code)
        records = case_records(client, coordinator, reporter, code, municipality)
        meeting_records(client, app, coordinator, username, records["case"], municipality)
        referral_row(app, records["case"], records["item"])
        emergency_access_row(app, records["case"], username)
    return {code: str(organisation_id(app, code)) for code in callers}


def test_an_unscoped_select_in_a_request_sees_only_the_callers_municipality(postgresql, client, auth, app, careless):
    ids = both_municipalities(client, auth, app)
    with inspect_db(app) as session:
        everything = seen_by(session)
    # Not vacuous: seen as a whole, every table holds rows of both municipalities.
    assert {table for table, found in everything.items() if not found >= set(ids.values())} == set()
    for username, code in (("coordinator", "UTR"), ("arnhem-coordinator", "ARN")):
        seen = ok(careless.get(f"{API}/unscoped", headers=auth(username)))
        assert {table: found for table, found in seen.items() if found != [ids[code]]} == {}, username


@contextmanager
def acting_for(app, *municipalities: uuid.UUID) -> Iterator[Connection]:
    """A connection of the application's role, in a transaction acting for the municipalities (as a
    request does), past the runtime guard; rolled back at the end."""
    with app.state.engine.connect() as connection, guard.access("test"):
        tenancy.apply(connection, municipalities)
        yield connection
        connection.rollback()


def refusal(connection, write: Callable[[], object]) -> str:
    """The database's refusal of the write, in a savepoint so that the transaction goes on."""
    with pytest.raises(DBAPIError) as refused, connection.begin_nested():
        write()
    return str(refused.value.orig)


def run(connection, sql: str, **params) -> Callable[[], object]:
    return lambda: connection.execute(text(sql), params)


def copy_of(connection, table: str, row_id: uuid.UUID, **changes) -> Callable[[], object]:
    """An INSERT of a copy of a row the connection may see, with the changes."""
    row = connection.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().one()
    return lambda: connection.execute(metadata.tables[table].insert().values(dict(row) | changes))


def test_the_scope_is_everything_the_listed_municipalities_or_nothing(postgresql, client, auth, app):
    """The setting read once per statement (migration 0017) means what it meant per row: `*` every
    municipality, a list those, an empty or a missing setting none, for every table."""
    ids = both_municipalities(client, auth, app)
    both = set(ids.values())
    with acting_for(app, *map(uuid.UUID, both)) as connection:
        assert {table for table, found in seen_by(connection).items() if found != both} == set()
    with acting_for(app, uuid.UUID(ids["ARN"])) as connection:
        assert {table for table, found in seen_by(connection).items() if found != {ids["ARN"]}} == set()
    with app.state.engine.connect() as connection, guard.access("test"):
        for scope in (tenancy.ALL, "", None):
            if scope is not None:
                tenancy.apply(connection, scope)
            expected = both if scope == tenancy.ALL else set()
            assert {table for table, found in seen_by(connection).items() if found != expected} == set(), scope
            connection.rollback()


def test_no_row_is_written_into_another_municipality(postgresql, client, auth, app):
    utrecht, arnhem = uuid.UUID(new_case(client, auth)["id"]), arnhem_case(client, auth, app)
    utr, arn = organisation_id(app, "UTR"), organisation_id(app, "ARN")
    with acting_for(app, arn) as connection:
        writes = {
            "a person moved into Utrecht": copy_of(connection, "persons", uuid.UUID(arnhem["person"]["id"]),
                                                   id=uuid.uuid4(), pseudonym="P-RLS-TEST", municipality_id=utr),
            "a case moved into Utrecht": run(connection, "UPDATE cases SET municipality_id = :utr WHERE id = :id",
                                             utr=utr, id=uuid.UUID(arnhem["id"])),
            "a member added to Utrecht's case": run(
                connection, "INSERT INTO case_members (case_id, organisation_id, added_by, added_at) "
                            "VALUES (:case, :org, :org, now())", case=utrecht, org=arn),
        }
        refused = {what: refusal(connection, write) for what, write in writes.items()}
        assert {what for what, error in refused.items() if "violates row-level security" not in error} == set()
        # Another municipality's rows are out of sight of UPDATE and DELETE too: nothing happens to them.
        for sql in ("UPDATE cases SET status = 'closed' WHERE id = :id", "DELETE FROM case_members WHERE case_id = :id"):
            assert connection.execute(text(sql), {"id": utrecht}).rowcount == 0, sql


def test_the_applications_role_cannot_take_the_wall_down(postgresql, client, auth, app):
    new_case(client, auth)
    owner = make_url(app.state.settings.owner_database_url).username
    with acting_for(app, organisation_id(app, "ARN")) as connection:
        refused = {sql: refusal(connection, run(connection, sql)) for sql in (
            "ALTER TABLE cases NO FORCE ROW LEVEL SECURITY", "ALTER TABLE cases DISABLE ROW LEVEL SECURITY",
            "DROP POLICY tenant ON cases", "CREATE POLICY everything ON cases USING (true)", f"SET ROLE {owner}")}
        assert {sql for sql, error in refused.items()
                if not error.startswith(("must be owner", "permission denied to set role"))} == set(), refused

        def row_security_off() -> None:
            connection.execute(text("SET row_security = off"))  # accepted, but for a role without BYPASSRLS
            connection.execute(text("SELECT count(*) FROM cases"))  # a query the policies would filter fails

        assert "would be affected by row-level security policy" in refusal(connection, row_security_off)
    # A connection that acts for no municipality at all (a request before it knows its caller) sees nothing.
    with app.state.engine.connect() as connection, guard.access("test"):
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
    with inspect_db(app) as session:
        assert session.execute(text("SELECT count(*) FROM cases")).scalar_one() == 1
