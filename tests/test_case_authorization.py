"""Who may do what with a case: every case endpoint × every role × relationship to the case, from one table."""

import uuid

import pytest
from sqlmodel import select

from app.models import AuditEvent
from tests.db import inspect_db
from tests.factories import VALID_BSN, arnhem_coordinator, submit
from tests.matrix_table import cells

API = "/api/v1"
REASON = "Acute dreiging gemeld door de wijk; informatie is vandaag nodig voor het veiligheidsoverleg."
PERSON_NAME = "Jan de Vries"

# One row per caller and relationship to the setup case:
#   member      the caller's organisation takes part in the case (added by the coordinator if need be)
#   non_member  it does not (for the police: Politie is removed again after the setup)
#   emergency   it does not, but the caller broke the glass during the setup
#   other       the caller belongs to another municipality (Arnhem)
#   unknown     the request names a case id that does not exist
# view: how the setup case appears in the caller's case list, and in a 200 on it ("-": not at all).
# items: the setup items a 200 on GET items lists: C = the coordinator's (shared with Politie),
#   P = the police's own (shared with nobody extra); "-" = none.
# Each cell: expected status, then the outcome of the request's last audit event: a(llowed), d(enied),
#   e(mergency) or "-" (no event written).
# Columns are the ENDPOINTS below: addm adds the OM, delm removes Politie, corr corrects P, glass breaks
#   the glass, triag links a second signal to the case, earev reviews the care worker's emergency access.
MATRIX = """
caller             relation   view    items | list open read  patch hist  mems  addm  delm  items addi  corr  glass triag srch  ealst earev
coordinator        member     full    CP    | 200a 201a 200a  200a  200a  200a  201a  204a  200a  201a  403d  409-  200a  200a  403d  403d
coordinator        unknown    full    -     | 200a 201a 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  200a  403d  403d
arnhem-coordinator other      -       -     | 200a 400d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  200a  403d  403d
chair              member     -       -     | 200a 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d
police             member     partner CP    | 200a 403d 200a  403d  200a  200a  403d  403d  200a  201a  201a  409-  404d  403d  403d  403d
police             non_member -       -     | 200a 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  201e  404d  403d  403d  403d
care               member     partner -     | 200a 403d 200a  403d  200a  200a  403d  403d  200a  201a  404d  409-  404d  403d  403d  403d
care               non_member -       -     | 200a 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  201e  404d  403d  403d  403d
care               emergency  partner -     | 200e 403d 200e  403d  200e  200e  403d  403d  200e  403d  403d  409-  404d  403d  403d  403d
youthworker        member     partner -     | 200a 403d 200a  403d  200a  200a  403d  403d  200a  201a  404d  409-  404d  403d  403d  403d
youthworker        non_member -       -     | 200a 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  201e  404d  403d  403d  403d
teacher            member     -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d  403d
teacher            non_member -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d  403d
expert             member     -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d
expert             non_member -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d
privacy            member     -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  200a  200a
admin              member     -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d
arnhem-system      other      -       -     | 403d 403d 404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  404d  403d  403d  403d
"""

# endpoint: method, path, body (from the setup context)
ENDPOINTS = {
    "list": ("GET", "/cases", None),
    "open": ("POST", "/cases", lambda c: {"person_id": c["person_id"]}),
    "read": ("GET", "/cases/{case}", None),
    "patch": ("PATCH", "/cases/{case}", lambda c: {"next_review_date": "2030-01-15"}),
    "hist": ("GET", "/cases/{case}/history", None),
    "mems": ("GET", "/cases/{case}/members", None),
    "addm": ("POST", "/cases/{case}/members", lambda c: {"organisation_id": c["orgs"]["OM"]}),
    "delm": ("DELETE", "/cases/{case}/members/{police_org}", None),
    "items": ("GET", "/cases/{case}/items", None),
    "addi": ("POST", "/cases/{case}/items", lambda c: item_body("Nieuwe informatie.")),
    "corr": ("POST", "/cases/{case}/items/{police_item}/corrections",
             lambda c: {"text": "Gecorrigeerde tekst.", "reason": "Datum en bron waren onjuist."}),
    "glass": ("POST", "/cases/{case}/emergency-access", lambda c: {"reason": REASON}),
    "triag": ("POST", "/signals/{triage_signal}/triage",
              lambda c: {"outcome": "link_to_case", "case_id": c["case"]}),
    "srch": ("POST", "/persons/search", lambda c: {"bsn": VALID_BSN}),
    "ealst": ("GET", "/emergency-accesses", None),
    "earev": ("POST", "/emergency-accesses/{ea}/review", lambda c: {"outcome": "approved", "note": "Terecht."}),
}
# The organisation each demo user acts for (all of Utrecht's network, except the Arnhem callers).
ORG_OF = {"coordinator": "UTR", "chair": "UTR", "privacy": "UTR", "admin": "UTR", "police": "POL", "care": "GGZ",
          "youthworker": "JOU", "teacher": "SOU", "expert": "DPO", "arnhem-coordinator": "ARN", "arnhem-system": "ARN"}


def _parse(matrix: str) -> list:
    rows = []
    for (caller, relation, view, items), endpoint, status, outcome in cells(matrix, ENDPOINTS):
        expected = {"status": status, "outcome": outcome, "view": None if view == "-" else view,
                    "items": set() if items == "-" else set(items)}
        rows.append(pytest.param(caller, relation, endpoint, expected, id=f"{endpoint}-{caller}-{relation}-{status}"))
    return rows


def item_body(text: str, shared_with: list | None = None) -> dict:
    body = {"kind": "other", "text": text, "source": "Gesprek", "date": "2025-01-10"}
    return body | ({"shared_with": shared_with} if shared_with is not None else {})


def headers_for(app, auth, caller: str) -> dict[str, str]:
    if caller == "arnhem-system":
        return auth.client("arnhem-system")
    if caller == "arnhem-coordinator":
        return arnhem_coordinator(app, auth)
    return auth(caller)


def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def build(client, auth, caller: str, relation: str, endpoint: str) -> dict:
    """The teacher's signal becomes a case with Politie taking part and two items in it; then the
    caller's relationship to it is arranged. Returns the ids the endpoints need."""
    coordinator = auth("coordinator")
    signal = submit(client, auth("teacher"))["id"]
    ok(client.post(f"{API}/signals/{signal}/triage", json={"outcome": "new_case"}, headers=coordinator))
    case = ok(client.get(f"{API}/signals/{signal}", headers=coordinator))["case_id"]
    orgs = {o["code"]: o["id"] for o in ok(client.get(f"{API}/organisations", headers=coordinator))["items"]}
    members = f"{API}/cases/{case}/members"
    ok(client.post(members, json={"organisation_id": orgs["POL"]}, headers=coordinator), 201)
    ctx = {"case": case, "real_case": case, "orgs": orgs, "police_org": orgs["POL"], "ea": None, "triage_signal": signal}
    if relation == "emergency" or endpoint in ("ealst", "earev"):
        ctx["ea"] = ok(client.post(f"{API}/cases/{case}/emergency-access", json={"reason": REASON},
                                   headers=auth("care")), 201)["id"]
    if relation == "member" and ORG_OF[caller] not in ("UTR", "POL"):
        ok(client.post(members, json={"organisation_id": orgs[ORG_OF[caller]]}, headers=coordinator), 201)
    items = f"{API}/cases/{case}/items"
    ctx["coordinator_item"] = ok(client.post(items, json=item_body("Van de gemeente.", [orgs["POL"]]),
                                             headers=coordinator), 201)["id"]
    ctx["police_item"] = ok(client.post(items, json=item_body("Van de politie."), headers=auth("police")), 201)["id"]
    if caller == "police" and relation == "non_member":
        ok(client.delete(f"{members}/{orgs['POL']}", headers=coordinator), 204)
    if endpoint == "triag":  # a second signal about the same person, to link to the case
        ctx["triage_signal"] = submit(client, auth("teacher"))["id"]
    read = client.get(f"{API}/cases/{case}", headers=coordinator)
    ctx["etag"], ctx["person_id"] = read.headers["etag"], read.json()["person"]["id"]
    if relation == "unknown":
        ctx["case"] = str(uuid.uuid4())
    return ctx


def last_outcome(app, trace_id: str) -> str | None:
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id)
                             .order_by(AuditEvent.seq.desc())).first()
        return event.outcome if event else None


def check_case(case: dict, view: str, emergency: bool = False) -> None:
    assert case["view"] == view
    assert case["emergency_access"] is emergency
    person = case["person"]
    assert person["name"] == PERSON_NAME
    if view == "full":
        assert person["bsn"] == VALID_BSN and "address" in person
    else:
        assert "bsn" not in person and "address" not in person


def body_checks(endpoint: str, body, ctx: dict, caller: str, relation: str, expected: dict) -> list:
    """(ok, message) pairs for what a successful response shows."""
    view, emergency = expected["view"], relation == "emergency"
    labels = {ctx["coordinator_item"]: "C", ctx["police_item"]: "P"}
    if endpoint == "list":
        shown = [c["id"] for c in body["items"]]
        assert shown == ([ctx["real_case"]] if view else [])
        for case in body["items"]:
            check_case(case, view, emergency)
    elif endpoint in ("read", "patch"):
        assert body["id"] == ctx["case"]
        check_case(body, view, emergency)
    elif endpoint == "open":
        check_case(body, "full")
        assert body["id"] != ctx["real_case"]
    elif endpoint == "hist":
        assert "created" in [h["change"] for h in body["items"]] and body["next_cursor"] is None
        named = {h["details"]["item_id"] for h in body["items"] if "item_id" in h["details"]}
        seen = {i for i, label in labels.items() if label in expected["items"]}
        return [(named <= seen, f"history names items {named - seen} the caller may not see")]
    elif endpoint == "mems":
        assert {m["organisation_id"] for m in body["items"]} == {ctx["orgs"]["UTR"], ctx["orgs"]["POL"]} | (
            {ctx["orgs"][ORG_OF[caller]]} if relation == "member" else set())
    elif endpoint == "addm":
        assert body["organisation_id"] == ctx["orgs"]["OM"]
    elif endpoint == "items":
        assert {labels[i["id"]] for i in body["items"]} == expected["items"]
    elif endpoint == "addi":
        assert body["contributor_organisation_id"] == ctx["orgs"][ORG_OF[caller]]
    elif endpoint == "corr":
        assert (body["id"], body["version"], len(body["previous_versions"])) == (ctx["police_item"], 2, 1)
    elif endpoint == "glass":
        assert body["case_id"] == ctx["case"] and body["review_status"] == "pending"
    elif endpoint == "triag":
        assert (body["status"], body["case_id"]) == ("linked_to_case", ctx["case"])
    elif endpoint == "srch":
        assert [p["id"] for p in body["items"]] == ([ctx["person_id"]] if view else [])
    elif endpoint == "ealst":
        assert [e["id"] for e in body["items"]] == [ctx["ea"]]
        assert all("person" not in e for e in body["items"])
    elif endpoint == "earev":
        assert (body["id"], body["review_status"]) == (ctx["ea"], "approved")
    return []


@pytest.mark.parametrize(("caller", "relation", "endpoint", "expected"), _parse(MATRIX))
def test_case_authorization(client, auth, app, caller, relation, endpoint, expected):
    ctx = build(client, auth, caller, relation, endpoint)
    method, path, body = ENDPOINTS[endpoint]
    headers = headers_for(app, auth, caller) | ({"If-Match": ctx["etag"]} if endpoint == "patch" else {})
    response = client.request(method, API + path.format(**ctx), headers=headers,
                              json=body(ctx) if body else None)

    assert response.status_code == expected["status"], response.text
    checks = []
    if response.status_code < 300 and response.status_code != 204:
        checks += body_checks(endpoint, response.json(), ctx, caller, relation, expected)
    elif response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert PERSON_NAME not in response.text and VALID_BSN not in response.text
    outcome = last_outcome(app, response.headers["x-request-id"])
    checks.append((outcome == expected["outcome"], f"last audit event: {outcome}, expected {expected['outcome']}"))

    failed = [message for passed, message in checks if not passed]
    assert not failed, failed
