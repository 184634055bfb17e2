"""Who may use which web page, as every kind of user, signed in through the login page (a real session
cookie and its CSRF token), from one table.

The pages go through the same policies as the API, so the statuses mirror the API's rows in
tests/test_route_authorization.py: 303 after a form is the API's 200 or 201, and 303 for an anonymous
visitor is the login page. Every refusal to a signed-in user wrote a `denied` audit event and changed
nothing; no page shows the BSN of the case's person (the pages never show a BSN).
A permitted form runs against a fresh meeting or action, so the shared records stay as built.
"""

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import select

from app.models import AuditEvent, Role
from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.db import inspect_db
from tests.factories import VALID_BSN, arnhem_user
from tests.meeting_helpers import plan
from tests.web_helpers import browser, hidden, log_in

ARNHEM_PASSWORD = "arnhem-password-123"
CALLERS = {"anon": None, "melder": "teacher", "attending": "care", "member": "police", "coord": "coordinator",
           "chair": "chair", "expert": "expert", "privacy": "privacy", "admin": "admin",
           "acoord": "arnhem-coordinator", "achair": "arnhem-chair"}
RUNS = "303  404    403       403    303   303   404    404     404   404    404"
TABLE = f"""
route                                                   anon melder attending member coord chair expert privacy admin acoord achair
GET /app/vergaderingen                                  303  403    200       200    200   200   403    403     403   200    200
GET /app/vergaderingen/{{id}}                             303  404    200       200    200   200   404    404     404   404    404
GET /app/vergaderingen/{{id}}/notulen                     303  404    200       200    200   200   404    404     404   404    404
POST /app/vergaderingen/{{id}}/starten                    {RUNS}
POST /app/vergaderingen/{{id}}/sluiten                    {RUNS}
POST /app/vergaderingen/{{id}}/punten/{{item_id}}           {RUNS}
POST /app/vergaderingen/{{id}}/punten/{{item_id}}/afspraken {RUNS}
GET /app/afspraken                                      303  403    200       200    200   403   403    403     403   200    403
POST /app/afspraken/{{id}}                                303  404    404       303    303   403   404    404     404   404    404
"""
EXPECTED = {" ".join(line.split()[:2]): dict(zip(CALLERS, line.split()[2:], strict=True))
            for line in TABLE.strip().splitlines()[1:]}
# The state a permitted form needs its record in, and what it sends.
FORMS = {
    "POST /app/vergaderingen/{id}/starten": ("planned", {}),
    "POST /app/vergaderingen/{id}/sluiten": ("in_progress", {}),
    "POST /app/vergaderingen/{id}/punten/{item_id}": ("in_progress", {"notulen": "Besproken.",
                                                                      "besluit": "continue_approach"}),
    "POST /app/vergaderingen/{id}/punten/{item_id}/afspraken": ("in_progress", {"omschrijving": "Huisbezoek",
                                                                                "uiterlijk": "2099-01-31"}),
    "POST /app/afspraken/{id}": ("action", {"uitkomst": "done", "toelichting": "Gedaan."}),
}
WEB_PREFIXES = ("/app/vergaderingen", "/app/afspraken")


def test_every_page_that_touches_case_data_is_in_the_table(app):
    routes = {f"{method} {c.path}" for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)
              and c.path.startswith(WEB_PREFIXES) for method in c.methods}
    assert routes == set(EXPECTED)


class Records:
    """A Utrecht case police takes part in, on the agenda of a meeting chaired by `chair` (police and GGZ
    attend), and an action police owns; fresh copies for permitted forms."""

    def __init__(self, client, auth, app) -> None:
        self.client, self.auth, self.app = client, auth, app
        self.case = new_case(client, auth, name="Jan Gedeeld")
        add_member(client, auth, self.case["id"], "POL")
        self.police = organisation_id(client, auth("coordinator"), "POL")

    def meeting(self, state: str = "planned") -> dict:
        meeting = plan(self.client, self.auth, self.app, hours=48)
        agenda = self.client.post(f"{API}/meetings/{meeting['id']}/agenda/items", headers=self.auth("chair"),
                                  json={"case_id": self.case["id"]}).json()
        if state == "in_progress":
            etag = self.client.get(f"{API}/meetings/{meeting['id']}", headers=self.auth("chair")).headers["etag"]
            self.client.patch(f"{API}/meetings/{meeting['id']}", json={"status": "in_progress"},
                              headers=self.auth("chair") | {"If-Match": etag})
        return {"id": meeting["id"], "item_id": agenda["items"][0]["id"]}

    def action(self) -> dict:
        action = self.client.post(f"{API}/cases/{self.case['id']}/actions", headers=self.auth("coordinator"), json={
            "description": "Gesprek", "owner_organisation_id": self.police, "due_date": "2099-01-31"}).json()
        return {"id": action["id"]}

    def state(self, ids: dict) -> tuple:
        """What a refused form must leave as it was."""
        meeting = self.client.get(f"{API}/meetings/{ids['id']}/agenda", headers=self.auth("chair"))
        if meeting.status_code == 200:
            agenda = meeting.json()
            return agenda["meeting"]["status"], meeting.headers["etag"], [i.get("minutes") for i in agenda["items"]]
        return (self.client.get(f"{API}/actions/{ids['id']}", headers=self.auth("police")).json(),)


@pytest.fixture(scope="module")
def sessions(app, auth):
    """One signed-in browser per caller, kept for the module (their sessions outlive the tests' records)."""
    arnhem_user(app, auth, "arnhem-coordinator", "Regisseur Arnhem", Role.coordinator)
    arnhem_user(app, auth, "arnhem-chair", "Voorzitter Arnhem", Role.chair)
    signed_in = {}
    for caller, username in CALLERS.items():
        visitor = browser(app)
        if username:
            password = ARNHEM_PASSWORD if username.startswith("arnhem") else None
            response = log_in(visitor, username, **({"password": password} if password else {}))
            assert response.status_code == 303, response.text
        signed_in[caller] = visitor
    return signed_in


def _path(route: str, ids: dict) -> str:
    return route.split(" ", 1)[1].replace("{id}", ids["id"]).replace("{item_id}", ids.get("item_id", ""))


def _post(visitor, route: str, ids: dict, fields: dict, owner: str):
    """The form as the page would post it, with this session's CSRF token (every page's logout form has it)."""
    csrf = hidden(visitor.get("/app/vergaderingen").text, "csrf") if visitor.cookies.get("casus_sessie") else ""
    data = {"csrf": csrf, **fields}
    if "afspraken" in route and "punten" in route:
        data["eigenaar"] = owner
    if "etag" not in data:
        data["etag"] = '"stale"'
    return visitor.post(_path(route, ids), data=data, follow_redirects=False)


def _denied_event_written(app, trace_id: str) -> bool:
    with inspect_db(app) as session:
        return bool(session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id,
                                                          AuditEvent.outcome == "denied")).all())


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_each_caller_gets_what_the_table_says(app, client, auth, sessions, route):
    records = Records(client, auth, app)
    shared = records.meeting()  # also opens the chair's window on the case, as in the API's matrix
    shared = records.action() if route.startswith("POST /app/afspraken") else shared
    for caller, expected in EXPECTED[route].items():
        visitor = sessions[caller]
        permitted_form = route.startswith("POST") and expected == "303" and caller != "anon"
        if permitted_form:
            state, fields = FORMS[route]
            ids = records.action() if state == "action" else records.meeting(state)
            fields = fields | {"etag": _etag(client, auth, route, ids)}
        else:
            ids, fields = shared, FORMS.get(route, (None, {}))[1]
        before = records.state(ids)
        response = (_post(visitor, route, ids, fields, records.police) if route.startswith("POST")
                    else visitor.get(_path(route, ids), follow_redirects=False))
        assert str(response.status_code) == expected, f"{route} as {caller}: {response.status_code}"
        assert VALID_BSN not in response.text
        if caller == "anon":
            assert response.headers["location"].startswith("/app/inloggen")
        if not permitted_form and route.startswith("POST"):
            assert records.state(ids) == before, f"{route} as {caller} changed something"
        if caller != "anon" and response.status_code in (403, 404):
            assert _denied_event_written(app, response.headers["x-request-id"]), f"{route} as {caller}: no audit"


def _etag(client, auth, route: str, ids: dict) -> str:
    if route.startswith("POST /app/afspraken"):
        return client.get(f"{API}/actions/{ids['id']}", headers=auth("police")).headers["etag"]
    return client.get(f"{API}/meetings/{ids['id']}", headers=auth("chair")).headers["etag"]


def test_the_attending_partner_sees_the_case_as_a_placeholder(app, client, auth, sessions):
    records = Records(client, auth, app)
    page = sessions["attending"].get(f"/app/vergaderingen/{records.meeting()['id']}").text
    assert "Jan Gedeeld" not in page and re.search(r"Afgeschermd: uw organisatie", page)
