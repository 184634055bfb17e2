"""A closed case gets no new actions (409), neither from its coordinator nor from the chair of a
meeting, still open, that has it on the agenda; re-opening the case comes first."""

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import with_etag
from tests.meeting_helpers import plan


def test_a_closed_case_gets_no_new_actions(client, auth, app):
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    meeting = plan(client, auth, app, attendees=())
    built = client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("chair"))
    assert [i["case_id"] for i in built.json()["items"]] == [case["id"]], built.text
    url = f"{API}/cases/{case['id']}"
    closed = client.patch(url, json={"status": "closed", "closure_reason": "Geen zorgen meer na evaluatie."},
                          headers=with_etag(client, auth("coordinator"), url))
    assert closed.status_code == 200, closed.text
    body = {"description": "Huisbezoek", "due_date": "2099-01-01",
            "owner_organisation_id": organisation_id(client, auth("coordinator"), "POL")}
    for who in ("coordinator", "chair"):
        response = client.post(f"{url}/actions", json=body, headers=auth(who))
        assert response.status_code == 409 and response.json()["type"].endswith("/case-closed"), (who, response.text)
    assert client.get(f"{url}/actions", headers=auth("coordinator")).json()["items"] == []
