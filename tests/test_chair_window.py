"""The chair's access is bound to the meeting: it opens when the agenda of a near meeting they chair is
built and closes CHAIR_ACCESS_DAYS_AFTER_CLOSE (7) days after the meeting closed. Tried as a chair who
wants to read more than that: planning far ahead, waiting after the meeting, moving it away."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from app.models import AgendaItem, Meeting
from tests.case_helpers import API, new_case
from tests.db import inspect_db
from tests.factories import with_etag
from tests.meeting_helpers import plan, set_status
from tests.referral_helpers import refer


def readable_by_chair(client, auth, case: dict, referral: dict | None = None) -> dict[str, int]:
    """What the chair gets for the case, its signal and (if any) its referral."""
    paths = {"case": f"{API}/cases/{case['id']}", "signal": f"{API}/signals/{case['signal_id']}"}
    if referral is not None:
        paths["referral"] = f"{API}/referrals/{referral['id']}"
    return {name: client.get(path, headers=auth("chair")).status_code for name, path in paths.items()}


def built_meeting(client, auth, app, **plan_options) -> tuple[dict, dict]:
    """A case (from a signal triaged just now) and a meeting the chair planned, its agenda built with it."""
    case = new_case(client, auth)
    meeting = plan(client, auth, app, by="chair", attendees=(), **plan_options)
    built = client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("chair"))
    assert built.status_code == 200 and [i["case_id"] for i in built.json()["items"]] == [case["id"]], built.text
    return case, meeting


def move(app, meeting_id: str, **values) -> None:
    """Time travel: the meeting's columns written as if it happened `values` ago."""
    with inspect_db(app) as session:
        session.execute(update(Meeting).where(Meeting.id == uuid.UUID(meeting_id)).values(**values))
        session.commit()


def test_planning_far_ahead_opens_nothing(client, auth, app):
    case = new_case(client, auth)
    meeting = plan(client, auth, app, by="chair", attendees=(), hours=300 * 24)
    build = client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("chair"))
    add = client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": case["id"]},
                      headers=auth("chair"))
    assert (build.status_code, add.status_code) == (409, 409)
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in (build, add)} == {"beyond-agenda-horizon"}
    with inspect_db(app) as session:
        assert session.exec(select(AgendaItem).where(AgendaItem.meeting_id == uuid.UUID(meeting["id"]))).all() == []
    assert readable_by_chair(client, auth, case) == {"case": 404, "signal": 404}


@pytest.mark.parametrize(("days_since_closing", "status", "full_items"), [(6, 200, 1), (8, 404, 0)])
def test_the_chairs_access_ends_days_after_the_meeting_closed(client, auth, app, days_since_closing, status,
                                                               full_items):
    case, meeting = built_meeting(client, auth, app)
    referral = refer(client, auth, case, "GGZ")
    for step in ("in_progress", "closed"):
        set_status(client, auth, meeting["id"], step)
    move(app, meeting["id"], closed_at=datetime.now(UTC) - timedelta(days=days_since_closing))
    assert readable_by_chair(client, auth, case, referral) == {"case": status, "signal": status, "referral": status}
    agenda = client.get(f"{API}/meetings/{meeting['id']}/agenda", headers=auth("chair"))
    assert agenda.status_code == 200 and len(agenda.json()["items"]) == 1
    # A placeholder keeps the agenda's order without the person: only a full item names them.
    assert sum("person" in item for item in agenda.json()["items"]) == full_items


def test_moving_the_meeting_beyond_the_horizon_ends_the_access(client, auth, app):
    case, meeting = built_meeting(client, auth, app)
    assert readable_by_chair(client, auth, case) == {"case": 200, "signal": 200}
    url = f"{API}/meetings/{meeting['id']}"
    later = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    moved = client.patch(url, json={"starts_at": later}, headers=with_etag(client, auth("chair"), url))
    assert moved.status_code == 200, moved.text
    assert readable_by_chair(client, auth, case) == {"case": 404, "signal": 404}


def test_the_chair_closes_a_case_by_the_meetings_decision(client, auth, app):
    case, meeting = built_meeting(client, auth, app)
    set_status(client, auth, meeting["id"], "in_progress")
    url = f"{API}/meetings/{meeting['id']}"
    item = client.get(f"{url}/agenda", headers=auth("chair")).json()["items"][0]
    decided = client.patch(f"{url}/agenda/items/{item['id']}", headers=with_etag(client, auth("chair"), url),
                           json={"decision": "close_case", "closure_reason": "Geen zorgen meer na evaluatie."})
    assert decided.status_code == 200, decided.text
    assert set_status(client, auth, meeting["id"], "closed")["status"] == "closed"
    closed = client.get(f"{API}/cases/{case['id']}", headers=auth("coordinator")).json()
    assert (closed["status"], closed["closure_reason"]) == ("closed", "Geen zorgen meer na evaluatie.")
