"""The queries the access policies build are served by indexes, not by reading whole tables.

A registry of tens of thousands of signals and persons is bulk-loaded; each caller below reads the
lists and single records it may, and every SELECT those requests send to a table with personal data
is explained by PostgreSQL (with the same parameters and row-level security): a sequential scan of a
table that holds more than a few thousand rows fails the test, and so does a sort of thousands of rows
(a page must come from an index in its order). On a small table a sequential scan is the planner's
right choice, so only the bulk-loaded tables count. PostgreSQL only.
"""

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import select

from app.auth.guard import PERSONAL_TABLES
from app.db import Session
from app.models import Role, User
from app.services import accounts
from tests.case_helpers import API, new_case
from tests.conftest import empty_mutable_tables
from tests.db import inspect_connection
from tests.factories import submit
from tests.meeting_helpers import plan

BULK_PERSONS, SIGNALS_PER_PERSON = 20000, 3
BIG = 5000  # rows from which reading the whole table is a finding
READS = {  # caller: the reads it makes ({signal} and {case}: a record it may read)
    "coordinator": ["/signals?pageSize=10", "/signals?pageSize=10&status=received", "/signals/{signal}",
                    "/cases?pageSize=10", "/cases/{case}"],
    "chair": ["/signals?pageSize=10", "/signals/{signal}", "/cases?pageSize=10", "/cases/{case}"],
    "teacher": ["/signals?pageSize=10", "/signals/{signal}"],
    "police": ["/cases?pageSize=10"],
    # Two relationships to the same signals (the municipality's coordinator, and chair of its meetings):
    # the scope that once read every signal (an OR of the two).
    "coordinator-chair": ["/signals?pageSize=10", "/signals/{signal}", "/cases?pageSize=10"],
}


@pytest.fixture(scope="module")
def big_registry(app, backend) -> Iterator[dict]:
    if backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    empty_mutable_tables(app)
    with inspect_connection(app, write=True, owner=True) as connection:
        ids = dict(connection.execute(text("SELECT code, id FROM organisations")).all())
        reporter = connection.execute(text("SELECT id FROM users WHERE username = 'teacher'")).scalar_one()
        for code in ("UTR", "ARN"):
            _bulk(connection, ids[code], reporter, ids["SOU"], code)
        connection.execute(text("ANALYZE persons; ANALYZE signals"))
    with Session(app.state.engine) as session:
        if session.exec(select(User).where(User.username == "coordinator-chair")).first() is None:
            accounts.create_user(session, app.state.hasher, "coordinator-chair", "Regisseur en voorzitter",
                                 accounts.find_organisation(session, "UTR"), [Role.coordinator, Role.chair],
                                 "a-long-password-1")
            session.commit()
    with inspect_connection(app) as connection:
        assert connection.execute(text("SELECT count(*) FROM signals")).scalar_one() > BIG
    yield ids
    empty_mutable_tables(app)


def _bulk(connection, municipality, reporter, reporter_org, code: str) -> None:
    values = {"municipality": municipality, "reporter": reporter, "org": reporter_org, "n": BULK_PERSONS,
              "prefix": f"b{code}"}
    connection.execute(text(
        "INSERT INTO persons (id, municipality_id, pseudonym, name, date_of_birth, name_dob_key, created_at) "
        "SELECT gen_random_uuid(), :municipality, :prefix || g, 'Bulk ' || g, DATE '2000-01-01', "
        "md5(:prefix || g), now() - g * interval '1 minute' FROM generate_series(1, :n) g"), values)
    connection.execute(text(
        "INSERT INTO signals (id, municipality_id, person_id, subject_name, subject_date_of_birth, reporter_kind, "
        "reporter_id, reporter_organisation_id, categories, description, observed_at, urgency, channel, status, "
        "created_at, updated_at) "
        "SELECT gen_random_uuid(), p.municipality_id, p.id, p.name, p.date_of_birth, 'user', :reporter, :org, "
        "'[\"other\"]', 'Bulk.', p.created_at, 'normal', 'in_person', 'received', "
        "p.created_at - s * interval '1 second', p.created_at FROM persons p, generate_series(1, 3) s "
        "WHERE p.pseudonym LIKE :prefix || '%'"), values)


@pytest.fixture
def statements(app) -> Iterator[list[tuple[str, object]]]:
    """Every SELECT the app sends that names a table with personal data."""
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and _tables(statement) & PERSONAL_TABLES:
            sent.append((statement, parameters))
    event.listen(app.state.engine, "before_cursor_execute", record)
    yield sent
    event.remove(app.state.engine, "before_cursor_execute", record)


def _tables(statement: str) -> set[str]:
    return set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", statement, re.IGNORECASE))


def _whole_table_reads(plan: dict, big: set[str]) -> Iterator[str]:
    """Sequential scans of big tables, and sorts of thousands of rows (a page read through an index in its
    order sorts nothing; one that reads every matching row to sort it does not scale either)."""
    if plan.get("Node Type") == "Seq Scan" and plan["Relation Name"] in big:
        yield f"sequential scan of {plan['Relation Name']}"
    if plan.get("Node Type") in ("Sort", "Incremental Sort") and plan.get("Plan Rows", 0) > BIG:
        yield f"sort of {plan['Plan Rows']} rows"
    for child in plan.get("Plans", []):
        yield from _whole_table_reads(child, big)


def _big_tables(app) -> set[str]:
    with inspect_connection(app) as connection:
        return set(connection.execute(text("SELECT relname FROM pg_class WHERE reltuples > :big"),
                                      {"big": BIG}).scalars()) & PERSONAL_TABLES


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    """Not the suite's `client`, which empties the tables before every test: the registry stays big."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("caller", sorted(READS))
def test_policy_queries_use_indexes(app, big_registry, client, auth, statements, caller):
    case = new_case(client, auth, name="Index Persoon", bsn=None)
    chair = "coordinator-chair" if caller == "coordinator-chair" else "chair"
    meeting = plan(client, auth, app, hours=24, chair_id=_user_id(app, chair))
    client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": case["id"]},
                headers=auth("coordinator"))
    own = submit(client, auth("teacher"), name="Eigen Melding", bsn=None)
    records = {"signal": own["id"] if caller == "teacher" else case["signal_id"], "case": case["id"]}
    statements.clear()
    for path in READS[caller]:
        response = client.get(API + path.format(**records), headers=auth(caller))
        assert response.status_code == 200, (path, response.text)
    big, findings = _big_tables(app), []
    assert {"signals", "persons"} <= big and statements
    with inspect_connection(app) as connection:
        for statement, parameters in statements:
            plan_json = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            plan_doc = plan_json if isinstance(plan_json, list) else json.loads(plan_json)
            findings += [(found, statement[:300]) for found in _whole_table_reads(plan_doc[0]["Plan"], big)]
    assert findings == [], f"{caller} reads whole tables: {findings}"


def _user_id(app, username: str) -> str:
    with Session(app.state.engine) as session:
        return str(session.exec(select(User.id).where(User.username == username)).one())
