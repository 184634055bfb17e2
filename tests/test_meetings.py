"""The weekly case conference end to end, and the meeting lifecycle."""

from datetime import UTC, date, datetime, timedelta

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import with_etag
from tests.meeting_helpers import (
    age_triage,
    persons_of_event,
    plan,
    set_status,
    user_id,
)


def agenda(client, headers, meeting_id: str) -> dict:
    response = client.get(f"{API}/meetings/{meeting_id}/agenda", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def items_by_case(body: dict) -> dict:
    return {i["case_number"]: i for i in body["items"]}


def test_a_whole_week(client, auth, app):
    # Monday–Friday: signals come in and are triaged into cases; Politie takes part in Jan's case only.
    jan = new_case(client, auth, name="Jan de Vries")
    piet = new_case(client, auth, name="Piet Bakker", bsn=None)
    add_member(client, auth, jan["id"], "POL")
    age_triage(app, [jan["signal_id"], piet["signal_id"]], days=2)
    week1, week2 = (m for m in _series(client, auth, app))

    # The chair builds the agenda, twice: nothing is duplicated.
    built = client.post(f"{API}/meetings/{week1['id']}/agenda/build", headers=auth("chair")).json()
    again = client.post(f"{API}/meetings/{week1['id']}/agenda/build", headers=auth("chair")).json()
    assert [(i["case_number"], i["kind"]) for i in built["items"]] == [(jan["number"], "new_signal"),
                                                                     (piet["number"], "new_signal")]
    assert again["items"] == built["items"]

    # Politie sees its own case in full and Piet only as a placeholder; the audit names only Jan.
    response = client.get(f"{API}/meetings/{week1['id']}/agenda", headers=auth("police"))
    police_view = items_by_case(response.json())
    assert police_view[jan["number"]]["person"]["name"] == "Jan de Vries"
    assert police_view[piet["number"]] == {"view": "redacted", "id": police_view[piet["number"]]["id"],
                                           "position": 2, "kind": "new_signal", "case_number": piet["number"]}
    assert "Piet" not in response.text
    assert persons_of_event(app, response.headers["x-request-id"], "agenda") == {jan["person"]["pseudonym"]}

    # The meeting runs: minutes, decisions, an action for Politie due before next week's meeting.
    set_status(client, auth, week1["id"], "in_progress")
    items = items_by_case(agenda(client, auth("chair"), week1["id"]))
    record(client, auth, week1["id"], items[jan["number"]]["id"],
           {"minutes": "Politie spreekt Jan aan.", "decision": "continue_approach"})
    record(client, auth, week1["id"], items[piet["number"]]["id"],
           {"minutes": "Geen zorgen meer.", "decision": "close_case", "closure_reason": "Zorgen zijn weggenomen."})
    due = (date.today() + timedelta(days=3)).isoformat()
    action = client.post(f"{API}/cases/{jan['id']}/actions", headers=auth("chair"), json={
        "description": "Gesprek met Jan en ouders", "owner_organisation_id": organisation_id(client, auth("police"), "POL"),
        "owner_user_id": user_id(app, "police"), "due_date": due, "agenda_item_id": items[jan["number"]]["id"]})
    assert action.status_code == 201, action.text

    # The meeting closes: Piet's case is closed through the case's transition rules; minutes are final.
    set_status(client, auth, week1["id"], "closed")
    piet_case = client.get(f"{API}/cases/{piet['id']}", headers=auth("coordinator")).json()
    assert (piet_case["status"], piet_case["closure_reason"]) == ("closed", "Zorgen zijn weggenomen.")
    history = client.get(f"{API}/cases/{piet['id']}/history", headers=auth("coordinator")).json()["items"]
    assert history[-1]["details"]["status"] == ["intake", "closed"]
    late = client.patch(f"{API}/meetings/{week1['id']}/agenda/items/{items[jan['number']]['id']}",
                        json={"minutes": "Achteraf anders."},
                        headers=with_etag(client, auth("chair"), f"{API}/meetings/{week1['id']}"))
    assert late.status_code == 409
    addendum = client.post(f"{API}/meetings/{week1['id']}/agenda/items/{items[jan['number']]['id']}/addenda",
                           json={"text": "Ouders waren ook aanwezig."}, headers=auth("chair"))
    assert addendum.status_code == 201 and addendum.json()["author_name"] == "chair"

    # Politie's action is open and not yet overdue; a new signal comes in for someone else.
    mine = client.get(f"{API}/actions", params={"assignee": "me"}, headers=auth("police")).json()["items"]
    assert [(a["id"], a["status"], a["overdue"]) for a in mine] == [(action.json()["id"], "open", False)]
    kees = new_case(client, auth, name="Kees Jansen", bsn=None)

    # Next week: the overdue action brings Jan back, Kees is new, Piet's closed case is gone.
    built = client.post(f"{API}/meetings/{week2['id']}/agenda/build", headers=auth("coordinator")).json()
    assert [(i["case_number"], i["kind"]) for i in built["items"]] == [(kees["number"], "new_signal"),
                                                                     (jan["number"], "overdue_actions")]
    jan_item = items_by_case(built)[jan["number"]]
    assert [a["overdue"] for a in jan_item["open_actions"]] == [True]
    assert jan_item["last_decision"]["decision"] == "continue_approach"
    police_view = items_by_case(agenda(client, auth("police"), week2["id"]))
    assert police_view[kees["number"]]["view"] == "redacted" and police_view[jan["number"]]["view"] == "full"


def _series(client, auth, app):
    first = plan(client, auth, app, hours=-1, repeat_weekly=2)
    series = client.get(f"{API}/meetings", params={"seriesId": first["series_id"]}, headers=auth("chair")).json()
    assert [m["id"] for m in series["items"]][-1] == first["id"] and len(series["items"]) == 2
    return sorted(series["items"], key=lambda m: m["starts_at"])


def record(client, auth, meeting_id: str, item_id: str, body: dict) -> None:
    response = client.patch(f"{API}/meetings/{meeting_id}/agenda/items/{item_id}", json=body,
                            headers=with_etag(client, auth("chair"), f"{API}/meetings/{meeting_id}"))
    assert response.status_code == 200, response.text


def test_weekly_series_is_bounded(client, auth, app):
    for count in (1, 53):
        body = {"starts_at": datetime.now(UTC).isoformat(), "chair_id": user_id(app, "chair"), "repeat_weekly": count}
        assert client.post(f"{API}/meetings", json=body, headers=auth("coordinator")).status_code == 400
    meeting = plan(client, auth, app, repeat_weekly=3, by="chair")
    series = client.get(f"{API}/meetings", params={"seriesId": meeting["series_id"]}, headers=auth("coordinator"))
    starts = sorted(datetime.fromisoformat(m["starts_at"]) for m in series.json()["items"])
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [timedelta(weeks=1)] * 2


def test_planning_with_an_idempotency_key_plans_once(client, auth, app):
    body = {"starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(), "chair_id": user_id(app, "chair"),
            "repeat_weekly": 4}
    headers = auth("coordinator") | {"Idempotency-Key": "series-2027"}
    first = client.post(f"{API}/meetings", json=body, headers=headers)
    retry = client.post(f"{API}/meetings", json=body, headers=headers)
    assert (first.status_code, retry.status_code, retry.headers["idempotent-replayed"]) == (201, 201, "true")
    assert retry.json() == first.json() and retry.headers["location"] == first.headers["location"]
    series = client.get(f"{API}/meetings", params={"seriesId": first.json()["series_id"]}, headers=auth("coordinator"))
    assert len(series.json()["items"]) == 4
    other = client.post(f"{API}/meetings", json=body | {"repeat_weekly": 2}, headers=headers)
    assert other.status_code == 409


def test_a_meeting_is_validated_and_changed_by_those_who_run_it(client, auth, app):
    starts = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    url, headers = f"{API}/meetings", auth("coordinator")
    for bad in ({"chair_id": user_id(app, "teacher")}, {"attending_organisation_ids": [user_id(app, "chair")]},
                {"starts_at": "2027-01-04T09:00:00"}, {"location": "x" * 301}, {"agenda": []}):
        body = {"starts_at": starts, "chair_id": user_id(app, "chair")} | bad
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json", bad
    meeting = plan(client, auth, app)
    etag = client.get(f"{url}/{meeting['id']}", headers=headers).headers["etag"]
    om = organisation_id(client, headers, "OM")
    changed = client.patch(f"{url}/{meeting['id']}", json={"attending_organisation_ids": [om]},
                           headers=auth("chair") | {"If-Match": etag})
    assert changed.status_code == 200 and changed.json()["attending_organisation_ids"] == [om]
    stale = client.patch(f"{url}/{meeting['id']}", json={"location": "Elders"}, headers=auth("chair") | {"If-Match": etag})
    assert stale.status_code == 412
    assert client.patch(f"{url}/{meeting['id']}", json={"location": "Elders"}, headers=auth("chair")).status_code == 428
    assert client.get(f"{url}/{meeting['id']}", headers=auth("police")).status_code == 404
    assert client.patch(f"{url}/{meeting['id']}", json={"status": "closed"},
                        headers=with_etag(client, headers, f"{url}/{meeting['id']}")).status_code == 409


def test_null_for_a_required_field_of_a_meeting_is_400(client, auth, app):
    meeting = plan(client, auth, app)
    for bad in ({"starts_at": None}, {"chair_id": None}):
        response = client.patch(f"{API}/meetings/{meeting['id']}", json=bad, headers=auth("chair"))
        assert response.status_code == 400 and response.json()["errors"][0]["name"] == next(iter(bad)), bad
