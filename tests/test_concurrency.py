"""Two writers with one ETag can never both win: If-Match is compared in the statement that writes.

Twenty clients read the same ETag and send their change at the same moment to a real server (on
SQLite and PostgreSQL): exactly one is applied, the others answer 412 and change nothing.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import with_etag
from tests.meeting_helpers import plan
from tests.servers import served

WRITERS = 20


def race(url: str, method: str, path: str, headers: dict[str, str], bodies: list[dict | None]) -> list[int]:
    """Every body at once (a barrier releases the senders together); the statuses, in body order."""
    start = threading.Barrier(len(bodies))

    def send(body: dict | None) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            return http.request(method, path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


@pytest.fixture
def server(client, app):
    with served(app) as url:
        yield url


def _one_winner(statuses: list[int], success: int = 200) -> int:
    assert sorted(statuses) == [success] + [412] * (len(statuses) - 1), statuses
    return statuses.index(success)


def test_twenty_case_updates_with_one_etag(client, auth, server):
    case = new_case(client, auth)
    path = f"{API}/cases/{case['id']}"
    headers = with_etag(client, auth("coordinator"), path)
    bodies = [{"next_review_date": f"2030-01-{i + 1:02d}"} for i in range(WRITERS)]
    winner = _one_winner(race(server, "PATCH", path, headers, bodies))
    after = client.get(path, headers=auth("coordinator"))
    assert after.json()["next_review_date"] == bodies[winner]["next_review_date"]
    assert after.headers["etag"] != headers["If-Match"]
    history = client.get(f"{path}/history", headers=auth("coordinator")).json()["items"]
    assert [h["change"] for h in history].count("updated") == 1


def test_twenty_meeting_changes_with_one_etag(client, auth, app, server):
    meeting = plan(client, auth, app)
    path = f"{API}/meetings/{meeting['id']}"
    headers = with_etag(client, auth("chair"), path)
    bodies = [{"location": f"Zaal {i}"} for i in range(WRITERS)]
    winner = _one_winner(race(server, "PATCH", path, headers, bodies))
    assert client.get(path, headers=auth("chair")).json()["location"] == bodies[winner]["location"]


def test_twenty_agenda_item_changes_with_one_etag(client, auth, app, server):
    for name in ("Een Persoon", "Twee Persoon"):
        new_case(client, auth, name=name, bsn=None)
    meeting = plan(client, auth, app)
    path = f"{API}/meetings/{meeting['id']}"
    items = client.post(f"{path}/agenda/build", headers=auth("chair")).json()["items"]
    headers = with_etag(client, auth("chair"), path)
    statuses = race(server, "PATCH", f"{path}/agenda/items/{items[1]['id']}", headers,
                    [{"position": 1, "urgent": i % 2 == 0} for i in range(WRITERS)])
    _one_winner(statuses)
    agenda = client.get(f"{path}/agenda", headers=auth("chair")).json()["items"]
    assert [i["id"] for i in agenda] == [items[1]["id"], items[0]["id"]] and [i["position"] for i in agenda] == [1, 2]


def test_twenty_action_reports_with_one_etag(client, auth, server):
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    body = {"description": "Huisbezoek", "owner_organisation_id": organisation_id(client, auth("coordinator"), "POL"),
            "due_date": "2099-01-01"}
    action = client.post(f"{API}/cases/{case['id']}/actions", json=body, headers=auth("coordinator")).json()
    path = f"{API}/actions/{action['id']}"
    headers = with_etag(client, auth("police"), path)
    bodies = [{"status": "done" if i % 2 else "cancelled", "result_note": f"Verslag {i}."} for i in range(WRITERS)]
    winner = _one_winner(race(server, "PATCH", path, headers, bodies))
    after = client.get(path, headers=auth("police")).json()
    assert (after["status"], after["result_note"]) == (bodies[winner]["status"], bodies[winner]["result_note"])
