"""Break-the-glass: a written reason, a time limit, marked events and the privacy officer's review."""

from datetime import timedelta

from sqlmodel import select

from app.models import AuditEvent, EmergencyAccess
from tests.case_helpers import API, new_case
from tests.db import inspect_db

REASON = "Acute dreiging gemeld door de meldkamer, informatie nodig voor inzet."


def grant(client, auth, case_id, user="care", reason=REASON):
    return client.post(f"{API}/cases/{case_id}/emergency-access", json={"reason": reason}, headers=auth(user))


def outcome_of(app, response) -> str:
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.trace_id == response.headers["x-request-id"])).all()
    return events[-1].outcome


def test_emergency_read_is_marked_and_reviewed(client, auth, app):
    case = new_case(client, auth)
    url = f"{API}/cases/{case['id']}"
    assert client.get(url, headers=auth("care")).status_code == 404
    granted = grant(client, auth, case["id"])
    assert granted.status_code == 201 and granted.json()["review_status"] == "pending"
    read = client.get(url, headers=auth("care"))
    assert read.status_code == 200 and read.json()["emergency_access"] is True
    assert "bsn" not in read.json()["person"]
    assert outcome_of(app, read) == "emergency"
    listed = client.get(f"{API}/cases", headers=auth("care")).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]
    assert client.post(f"{url}/items", json={"kind": "care", "text": "x", "source": "y", "date": "2026-11-01"},
                       headers=auth("care")).status_code == 403

    queue = client.get(f"{API}/emergency-accesses", params={"reviewStatus": "pending"}, headers=auth("privacy"))
    [entry] = queue.json()["items"]
    assert entry["reason"] == REASON and entry["actor_name"] == "care"
    review_url = f"{API}/emergency-accesses/{entry['id']}/review"
    reviewed = client.post(review_url, json={"outcome": "approved", "note": "Terecht: acute situatie."},
                           headers=auth("privacy"))
    assert reviewed.status_code == 200 and reviewed.json()["review_status"] == "approved"
    assert client.post(review_url, json={"outcome": "misuse", "note": "x"}, headers=auth("privacy")).status_code == 409
    assert client.get(url, headers=auth("privacy")).status_code == 404


def test_access_ends_when_the_period_is_over(client, auth, app):
    case = new_case(client, auth)
    grant(client, auth, case["id"])
    with inspect_db(app) as session:
        access = session.exec(select(EmergencyAccess)).one()
        access.expires_at = access.granted_at - timedelta(seconds=1)
        session.add(access)
        session.commit()
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("care")).status_code == 404


def test_rules_for_requesting(client, auth):
    case = new_case(client, auth)
    assert grant(client, auth, case["id"], reason="te kort").status_code == 400
    assert grant(client, auth, case["id"], user="coordinator").status_code == 409
    assert grant(client, auth, case["id"], user="teacher").status_code == 404
    assert grant(client, auth, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get(f"{API}/emergency-accesses", headers=auth("coordinator")).status_code == 403


def test_the_chair_who_reads_the_case_is_refused_not_misled(client, auth, app):
    """DESIGN.md: 404 only for what the caller may not know; the chair reads the cases on their agenda."""
    from tests.meeting_helpers import plan

    on_agenda, elsewhere = new_case(client, auth), new_case(client, auth, name="Piet Bakker", bsn=None)
    meeting = plan(client, auth, app)
    client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": on_agenda["id"]},
                headers=auth("chair"))
    refused, hidden = grant(client, auth, on_agenda["id"], user="chair"), grant(client, auth, elsewhere["id"], user="chair")
    assert (refused.status_code, hidden.status_code) == (403, 404)
    assert outcome_of(app, refused) == outcome_of(app, hidden) == "denied"


def test_misuse_ends_the_access_at_once(client, auth):
    case = new_case(client, auth)
    grant(client, auth, case["id"])
    [entry] = client.get(f"{API}/emergency-accesses", headers=auth("privacy")).json()["items"]
    client.post(f"{API}/emergency-accesses/{entry['id']}/review", json={"outcome": "misuse", "note": "Geen reden."},
                headers=auth("privacy"))
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("care")).status_code == 404


def test_history_hides_items_not_shared_with_the_caller(client, auth):
    from tests.case_helpers import add_member

    add_member(client, auth, case_id := new_case(client, auth)["id"], "POL")
    add_member(client, auth, case_id, "GGZ")
    client.post(f"{API}/cases/{case_id}/items", headers=auth("police"),
                json={"kind": "police", "text": "Alleen politie.", "source": "BVH", "date": "2026-11-01"})

    def changes(user: str) -> list[str]:
        return [h["change"] for h in client.get(f"{API}/cases/{case_id}/history", headers=auth(user)).json()["items"]]

    assert "item_added" in changes("coordinator") and "item_added" in changes("police")
    assert "item_added" not in changes("care")
