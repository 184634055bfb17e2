"""The queries the access policies build are served by indexes, not by reading whole tables.

A registry of tens of thousands of persons, signals, cases and what hangs on them is bulk-loaded
(tests/query_plan_records.py). Every caller below sends every read of the API (READS: each GET route
that goes through a policy, with its filters) for a record it may read, or is refused; every SELECT
those requests send to a table with personal data is explained by PostgreSQL (with the same
parameters): a sequential scan of a table that holds more than a few thousand rows fails the test,
and so does a sort of thousands of rows (a page must come from an index in its order). On a small
table a sequential scan is the planner's right choice, so only the bulk-loaded tables count.
Who may send which read comes from the route authorization table. PostgreSQL only.
"""

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import select

from app.auth.guard import PERSONAL_TABLES
from app.db import Session
from app.models import Role, User
from app.services import accounts
from tests import query_plan_records as bulk
from tests.conftest import MUTABLE_TABLES, empty_mutable_tables
from tests.db import inspect_connection
from tests.test_route_authorization import EXPECTED

BIG = 5000  # rows from which reading the whole table is a finding
PERIOD = "since=2026-01-01T00:00:00Z&until=2026-01-31T00:00:00Z"
# Every read through a policy, and the query strings it is sent with ({...}: the caller's records).
READS = {
    "GET /api/v1/signals": ["?pageSize=10", "?pageSize=10&status=received"],
    "GET /api/v1/signals/{id}": [""],
    "GET /api/v1/cases": ["?pageSize=10", "?pageSize=10&status=closed"],
    "GET /api/v1/cases/{id}": [""],
    "GET /api/v1/cases/{id}/history": ["?pageSize=10"],
    "GET /api/v1/cases/{id}/members": ["?pageSize=10"],
    "GET /api/v1/cases/{id}/items": ["?pageSize=10"],
    "GET /api/v1/cases/{id}/actions": ["?pageSize=10"],
    "GET /api/v1/meetings": ["?pageSize=10", "?pageSize=10&status=planned"],
    "GET /api/v1/meetings/{id}": [""],
    "GET /api/v1/meetings/{id}/agenda": [""],
    "GET /api/v1/actions": ["?assignee=me&pageSize=10", "?assignee=me&pageSize=10&status=open"],
    "GET /api/v1/actions/{id}": [""],
    "GET /api/v1/referrals": ["?pageSize=10", "?pageSize=10&direction=received", "?pageSize=10&direction=sent"],
    "GET /api/v1/referrals/{id}": [""],
    "GET /api/v1/emergency-accesses": ["?pageSize=10", "?pageSize=10&reviewStatus=pending"],
    "GET /api/v1/audit-events": ["?processingActivity=case-management", "?pseudonym={pseudonym}", "?" + PERIOD],
    "GET /api/v1/persons/{id}/access-report": [""],
}
# GET routes that read no personal data through a policy, and why they need no plan here.
NOT_POLICY_READS = {
    "GET /health": "no personal data", "GET /ready": "no personal data",
    "GET /.well-known/jwks.json": "no personal data", "GET /openapi.json": "no personal data",
    "GET /docs": "no personal data", "GET /redoc": "no personal data",
    "GET /api/v1/auth/me": "the caller's own account", "GET /api/v1/organisations": "no personal data",
    "GET /api/v1/subscriptions": "no personal data", "GET /api/v1/subscriptions/{id}": "no personal data",
    "GET /api/v1/subscriptions/{id}/deliveries": "no personal data",
    "GET /api/v1/processing-activities": "no personal data",
    "GET /api/v1/processing-activities/{key}": "no personal data",
    "GET /api/v1/processing-activities/{key}/versions": "no personal data",
    "GET /api/v1/statistics": "aggregates over a period (app.privacy.statistics), not a policy's read",
    "GET /app": "a redirect", "GET /app/": "a redirect", "GET /app/inloggen": "the login form",
    "GET /app/document.css": "a stylesheet",
    "GET /app/vergaderingen": "GET /api/v1/meetings as a page: the same policy call (list_meetings)",
    "GET /app/vergaderingen/{id}": "GET /api/v1/meetings/{id}/agenda as a page (readable_meeting, read_agenda)",
    "GET /app/vergaderingen/{id}/notulen": "the same reads as the agenda page",
    "GET /app/afspraken": "GET /api/v1/actions?assignee=me as a page (assigned_actions)",
}
# Filters only some of a route's readers may use (app.auth.policies.referrals.DIRECTION_RULES).
FILTERED = {"direction=received": {"coord", "partner", "expert", "client"}, "direction=sent": {"coord", "chair"}}
# Where the bulk registry differs from the route authorization table's world, and why.
DIFFERENT = {
    # The table's chair reads a signal reported to the municipality, not one of a case on their agenda.
    ("chair", "GET /api/v1/signals/{id}"): True,
    # The table's world links Arnhem's registry with Utrecht's network; the bulk registry does not.
    ("arnhem-system", "GET /api/v1/referrals/{id}"): False,
}
KINDS = {"signals": "signal", "cases": "case", "meetings": "meeting", "actions": "action", "referrals": "referral",
         "persons": "person"}
# Each caller: its columns in the route authorization table (what it may read), and the relationship
# through which it reads each kind of record (tests/query_plan_records.py; else its municipality's).
PARTNER = {"signal": "own", "case": "own", "meeting": "own", "action": "own", "referral": "own"}
CHAIR = dict.fromkeys(("signal", "case", "meeting", "action", "referral"), "chair")
CALLERS = {
    "coordinator": (("coord",), {}),
    "chair": (("chair",), CHAIR),
    "teacher": (("melder",), {"signal": "own"}),
    "care": (("partner",), PARTNER | {"signal": "municipality"}),  # reports nothing
    "police": (("partner", "melder"), PARTNER),
    "expert": (("expert",), {"referral": "own"}),
    "privacy": (("privacy",), {}),
    "admin": (("admin",), {}),
    "arnhem-system": (("client",), {"signal": "own"}),
    # Two relationships to the same records (the municipality's coordinator, and chair of its meetings):
    # the scope that once read every signal (an OR of the two).
    "coordinator-chair": (("coord", "chair"), {}),
}


def may_read(caller: str, route: str, query: str) -> bool:
    columns = CALLERS[caller][0]
    if (caller, route) in DIFFERENT:
        return DIFFERENT[caller, route]
    filtered = [readers for condition, readers in FILTERED.items() if condition in query]
    if filtered and not filtered[0] & set(columns):
        return False
    return any(row[column] == 200 for row in EXPECTED[route].values() for column in columns)


def get_routes(app) -> set[str]:
    return {f"GET {context.path}" for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) and "GET" in context.methods}


def test_every_read_is_explained(app):
    routes = get_routes(app)
    missing = sorted(routes - set(READS) - set(NOT_POLICY_READS))
    assert not missing, f"GET routes neither in READS nor in NOT_POLICY_READS (tests/test_query_plans.py): {missing}"
    assert not (set(READS) | set(NOT_POLICY_READS)) - routes, "READS or NOT_POLICY_READS name routes the app lacks"


@pytest.fixture(scope="module")
def big_registry(app, backend) -> Iterator[None]:
    if backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    empty_mutable_tables(app)
    _coordinator_chair(app)
    with inspect_connection(app, write=True, owner=True) as connection:
        bulk.load(connection)
    yield
    with inspect_connection(app, write=True, owner=True) as connection:
        bulk.empty(connection, MUTABLE_TABLES)
        bulk.remove_chairs(connection)


def _coordinator_chair(app) -> None:
    with Session(app.state.engine) as session:
        if session.exec(select(User).where(User.username == "coordinator-chair")).first() is None:
            accounts.create_user(session, app.state.hasher, "coordinator-chair", "Regisseur en voorzitter",
                                 accounts.find_organisation(session, "UTR"), [Role.coordinator, Role.chair],
                                 "a-long-password-1")
            session.commit()


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


def _headers(auth, caller: str) -> dict[str, str]:
    return auth.client(caller) if caller == "arnhem-system" else auth(caller)


def _send_reads(app, client, auth, caller: str) -> list[str]:
    """Every read, to a record the caller may read where it may send it; what answered otherwise."""
    relations = CALLERS[caller][1]
    with inspect_connection(app, owner=True) as connection:  # not the app's engine, whose statements count
        found = bulk.records(connection, bulk.account(connection, caller), relations)
    headers, wrong = _headers(auth, caller), []
    for route, queries in READS.items():
        path = route.split(" ", 1)[1]
        kind = KINDS.get(path.split("/")[3])
        for query in queries:
            permitted = may_read(caller, route, query)
            response = client.get((path + query).format(id=found.get(kind), **found), headers=headers)
            if response.status_code != 200 if permitted else response.status_code not in (403, 404):
                wrong.append(f"{route}{query}: {response.status_code}")
    return wrong


# Found by this test and not fixed yet; strict, so a fix must remove its entry.
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("caller", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN[c]))
                                    if c in KNOWN else c for c in sorted(CALLERS)])
def test_policy_queries_use_indexes(app, big_registry, client, auth, statements, caller):
    wrong = _send_reads(app, client, auth, caller)
    assert not wrong, f"{caller} was answered otherwise than the route authorization table says: {wrong}"
    big, findings = _big_tables(app), []
    assert {"signals", "persons", "cases", "meetings", "agenda_items", "audit_events"} <= big and statements
    with inspect_connection(app) as connection:
        for statement, parameters in statements:
            plan_json = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            plan_doc = plan_json if isinstance(plan_json, list) else json.loads(plan_json)
            findings += [(found, statement[:300]) for found in _whole_table_reads(plan_doc[0]["Plan"], big)]
    assert findings == [], f"{caller} reads whole tables: {findings}"
