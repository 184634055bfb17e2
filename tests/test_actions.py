"""Actions: validation of what is agreed, who reports on them, and the caller's own list."""

import uuid
from datetime import date, timedelta

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import with_etag
from tests.meeting_helpers import plan, set_status, user_id
from tests.webhook_helpers import add_subscription, messages

DUE = (date.today() + timedelta(days=5)).isoformat()


def agree(client, auth, case_id: str, by: str = "coordinator", **body):
    return client.post(f"{API}/cases/{case_id}/actions", headers=auth(by), json={"description": "Huisbezoek",
                                                                                 "due_date": DUE} | body)


def police_case(client, auth) -> tuple[dict, str]:
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    return case, organisation_id(client, auth("coordinator"), "POL")


def test_what_is_agreed_is_validated(client, auth, app):
    case, police = police_case(client, auth)
    care = organisation_id(client, auth("coordinator"), "GGZ")
    assert agree(client, auth, case["id"], owner_organisation_id=care).status_code == 400
    assert agree(client, auth, case["id"], owner_organisation_id=police,
                 owner_user_id=user_id(app, "care")).status_code == 400
    assert agree(client, auth, case["id"], owner_organisation_id=police,
                 due_date=(date.today() - timedelta(days=1)).isoformat()).status_code == 400
    assert agree(client, auth, case["id"], owner_organisation_id=police,
                 agenda_item_id=str(uuid.uuid4())).status_code == 400
    assert agree(client, auth, case["id"], owner_organisation_id=police, description="").status_code == 400
    created = agree(client, auth, case["id"], owner_organisation_id=police, owner_user_id=user_id(app, "police"))
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["overdue"], body["case_number"]) == ("open", False, case["number"])
    history = client.get(f"{API}/cases/{case['id']}/history", headers=auth("coordinator")).json()["items"]
    assert history[-1]["change"] == "action_agreed"


def test_the_owner_and_the_coordinator_report_on_an_action(client, auth):
    case, police = police_case(client, auth)
    add_member(client, auth, case["id"], "GGZ")
    first = agree(client, auth, case["id"], owner_organisation_id=police).json()["id"]
    second = agree(client, auth, case["id"], owner_organisation_id=police).json()["id"]
    done = {"status": "done", "result_note": "Gesprek gevoerd."}
    assert client.patch(f"{API}/actions/{first}", json=done, headers=auth("care")).status_code == 403
    assert client.patch(f"{API}/actions/{first}", json={"status": "done"}, headers=auth("police")).status_code == 400
    assert client.patch(f"{API}/actions/{first}", json={"status": "open", "result_note": "x"},
                        headers=auth("police")).status_code == 400
    assert client.patch(f"{API}/actions/{first}", json=done, headers=auth("police")).status_code == 428
    police_headers = with_etag(client, auth("police"), f"{API}/actions/{first}")
    response = client.patch(f"{API}/actions/{first}", json=done, headers=police_headers)
    assert (response.status_code, response.json()["status"], response.json()["result_note"]) == (
        200, "done", "Gesprek gevoerd.")
    assert client.patch(f"{API}/actions/{first}", json=done, headers=police_headers).status_code == 412
    current = with_etag(client, auth("police"), f"{API}/actions/{first}")
    assert client.patch(f"{API}/actions/{first}", json=done, headers=current).status_code == 409
    cancelled = client.patch(f"{API}/actions/{second}", json={"status": "cancelled", "result_note": "Niet meer nodig."},
                             headers=with_etag(client, auth("coordinator"), f"{API}/actions/{second}"))
    assert cancelled.json()["status"] == "cancelled"
    listed = client.get(f"{API}/cases/{case['id']}/actions", headers=auth("care")).json()["items"]
    assert [(a["id"], a["status"]) for a in listed] == [(first, "done"), (second, "cancelled")]


def test_my_actions_are_my_organisations(client, auth):
    case, police = police_case(client, auth)
    own = agree(client, auth, case["id"], owner_organisation_id=police).json()["id"]
    agree(client, auth, case["id"], owner_organisation_id=case["municipality_id"])
    url = f"{API}/actions"
    mine = client.get(url, params={"assignee": "me"}, headers=auth("police")).json()
    assert [a["id"] for a in mine["items"]] == [own] and mine["next_cursor"] is None
    assert client.get(url, params={"assignee": "me", "status": "done"}, headers=auth("police")).json()["items"] == []
    assert len(client.get(url, params={"assignee": "me"}, headers=auth("coordinator")).json()["items"]) == 1
    assert client.get(url, params={"assignee": "someone"}, headers=auth("police")).status_code == 400
    assert client.get(url, headers=auth("police")).status_code == 400


def test_the_chair_agrees_actions_only_while_the_case_is_on_an_open_meeting(client, auth, app):
    case, police = police_case(client, auth)
    assert agree(client, auth, case["id"], by="chair", owner_organisation_id=police).status_code == 404
    meeting = plan(client, auth, app)
    client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("chair"))
    assert agree(client, auth, case["id"], by="chair", owner_organisation_id=police).status_code == 201
    for status in ("in_progress", "closed"):
        set_status(client, auth, meeting["id"], status)
    assert agree(client, auth, case["id"], by="chair", owner_organisation_id=police).status_code == 403


def test_an_assigned_action_notifies_the_owning_organisation_without_personal_data(client, auth, app):
    subscription, _ = add_subscription(app, "https://receiver.example/hook", events=("action.assigned",), code="POL")
    case, police = police_case(client, auth)
    action = agree(client, auth, case["id"], owner_organisation_id=police, description="Huisbezoek bij Jan").json()
    agree(client, auth, case["id"], owner_organisation_id=case["municipality_id"])
    sent = messages(app, subscription_id=subscription)
    assert [m.payload["type"] for m in sent] == ["action.assigned"]
    href = sent[0].payload["data"]["href"]
    assert href == f"{API}/actions/{action['id']}" and "Huisbezoek" not in str(sent[0].payload)
    fetched = client.get(href, headers=auth("police"))
    assert (fetched.status_code, fetched.json()["description"]) == (200, "Huisbezoek bij Jan")


def test_a_retry_with_the_same_idempotency_key_agrees_the_action_once(client, auth, app):
    subscription, _ = add_subscription(app, "https://receiver.example/hook", events=("action.assigned",), code="POL")
    case, police = police_case(client, auth)
    headers = auth("coordinator") | {"Idempotency-Key": "overleg-2026-47-punt-3"}
    body = {"description": "Huisbezoek", "due_date": DUE, "owner_organisation_id": police}
    first = client.post(f"{API}/cases/{case['id']}/actions", headers=headers, json=body)
    again = client.post(f"{API}/cases/{case['id']}/actions", headers=headers, json=body)
    assert (first.status_code, again.status_code, again.headers.get("idempotent-replayed")) == (201, 201, "true")
    assert again.json() == first.json()
    assert [a["id"] for a in client.get(f"{API}/cases/{case['id']}/actions", headers=auth("coordinator")).json()["items"]] == [
        first.json()["id"]]
    assert len(messages(app, subscription_id=subscription)) == 1, "notified once"
    other = client.post(f"{API}/cases/{case['id']}/actions", headers=headers, json=body | {"description": "Anders"})
    assert other.status_code == 409
    elsewhere, _ = police_case(client, auth)
    assert client.post(f"{API}/cases/{elsewhere['id']}/actions", headers=headers, json=body).status_code == 409
