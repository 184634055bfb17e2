"""Tenancy, tried as another municipality's privacy officer would: Gemeente Arnhem's privacy officer
and Gemeente Utrecht's (`privacy`) each see their own municipality's audit events, emergency accesses,
access reports and statistics, and nothing of the other's."""

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.models import AuditEvent, AuditEventPerson, Organisation
from tests.case_helpers import API, new_case
from tests.db import inspect_db
from tests.factories import (
    EMERGENCY_REASON,
    VALID_BSN,
    arnhem_case,
    arnhem_coordinator,
    arnhem_privacy_officer,
    emergency_access_row,
    submit,
)

PERIOD = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


def municipality(app, code: str) -> str:
    with inspect_db(app) as session:
        return str(session.exec(select(Organisation.id).where(Organisation.code == code)).one())


def all_events(client, headers) -> list[dict]:
    """Every audit event the caller may list, page after page."""
    now = datetime.now(UTC)
    events, params = [], {"pageSize": 100, "since": (now - timedelta(days=1)).isoformat(),
                          "until": (now + timedelta(days=1)).isoformat()}
    while True:
        response = client.get(f"{API}/audit-events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        events += response.json()["items"]
        if response.json()["next_cursor"] is None:
            return events
        params["cursor"] = response.json()["next_cursor"]


def events_by_municipality(app) -> dict[str, str | None]:
    with inspect_db(app) as session:
        return {str(e): str(m) if m else None
                for e, m in session.exec(select(AuditEvent.event_id, AuditEvent.municipality_id)).all()}


def test_each_privacy_officer_lists_only_their_municipalitys_audit_events(client, auth, app):
    new_case(client, auth)
    arnhem_case(client, auth, app)
    before = events_by_municipality(app)
    for headers, code in ((arnhem_privacy_officer(app, auth), "ARN"), (auth("privacy"), "UTR")):
        own = municipality(app, code)
        listed = all_events(client, headers)
        assert {e["municipality_id"] for e in listed} == {own}
        # Every event that was there before the listing, of this municipality and of no other.
        assert {e["event_id"] for e in listed if e["event_id"] in before} == {
            event for event, tenant in before.items() if tenant == own}
    assert set(before.values()) >= {municipality(app, "ARN"), municipality(app, "UTR")}


def test_emergency_accesses_are_listed_and_reviewed_per_municipality(client, auth, app):
    utrecht = client.post(f"{API}/cases/{new_case(client, auth)['id']}/emergency-access",
                          json={"reason": EMERGENCY_REASON}, headers=auth("youthworker"))
    assert utrecht.status_code == 201, utrecht.text
    arnhem = emergency_access_row(app, arnhem_case(client, auth, app)["id"], "arnhem-coordinator")
    arnhem_officer = arnhem_privacy_officer(app, auth)
    listed = {who: [a["id"] for a in client.get(f"{API}/emergency-accesses", headers=headers).json()["items"]]
              for who, headers in (("ARN", arnhem_officer), ("UTR", auth("privacy")))}
    assert listed == {"ARN": [arnhem], "UTR": [utrecht.json()["id"]]}
    review = {"outcome": "misuse", "note": "Geen grond voor noodtoegang."}
    refused = client.post(f"{API}/emergency-accesses/{utrecht.json()['id']}/review", json=review,
                          headers=arnhem_officer)
    assert refused.status_code == 404
    pending = client.get(f"{API}/emergency-accesses", params={"reviewStatus": "pending"}, headers=auth("privacy"))
    assert [a["id"] for a in pending.json()["items"]] == [utrecht.json()["id"]]
    own = client.post(f"{API}/emergency-accesses/{arnhem}/review", json=review, headers=arnhem_officer)
    assert (own.status_code, own.json()["review_status"]) == (200, "misuse")


def test_an_access_report_only_of_a_person_of_the_officers_municipality(client, auth, app):
    utrecht_person = new_case(client, auth)["person"]["id"]
    arnhem_person = arnhem_case(client, auth, app)["person"]["id"]
    arnhem_officer = arnhem_privacy_officer(app, auth)
    assert client.get(f"{API}/persons/{utrecht_person}/access-report", headers=arnhem_officer).status_code == 404
    assert client.get(f"{API}/persons/{arnhem_person}/access-report", headers=auth("privacy")).status_code == 404
    own = client.get(f"{API}/persons/{arnhem_person}/access-report", headers=arnhem_officer)
    assert own.status_code == 200 and own.json()["organisations"]


def test_statistics_count_only_the_officers_municipality(client, auth, app):
    # Five and seven: at or above the suppression threshold (5), so the counts are shown, not hidden.
    for i in range(7):
        submit(client, auth("teacher"), name=f"Persoon {i}", bsn=None, district="Overvecht")
    for i in range(5):
        submit(client, auth.client("arnhem-system"), name=f"Persoon {i}", bsn=None, district="Presikhaaf")
    arnhem = client.get(f"{API}/statistics", params=PERIOD, headers=arnhem_privacy_officer(app, auth)).json()
    utrecht = client.get(f"{API}/statistics", params=PERIOD, headers=auth("privacy")).json()
    assert (arnhem["signals_total"], arnhem["signals_by_district"]["counts"]) == (5, {"Presikhaaf": 5})
    assert (utrecht["signals_total"], utrecht["signals_by_district"]["counts"]) == (7, {"Overvecht": 7})


def search_event(app, trace_id: str) -> tuple[AuditEvent, set[str]]:
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id)).one()
        persons = set(session.exec(select(AuditEventPerson.pseudonym)
                                   .where(AuditEventPerson.event_seq == event.seq)).all())
    return event, persons


def test_a_person_search_is_audited_with_the_kind_of_criteria_never_their_values(client, auth, app):
    person = new_case(client, auth, name="Yusuf Bakkerstraat", bsn=VALID_BSN)["person"]
    searches = {("bsn",): {"bsn": VALID_BSN},
                ("name_and_date_of_birth",): {"name": "Yusuf Bakkerstraat", "date_of_birth": "2005-03-01"}}
    for kinds, body in searches.items():
        response = client.post(f"{API}/persons/search", json=body, headers=auth("coordinator"))
        assert response.status_code == 200 and len(response.json()["items"]) == 1, response.text
        event, persons = search_event(app, response.headers["x-request-id"])
        assert (event.detail, persons) == ({"criteria": list(kinds), "count": 1}, {person["pseudonym"]})
        row = json.dumps(event.model_dump(mode="json")).lower()
        for value in (VALID_BSN, "yusuf", "bakkerstraat", "2005-03-01"):
            assert value not in row, value


def test_a_person_search_finds_no_one_of_another_municipality(client, auth, app):
    new_case(client, auth, name="Yusuf Bakkerstraat", bsn=VALID_BSN)
    arnhem = arnhem_case(client, auth, app, name="Yusuf Bakkerstraat", bsn=VALID_BSN)["person"]
    for body in ({"bsn": VALID_BSN}, {"name": "Yusuf Bakkerstraat", "date_of_birth": "2005-03-01"}):
        response = client.post(f"{API}/persons/search", json=body, headers=arnhem_coordinator(app, auth))
        assert [p["id"] for p in response.json()["items"]] == [arnhem["id"]], response.text
        assert search_event(app, response.headers["x-request-id"])[1] == {arnhem["pseudonym"]}
