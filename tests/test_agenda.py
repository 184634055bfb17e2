"""The agenda: what the build picks up, the chair's edits and minutes rules (the printable document:
tests/test_agenda_document.py)."""

import uuid
from datetime import date, timedelta

from tests.case_helpers import API, new_case
from tests.factories import with_etag
from tests.meeting_helpers import age_triage, plan, set_status


def build(client, auth, meeting_id: str, by: str = "chair") -> list[dict]:
    response = client.post(f"{API}/meetings/{meeting_id}/agenda/build", headers=auth(by))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def patch_case(client, auth, case_id: str, body: dict) -> None:
    headers = auth("coordinator")
    etag = client.get(f"{API}/cases/{case_id}", headers=headers).headers["etag"]
    assert client.patch(f"{API}/cases/{case_id}", json=body, headers=headers | {"If-Match": etag}).status_code == 200


def item(client, auth, meeting_id: str, item_id: str, body: dict, by: str = "chair", **headers):
    """Changes an item, with the meeting's current ETag unless `headers` hold another If-Match."""
    current = with_etag(client, auth(by), f"{API}/meetings/{meeting_id}")
    return client.patch(f"{API}/meetings/{meeting_id}/agenda/items/{item_id}", json=body, headers=current | headers)


def test_the_build_picks_up_reviews_overdue_actions_and_closure_proposals(client, auth, app):
    review, overdue, proposed, quiet, earlier = (new_case(client, auth, name=n, bsn=None)
                                                  for n in ("Ria Review", "Otto Overdue", "Ans Afsluiten",
                                                            "Stil Geval", "Eerder Besproken"))
    age_triage(app, [c["signal_id"] for c in (review, overdue, proposed, quiet)], days=30)
    previous = plan(client, auth, app, hours=-24 * 20)  # an earlier meeting: what was on its agenda is not new
    build(client, auth, previous["id"])
    age_triage(app, [earlier["signal_id"]], days=3)
    meeting = plan(client, auth, app, hours=24 * 10)
    patch_case(client, auth, review["id"], {"next_review_date": (date.today() + timedelta(days=5)).isoformat()})
    patch_case(client, auth, quiet["id"], {"next_review_date": (date.today() + timedelta(days=30)).isoformat()})
    client.post(f"{API}/cases/{overdue['id']}/actions", headers=auth("coordinator"), json={
        "description": "Bellen", "owner_organisation_id": overdue["municipality_id"],
        "due_date": (date.today() + timedelta(days=2)).isoformat()})
    proposal = client.post(f"{API}/cases/{proposed['id']}/closure-proposals", headers=auth("coordinator"),
                           json={"reason": "Doelen zijn bereikt."})
    assert proposal.status_code == 201
    assert client.post(f"{API}/cases/{proposed['id']}/closure-proposals", headers=auth("coordinator"),
                       json={"reason": "Nog een keer voorstellen."}).status_code == 409

    items = build(client, auth, meeting["id"])
    assert [(i["case_number"], i["kind"], i["position"]) for i in items] == [
        (proposed["number"], "closure_proposal", 1), (earlier["number"], "new_signal", 2),
        (overdue["number"], "overdue_actions", 3), (review["number"], "review", 4)]
    assert items[0]["reason"] == "proposed for closure: Doelen zijn bereikt."
    assert items[2]["reason"].startswith("action overdue since ")
    assert build(client, auth, meeting["id"]) == items


def test_a_signal_triaged_after_the_previous_agenda_was_built_reaches_the_next_agenda(client, auth, app):
    discussed = new_case(client, auth, name="Al Besproken", bsn=None)
    previous = plan(client, auth, app, hours=2)
    assert [i["case_number"] for i in build(client, auth, previous["id"])] == [discussed["number"]]
    # Triaged after that agenda was built but before that meeting starts: on no agenda yet.
    late = new_case(client, auth, name="Laat Getrieerd", bsn=None)
    removed = new_case(client, auth, name="Weggehaald Geval", bsn=None)
    items = client.post(f"{API}/meetings/{previous['id']}/agenda/items", json={"case_id": removed["id"]},
                        headers=auth("chair")).json()["items"]
    assert client.delete(f"{API}/meetings/{previous['id']}/agenda/items/{items[-1]['id']}",
                         headers=with_etag(client, auth("chair"), f"{API}/meetings/{previous['id']}")).status_code == 204
    meeting = plan(client, auth, app, hours=24 * 7)
    assert sorted((i["case_number"], i["kind"]) for i in build(client, auth, meeting["id"])) == sorted(
        [(late["number"], "new_signal"), (removed["number"], "new_signal")])


def test_the_chair_removes_adds_reorders_and_marks_urgent(client, auth, app):
    first, second, third = (new_case(client, auth, name=n, bsn=None, urgency=u)
                            for n, u in (("Een", "normal"), ("Twee", "normal"), ("Drie", "high")))
    meeting = plan(client, auth, app)
    items = build(client, auth, meeting["id"])
    assert len(items) == 3
    url = f"{API}/meetings/{meeting['id']}/agenda/items"
    chair = with_etag(client, auth("chair"), f"{API}/meetings/{meeting['id']}")
    assert client.delete(f"{url}/{items[0]['id']}", headers=chair).status_code == 204
    assert [i["case_number"] for i in build(client, auth, meeting["id"])] == [second["number"], third["number"]]

    readded = client.post(url, json={"case_id": first["id"], "reason": "Toch bespreken.", "urgent": True},
                          headers=auth("chair"))
    assert readded.status_code == 201
    assert client.post(url, json={"case_id": first["id"]}, headers=auth("chair")).status_code == 409
    assert client.post(url, json={"case_id": str(uuid.uuid4())}, headers=auth("chair")).status_code == 400
    moved = item(client, auth, meeting["id"], readded.json()["items"][2]["id"], {"position": 1})
    # Urgent: marked so by the chair, or a signal new for this meeting has urgency high (or acute).
    assert [(i["case_number"], i["position"], i["urgent"], i["marked_urgent"], i["kind"])
            for i in moved.json()["items"]] == [
        (first["number"], 1, True, True, "case_discussion"), (second["number"], 2, False, False, "new_signal"),
        (third["number"], 3, True, False, "new_signal")]


def test_minutes_and_decisions_while_the_meeting_runs(client, auth, app):
    case = new_case(client, auth)
    meeting = plan(client, auth, app)
    item_id = build(client, auth, meeting["id"])[0]["id"]
    assert item(client, auth, meeting["id"], item_id, {"minutes": "Te vroeg."}).status_code == 409
    etag = client.get(f"{API}/meetings/{meeting['id']}", headers=auth("chair")).headers["etag"]
    set_status(client, auth, meeting["id"], "in_progress")
    assert item(client, auth, meeting["id"], item_id, {"minutes": "Verouderd."}, **{"If-Match": etag}).status_code == 412
    assert item(client, auth, meeting["id"], item_id, {"decision": "close_case"}).status_code == 400
    assert item(client, auth, meeting["id"], item_id, {"decision": "not_a_decision"}).status_code == 400
    decided = item(client, auth, meeting["id"], item_id, {"minutes": "Besproken.", "decision": "request_assessment"})
    recorded = decided.json()["items"][0]
    assert (recorded["decision"], recorded["minutes"]) == ("request_assessment", "Besproken.")
    url = f"{API}/meetings/{meeting['id']}"
    assert client.patch(url, json={"status": "planned"}, headers=with_etag(client, auth("chair"), url)).status_code == 409
    set_status(client, auth, meeting["id"], "closed")
    assert client.patch(url, json={"location": "Elders"}, headers=with_etag(client, auth("chair"), url)).status_code == 409
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).json()["status"] == "intake"
