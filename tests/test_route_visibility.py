"""What each caller's lists hold: the exact records of the world (tests/authz_world.py) they may see.

The route matrix (tests/test_route_authorization.py) says who may call a list; this says what the list
then holds, record by record, for every caller of the matrix and for the youthworker, who broke the
glass on M and N. A signal is named by the record its person came with, so `M` among the signals is
the signal case M came from. Each answer is also audited with the persons it shows and carries no BSN
or address the caller may not see; the privacy officers' audit log holds their municipality's events.
"""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models import AuditEvent, Organisation
from tests.authz_world import API, World, ok
from tests.conftest import empty_mutable_tables
from tests.db import inspect_db
from tests.matrix_checks import audited, leaks, shown
from tests.matrix_records import CALLERS

CALLERS = CALLERS | {"youthworker": "youthworker"}
# list: {caller: the records they see}; a caller not named gets 403.
VISIBLE = {
    "signals": {
        "melder": "K M N ct sU t", "coord": "K M N arI cp ct p rI sU t", "chair": "M", "lchair": "",
        # Arnhem's system reported the inbound referrals' signals too: it sees whether they were picked up.
        "client": "A a arI ca rI", "acoord": "A a ca", "achair": "A", "youthworker": ""},
    "cases": {"partner": "M", "dual": "A M", "coord": "K M N", "chair": "M", "lchair": "", "acoord": "A", "achair": "A",
              "youthworker": "K M N"},  # the youthworker broke the glass on N, and on K, made like N
    "meetings": {"partner": "MT cMT", "dual": "", "coord": "ML MO MT SM cMO cMT", "chair": "MT SM cMT", "lchair": "ML",
                 "acoord": "MA SA cMA", "achair": "MA SA cMA", "youthworker": ""},
    "actions?assignee=me": {"partner": "xG", "dual": "", "coord": "xU", "acoord": "xA", "youthworker": ""},
    "referrals": {
        "partner": "arG rG", "dual": "", "expert": "arD rD", "lchair": "", "acoord": "", "achair": "",
        "youthworker": "",
        "coord": "arD arG arI arN arX rD rG rI rN rS rX sA-rX", "chair": "arD arG arX rD rG rS rX sA-rX",
        "client": "arX rX sA-rX"},
    "emergency-accesses": {"privacy": "K M N", "apriv": ""},
    "subscriptions": {"admin": "sU", "client": "sA", "aadmin": "sA"},
}
CELLS = [(what, caller) for what in VISIBLE for caller in CALLERS if caller != "anon"]


@pytest.fixture(scope="module")
def world(app, auth):
    with TestClient(app, raise_server_exceptions=False) as client:
        empty_mutable_tables(app)
        yield World(app, client, auth).build()


def headers_for(world: World, caller: str) -> dict[str, str]:
    user = CALLERS[caller]
    if user is None:
        return {}
    return world.auth.client(user) if caller == "client" else world.auth(user)


def key_of(world: World, signals: dict[str, str], what: str, item: dict) -> str:
    """The world's name for a listed record: its key, or for a signal the record its person came with."""
    if what == "signals":
        return signals.get(item["id"], f"? {item['id']}")
    for key, record in world.keys.items():
        if item["id"] in (record.get("id"), record.get("ea")):
            return key
    return f"? {item['id']}"


def listed(world: World, caller: str, what: str):
    separator = "&" if "?" in what else "?"
    return world.client.get(f"{API}/{what}{separator}pageSize=100", headers=headers_for(world, caller))


@pytest.mark.parametrize(("what", "caller"), CELLS)
def test_a_list_holds_exactly_what_the_caller_may_see(world, app, what, caller):
    response = listed(world, caller, what)

    if caller not in VISIBLE[what]:
        assert response.status_code == 403, response.text
        return
    assert response.status_code == 200, response.text
    signals = world.signal_origins()
    keys = sorted(key_of(world, signals, what.split("?")[0], item) for item in response.json()["items"])
    assert keys == sorted(VISIBLE[what][caller].split())
    people = world.identities()
    outcomes, pseudonyms = audited(app, response.headers["x-request-id"])
    if what != "subscriptions":  # they name no person
        assert outcomes == {"emergency" if caller == "youthworker" and what == "cases" else "allowed"}
    assert shown(people, response) <= pseudonyms
    assert not leaks(world, people, caller, response)


def municipality_of(world: World, caller: str) -> str:
    with inspect_db(world.app, owner=True) as session:
        return str(session.exec(select(Organisation.id).where(
            Organisation.code == ("ARN" if caller == "apriv" else "UTR"))).one())


@pytest.mark.parametrize("caller", ["privacy", "apriv"])
def test_a_privacy_officer_reads_every_audit_event_of_their_municipality_and_no_other(world, app, caller):
    """Arnhem's officer once read Utrecht's events, a person search with its BSN among them."""
    mine = municipality_of(world, caller)
    with inspect_db(app, owner=True) as session:
        before = {str(e.event_id): str(e.municipality_id) for e in session.exec(select(AuditEvent)).all()}
    items, cursor = [], None
    now = datetime.now(UTC)  # the read rule: a period of at most 31 days
    period = {"since": (now - timedelta(days=1)).isoformat(), "until": (now + timedelta(days=1)).isoformat()}
    while True:
        params = {"pageSize": 100} | period | ({"cursor": cursor} if cursor else {})
        page = ok(world.client.get(f"{API}/audit-events", params=params, headers=headers_for(world, caller)))
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    listed_ids = {item["event_id"] for item in items}
    assert {i for i, m in before.items() if m == mine} <= listed_ids
    assert all(before.get(i, mine) == mine for i in listed_ids), "another municipality's event"
    assert {i for i, m in before.items() if m != mine}, "the world holds events of both municipalities"


def test_the_full_view_carries_the_bsn_and_address_the_sweep_looks_for(world):
    """The sweep can fail: the coordinator's full view holds what it looks for, and it finds it there."""
    response = ok(world.client.get(f"{API}/cases/{world.keys['M']['id']}", headers=headers_for(world, "coord")))
    people = world.identities()
    [m] = [p for p in people.values() if p.origin == "M"]
    assert (response["person"]["bsn"], response["person"]["address"]) == (m.bsn, m.address)
    partner_view = world.client.get(f"{API}/cases/{world.keys['M']['id']}", headers=headers_for(world, "coord"))
    assert leaks(world, people, "partner", partner_view) == [f"M: {m.bsn}", f"M: {m.address}"]
