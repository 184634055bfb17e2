"""Shared steps for case tests: a signal triaged into a case, organisations by code."""

from tests.factories import submit

API = "/api/v1"


def organisation_id(client, headers, code: str) -> str:
    directory = client.get(f"{API}/organisations", params={"pageSize": 100}, headers=headers).json()["items"]
    return next(o["id"] for o in directory if o["code"] == code)


def new_case(client, auth, **signal_overrides) -> dict:
    """A signal from the teacher, triaged by the coordinator into a new case; returns the case."""
    signal = submit(client, auth("teacher"), **signal_overrides)
    response = client.post(f"{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                           headers=auth("coordinator"))
    assert response.status_code == 200, response.text
    case_id = response.json()["case_id"]
    return client.get(f"{API}/cases/{case_id}", headers=auth("coordinator")).json() | {"signal_id": signal["id"]}


def add_member(client, auth, case_id: str, code: str) -> None:
    org = organisation_id(client, auth("coordinator"), code)
    response = client.post(f"{API}/cases/{case_id}/members", json={"organisation_id": org}, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
