"""Statistics: aggregates only, small counts suppressed, complementary suppression, access."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import Signal
from app.privacy.suppression import suppress, suppress_total
from tests.case_helpers import new_case
from tests.db import inspect_connection
from tests.factories import submit, with_etag
from tests.meeting_helpers import plan, set_status

URL = "/api/v1/statistics"
PERIOD = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
SIGNALS = Signal.__table__


def test_small_counts_are_suppressed_with_a_complement():
    assert suppress({"a": 10, "b": 2, "c": 7}, 5) == {"a": 10, "b": None, "c": None}
    assert suppress({"a": 10, "b": 2, "c": 3}, 5) == {"a": 10, "b": None, "c": None}
    assert suppress({"a": 10, "b": 0}, 5) == {"a": 10, "b": 0}
    assert suppress({"a": 6, "b": 9}, 5) == {"a": 6, "b": 9}
    assert (suppress_total(3, 5), suppress_total(0, 5), suppress_total(12, 5)) == (None, 0, 12)


def test_statistics_without_personal_data(client, auth):
    for i in range(12):
        submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None, district=["Overvecht", "Zuilen"][i % 2])
    submit(client, auth("teacher"), name="Ander", bsn=None, district="Kanaleneiland")
    response = client.get(URL, params=PERIOD, headers=auth("coordinator"))
    assert response.status_code == 200
    body = response.json()
    assert body["signals_total"] == 13 and body["suppression_threshold"] == 5
    # Kanaleneiland (1) is hidden, and Overvecht too: otherwise 13 - 6 - 6 would give it away.
    assert body["signals_by_district"]["counts"] == {"Kanaleneiland": None, "Overvecht": None, "Zuilen": 6}
    assert body["signals_by_urgency"]["counts"] == {"high": 13}
    assert "Persoon" not in response.text and "Ander" not in response.text
    assert client.get(URL, params=PERIOD, headers=auth("privacy")).status_code == 200


@pytest.mark.parametrize("username", ["chair", "police", "teacher", "expert", "admin"])
def test_statistics_access(client, auth, username):
    assert client.get(URL, params=PERIOD, headers=auth(username)).status_code == 403


def test_statistics_period_validation(client, auth):
    headers = auth("coordinator")
    assert client.get(URL, params={"since": "2026-02-01", "until": "2026-01-01"}, headers=headers).status_code == 400
    assert client.get(URL, params={"since": "gisteren", "until": "2026-01-01"}, headers=headers).status_code == 400


def test_median_time_to_triage_needs_enough_signals(client, auth):
    headers = auth("coordinator")
    ids = [submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None)["id"] for i in range(5)]
    for signal_id in ids[:4]:
        client.post(f"/api/v1/signals/{signal_id}/triage", json={"outcome": "new_case"}, headers=headers)
    assert client.get(URL, params=PERIOD, headers=headers).json()["median_hours_to_triage"] is None
    client.post(f"/api/v1/signals/{ids[4]}/triage", json={"outcome": "new_case"}, headers=headers)
    body = client.get(URL, params=PERIOD, headers=headers).json()
    assert 0 <= body["median_hours_to_triage"] < 1 and body["cases_opened"] == 5
    assert body["cases_by_status"]["counts"] == {"intake": 5}


def test_median_time_to_first_meeting_needs_enough_cases(client, auth, app):
    headers = auth("coordinator")
    for i in range(5):
        new_case(client, auth, name=f"Persoon {i}", bsn=None)
    meeting = plan(client, auth, app)
    client.post(f"/api/v1/meetings/{meeting['id']}/agenda/build", headers=headers)
    item = client.get(f"/api/v1/meetings/{meeting['id']}/agenda", headers=headers).json()["items"][0]
    removed = client.delete(f"/api/v1/meetings/{meeting['id']}/agenda/items/{item['id']}",
                            headers=with_etag(client, headers, f"/api/v1/meetings/{meeting['id']}"))
    assert removed.status_code == 204
    assert client.get(URL, params=PERIOD, headers=headers).json()["median_days_to_first_meeting"] is None
    set_status(client, auth, meeting["id"], "in_progress", by="coordinator")
    # Four cases were on the started meeting's agenda: fewer than the threshold.
    assert client.get(URL, params=PERIOD, headers=headers).json()["median_days_to_first_meeting"] is None
    client.post(f"/api/v1/meetings/{meeting['id']}/agenda/items", json={"case_id": item["case_id"]}, headers=headers)
    body = client.get(URL, params=PERIOD, headers=headers).json()
    assert 0 <= body["median_days_to_first_meeting"] < 1


def test_counts_and_median_are_computed_alike_on_every_backend(client, auth, app):
    """The database counts and takes the median (PostgreSQL) where Python once did: the same figures."""
    headers = auth("coordinator")
    ids = [submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None)["id"] for i in range(6)]
    for signal_id in ids:
        client.post(f"/api/v1/signals/{signal_id}/triage", json={"outcome": "new_case"}, headers=headers)
    with inspect_connection(app, write=True) as connection:
        for signal_id, hours in zip(ids, (1, 2, 3, 4, 10, 20), strict=True):
            row = SIGNALS.c.id == uuid.UUID(signal_id)
            created = connection.execute(select(SIGNALS.c.created_at).where(row)).scalar_one()
            triaged = created + timedelta(hours=hours, minutes=30)
            connection.execute(update(SIGNALS).where(row).values(triaged_at=triaged))
    body = client.get(URL, params=PERIOD, headers=headers).json()
    assert body["median_hours_to_triage"] == 4.0  # between 3.5 and 4.5 hours
    assert body["signals_total"] == 6 and body["signals_by_outcome"]["counts"] == {"linked_to_case": 6}
    assert sum(body["signals_by_category"]["counts"].values()) >= 6
