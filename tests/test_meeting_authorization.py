"""Who may do what with meetings, agendas and actions: every endpoint × role × relationship, from one table."""

import uuid
from datetime import date, timedelta

import pytest

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import arnhem_coordinator, with_etag
from tests.matrix_table import cells
from tests.meeting_helpers import plan, set_status, user_id
from tests.test_case_authorization import last_outcome

PERSON_NAME = "Jan de Vries"
# The setup: Jan's case (Politie takes part) is on the agenda of a meeting chaired by `chair` that
# Politie and GGZ attend; Politie owns an action in the case; a second case is not on the agenda.
# Rows: caller and relation (attending | not_attending | other municipality | unknown ids);
#   agenda: the view of Jan's item in a 200 agenda ("-": none); meets: whether the caller's meeting
#   list shows the setup meeting. Cells: status, then the request's last audit outcome (a/d/e, "-": none).
# Columns are the ENDPOINTS below; addn is run after the meeting closed.
MATRIX = """
caller             relation      agenda   meets | mlist plan mread mpatch agnd build additm patchi delitm addn  prop  aclst acnew mine  acpat  acread
coordinator        attending     full     y     | 200a 201a 200a  200a   200a 200a  201a   200a   204a   201a  201a  200a  201a  200a  200a  200a
coordinator        unknown       -        n     | 200a 201a 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  200a  404d  404d
chair              attending     full     y     | 200a 201a 200a  200a   200a 200a  201a   200a   204a   201a  403d  200a  201a  403d  403d  200a
police             attending     full     y     | 200a 403d 200a  403d   200a 403d  403d   403d   403d   403d  403d  200a  403d  200a  200a  200a
care               attending     redacted y     | 200a 403d 200a  403d   200a 403d  403d   403d   403d   403d  404d  404d  404d  200a  404d  404d
youthworker        not_attending -        n     | 200a 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  200a  404d  404d
teacher            not_attending -        n     | 403d 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  403d  404d  404d
expert             not_attending -        n     | 403d 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  403d  404d  404d
privacy            not_attending -        n     | 403d 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  403d  404d  404d
admin              not_attending -        n     | 403d 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  403d  404d  404d
arnhem-coordinator other         -        n     | 200a 400- 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  200a  404d  404d
arnhem-system      other         -        n     | 403d 403d 404d  404d   404d 404d  404d   404d   404d   404d  404d  404d  404d  403d  404d  404d
"""

M = "/meetings/{meeting}"
ENDPOINTS = {
    "mlist": ("GET", "/meetings", None),
    "plan": ("POST", "/meetings", lambda c: c["plan_body"]),
    "mread": ("GET", M, None),
    "mpatch": ("PATCH", M, lambda c: {"location": "Wijkbureau Overvecht"}),
    "agnd": ("GET", M + "/agenda", None),
    "build": ("POST", M + "/agenda/build", None),
    "additm": ("POST", M + "/agenda/items", lambda c: {"case_id": c["other_case"], "urgent": True}),
    "patchi": ("PATCH", M + "/agenda/items/{item}", lambda c: {"position": 1, "urgent": True}),
    "delitm": ("DELETE", M + "/agenda/items/{item}", None),
    "addn": ("POST", M + "/agenda/items/{item}/addenda", lambda c: {"text": "Aanvulling op het verslag."}),
    "prop": ("POST", "/cases/{case}/closure-proposals", lambda c: {"reason": "Doelen van de aanpak zijn bereikt."}),
    "aclst": ("GET", "/cases/{case}/actions", None),
    "acnew": ("POST", "/cases/{case}/actions", lambda c: {"description": "Huisbezoek", "due_date": c["due"],
                                                          "owner_organisation_id": c["police_org"]}),
    "mine": ("GET", "/actions?assignee=me", None),
    "acpat": ("PATCH", "/actions/{action}", lambda c: {"status": "done", "result_note": "Gesprek gevoerd."}),
    "acread": ("GET", "/actions/{action}", None),
}


def _parse(matrix: str) -> list:
    rows = []
    for (caller, relation, agenda, meets), endpoint, status, outcome in cells(matrix, ENDPOINTS):
        expected = {"status": status, "outcome": outcome, "agenda": None if agenda == "-" else agenda,
                    "meets": meets == "y"}
        rows.append(pytest.param(caller, relation, endpoint, expected, id=f"{endpoint}-{caller}-{relation}"))
    return rows


def headers_for(app, auth, caller: str) -> dict[str, str]:
    if caller == "arnhem-system":
        return auth.client("arnhem-system")
    if caller == "arnhem-coordinator":
        return arnhem_coordinator(app, auth)
    return auth(caller)


def build(client, auth, app, relation: str, endpoint: str) -> dict:
    coordinator = auth("coordinator")
    case = new_case(client, auth, name=PERSON_NAME)
    add_member(client, auth, case["id"], "POL")
    meeting = plan(client, auth, app)
    built = client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=coordinator).json()
    police_org = organisation_id(client, coordinator, "POL")
    due = (date.today() + timedelta(days=7)).isoformat()
    action = client.post(f"{API}/cases/{case['id']}/actions", headers=coordinator,
                         json={"description": "Gesprek", "owner_organisation_id": police_org, "due_date": due})
    other = new_case(client, auth, name="Piet Bakker", bsn=None)
    ctx = {"meeting": meeting["id"], "item": built["items"][0]["id"], "case": case["id"], "other_case": other["id"],
           "action": action.json()["id"], "police_org": police_org, "due": due, "plan_body": {
               "starts_at": meeting["starts_at"], "chair_id": user_id(app, "chair"),
               "attending_organisation_ids": meeting["attending_organisation_ids"]}}
    if endpoint == "addn":
        set_status(client, auth, meeting["id"], "in_progress")
        set_status(client, auth, meeting["id"], "closed")
    if relation == "unknown":
        ctx |= {k: str(uuid.uuid4()) for k in ("meeting", "item", "case", "action")}
    return ctx


def body_checks(endpoint: str, body, ctx: dict, caller: str, expected: dict) -> None:
    if endpoint == "mlist":
        assert (ctx["meeting"] in [m["id"] for m in body["items"]]) is expected["meets"]
    elif endpoint in ("agnd", "build", "additm", "patchi"):
        views = {i["id"]: i["view"] for i in body["items"]}
        assert views[ctx["item"]] == expected["agenda"]
    elif endpoint == "mine":
        assert [a["id"] for a in body["items"]] == ([ctx["action"]] if caller == "police" else [])
    elif endpoint == "aclst":
        assert ([a["id"] for a in body["items"]], body["next_cursor"]) == ([ctx["action"]], None)
    elif endpoint == "acpat":
        assert (body["id"], body["status"]) == (ctx["action"], "done")
    elif endpoint == "acread":
        assert (body["id"], body["status"]) == (ctx["action"], "open")


# Changes that could overwrite another's carry If-Match: the ETag of this resource, as the coordinator reads it.
VERSIONED = {"mpatch": M, "patchi": M, "delitm": M, "acpat": "/actions/{action}"}


def if_match(client, auth, endpoint: str, ctx: dict, relation: str) -> dict[str, str]:
    if endpoint not in VERSIONED:
        return {}
    if relation == "unknown":
        return {"If-Match": '"0-1"'}
    return {"If-Match": client.get(API + VERSIONED[endpoint].format(**ctx), headers=auth("coordinator")).headers["etag"]}


@pytest.mark.parametrize(("caller", "relation", "endpoint", "expected"), _parse(MATRIX))
def test_meeting_authorization(client, auth, app, caller, relation, endpoint, expected):
    ctx = build(client, auth, app, relation, endpoint)
    method, path, body = ENDPOINTS[endpoint]
    headers = headers_for(app, auth, caller) | if_match(client, auth, endpoint, ctx, relation)
    response = client.request(method, API + path.format(**ctx), headers=headers, json=body(ctx) if body else None)

    assert response.status_code == expected["status"], response.text
    if response.status_code < 300 and response.status_code != 204:
        body_checks(endpoint, response.json(), ctx, caller, expected)
        assert (PERSON_NAME in response.text) is (expected["agenda"] == "full" and endpoint in
                                                  ("agnd", "build", "additm", "patchi")), "person shown or hidden wrongly"
    elif response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert PERSON_NAME not in response.text
    assert last_outcome(app, response.headers["x-request-id"]) == expected["outcome"]


class TestTheChairReadsTheSignalsOfAgendaCases:
    """DESIGN.md: a chair reads the signals of the cases on the agendas they chair, and no others."""

    def _setup(self, client, auth, app):
        on_agenda = new_case(client, auth, name=PERSON_NAME)
        elsewhere = new_case(client, auth, name="Piet Bakker", bsn=None)
        meeting = plan(client, auth, app)
        item = client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": on_agenda["id"]},
                           headers=auth("chair")).json()["items"][0]
        return on_agenda["signal_id"], elsewhere["signal_id"], f"{API}/meetings/{meeting['id']}/agenda/items/{item['id']}"

    def test_read_and_list_only_those_signals_without_the_triage_matches(self, client, auth, app):
        signal, other, _ = self._setup(client, auth, app)
        response = client.get(f"{API}/signals/{signal}", headers=auth("chair"))
        assert response.status_code == 200
        assert (response.json()["view"], response.json()["matches"], response.json()["subject"]["name"]) == (
            "full", None, PERSON_NAME)
        assert last_outcome(app, response.headers["x-request-id"]) == "allowed"
        missing = client.get(f"{API}/signals/{other}", headers=auth("chair"))
        assert missing.status_code == 404 and last_outcome(app, missing.headers["x-request-id"]) == "denied"
        listed = client.get(f"{API}/signals", headers=auth("chair"))
        assert listed.status_code == 200 and [s["id"] for s in listed.json()["items"]] == [signal]

    def test_the_chair_does_not_triage(self, client, auth, app):
        signal, _, _ = self._setup(client, auth, app)
        response = client.post(f"{API}/signals/{signal}/reopen", json={"reason": "Opnieuw bekijken graag."},
                               headers=auth("chair"))
        assert response.status_code == 403 and last_outcome(app, response.headers["x-request-id"]) == "denied"

    def test_off_the_agenda_the_signal_is_not_found(self, client, auth, app):
        signal, _, item_url = self._setup(client, auth, app)
        meeting_url = item_url.split("/agenda/")[0]
        assert client.delete(item_url, headers=with_etag(client, auth("chair"), meeting_url)).status_code == 204
        assert client.get(f"{API}/signals/{signal}", headers=auth("chair")).status_code == 404
