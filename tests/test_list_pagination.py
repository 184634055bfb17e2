"""The lists of a case (history, members, actions, information items) and the organisation directory
answer like every other list: `{"items", "next_cursor"}`, `pageSize` and `cursor`, keyset-paged in a
stable order; a page of personal data is audited with exactly what it shows."""

import base64
import json
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import AuditEvent, AuditEventPerson
from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.db import inspect_db

LISTS = {
    "organisations": "/organisations",
    "history": "/cases/{case}/history",
    "members": "/cases/{case}/members",
    "actions": "/cases/{case}/actions",
    "items": "/cases/{case}/items",
}
DUE = (date.today() + timedelta(days=5)).isoformat()
# A cursor this API would not issue: its time has no timezone.
NAIVE_CURSOR = base64.urlsafe_b64encode(json.dumps(["2030-01-01T00:00:00", str(uuid.uuid4())]).encode()).decode()


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def case(client, auth) -> dict:
    """A case that Politie and GGZ take part in, with two actions for Politie and two items of the
    municipality: `kept` (shared with no partner), then `shared` (with GGZ)."""
    case = new_case(client, auth)
    coordinator = auth("coordinator")
    for code in ("POL", "GGZ"):
        add_member(client, auth, case["id"], code)
    police, ggz = (organisation_id(client, coordinator, code) for code in ("POL", "GGZ"))
    actions, items = f"{API}/cases/{case['id']}/actions", f"{API}/cases/{case['id']}/items"
    case["actions"] = [created(client.post(actions, headers=coordinator, json={
        "description": text, "due_date": DUE, "owner_organisation_id": police})) for text in ("Huisbezoek", "Gesprek")]
    body = {"kind": "municipality", "source": "Gesprek", "date": "2025-01-10"}
    case["kept"] = created(client.post(items, headers=coordinator, json=body | {"text": "Niet gedeeld."}))
    case["shared"] = created(client.post(items, headers=coordinator,
                                         json=body | {"text": "Gedeeld met GGZ.", "shared_with": [ggz]}))
    return case


def created(response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def url_of(name: str, case: dict) -> str:
    return API + LISTS[name].format(case=case["id"])


def walk(client, url: str, headers: dict[str, str], size: int = 1) -> list[dict]:
    """Every page of a list, following next_cursor until it is null."""
    pages, cursor = [], None
    while True:
        pages.append(ok(client.get(url, params={"pageSize": size} | ({"cursor": cursor} if cursor else {}),
                                   headers=headers)))
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("name", LISTS)
def test_one_item_a_page_the_cursor_leads_through_the_whole_list(client, auth, case, name):
    url, headers = url_of(name, case), auth("coordinator")
    whole = ok(client.get(url, headers=headers))
    assert set(whole) == {"items", "next_cursor"} and whole["next_cursor"] is None and len(whole["items"]) >= 2
    pages = walk(client, url, headers)
    assert [len(p["items"]) for p in pages] == [1] * len(whole["items"])
    assert [p["next_cursor"] is None for p in pages] == [False] * (len(pages) - 1) + [True]
    assert [i for p in pages for i in p["items"]] == whole["items"]


def test_the_lists_of_a_case_read_oldest_first(client, auth, case):
    headers = auth("coordinator")

    def listed(name: str) -> list[dict]:
        return ok(client.get(url_of(name, case), headers=headers))["items"]

    assert [h["change"] for h in listed("history")][0] == "created"
    assert [h["change"] for h in listed("history")][-2:] == ["item_added", "item_added"]
    assert [m["name"] for m in listed("members")] == ["Gemeente Utrecht", "Politie Midden-Nederland", "GGZ Utrecht"]
    assert [a["id"] for a in listed("actions")] == case["actions"]
    assert [i["id"] for i in listed("items")] == [case["kept"], case["shared"]]
    assert listed("organisations")[0]["name"] == "Gemeente Utrecht"  # the first one registered


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("params", [{"cursor": "garbage!"}, {"cursor": NAIVE_CURSOR},
                                    {"pageSize": 0}, {"pageSize": 101}])
def test_a_bad_cursor_or_page_size_is_400(client, auth, case, name, params):
    response = client.get(url_of(name, case), params=params, headers=auth("coordinator"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["name"] for e in response.json()["errors"]] == list(params)


def list_event(app, response, resource_type: str) -> tuple[dict, set[str]]:
    """The detail of the request's list event on `resource_type`, and the pseudonyms it names."""
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == response.headers["x-request-id"],
                                                      AuditEvent.resource_type == resource_type,
                                                      AuditEvent.operation == "list")).one()
        names = session.exec(select(AuditEventPerson.pseudonym).where(AuditEventPerson.event_seq == event.seq)).all()
        return event.detail, set(names)


@pytest.mark.parametrize(("name", "resource_type", "ids"), [("actions", "action", "action_ids"),
                                                            ("items", "information_item", "item_ids")])
def test_each_page_is_audited_with_what_it_shows(client, app, auth, case, name, resource_type, ids):
    url, headers = url_of(name, case), auth("coordinator")
    first = client.get(url, params={"pageSize": 1}, headers=headers)
    second = client.get(url, params={"pageSize": 1, "cursor": first.json()["next_cursor"]}, headers=headers)
    for response in (first, second):
        detail, persons = list_event(app, response, resource_type)
        assert detail[ids] == [i["id"] for i in response.json()["items"]]
        assert persons == {case["person"]["pseudonym"]}
    assert list_event(app, first, resource_type)[0][ids] != list_event(app, second, resource_type)[0][ids]


def test_a_partner_pages_through_the_history_without_the_items_it_may_not_see(client, auth, case):
    """The entries about items are left out in the query, not after it: every page is full."""
    care = auth("care")
    pages = walk(client, url_of("history", case), care)
    entries = [e for p in pages for e in p["items"]]
    assert [len(p["items"]) for p in pages] == [1] * len(entries)
    assert [e["details"]["item_id"] for e in entries if e["change"] == "item_added"] == [case["shared"]]
    assert [i["id"] for i in ok(client.get(url_of("items", case), headers=care))["items"]] == [case["shared"]]
