"""Who may do what with a referral: every referral endpoint × role, scope and relationship, from one table."""

import uuid

import pytest
from sqlmodel import select

from app.models import AuditEvent
from tests.db import inspect_db
from tests.factories import arnhem_coordinator
from tests.matrix_table import cells
from tests.meeting_helpers import plan
from tests.referral_helpers import (
    API,
    case_with_items,
    inbound_body,
    link_arnhem,
    ok,
    refer,
)

# One row per caller and relationship to the referral under test (the "target"):
#   sender      the coordinator who made it
#   unknown     the request names a referral id that does not exist
#   recipient   the caller's organisation receives it (GGZ; the expert pool for the expert; Arnhem's
#               system for a referral to Arnhem), while it is open
#   ended       as recipient, after the referral was completed
#   member      a partner whose organisation takes part in the case, but is not the recipient
#   agenda      the chair of a meeting with the case on its agenda (reads, changes nothing)
#   other       another partner, another municipality, or a role without referrals
# received: how many referrals GET /referrals?direction=received shows on a 200.
# Each cell: expected status, then the outcome of the request's last audit event: a(llowed),
#   d(enied) or "-" (no event written).
MATRIX = """
caller             relation  received | create lsent lrecv read accept decline complete withdraw inbound
coordinator        sender    0        | 201a   200a  200a  200a 403d   403d    403d     200a     403d
coordinator        unknown   0        | 201a   200a  200a  404d 404d   404d    404d     404d     403d
care               recipient 1        | 403d   403d  200a  200a 200a   200a    200a     403d     403d
care               ended     0        | 403d   403d  200a  404d 404d   404d    404d     404d     403d
expert             recipient 1        | 403d   403d  200a  200a 200a   200a    200a     403d     403d
expert             ended     0        | 403d   403d  200a  404d 404d   404d    404d     404d     403d
arnhem-system      recipient 1        | 403d   403d  200a  200a 200a   200a    200a     403d     201a
police             member    0        | 403d   403d  200a  404d 404d   404d    404d     404d     403d
youthworker        other     0        | 403d   403d  200a  404d 404d   404d    404d     404d     403d
arnhem-coordinator other     0        | 404d   200a  200a  404d 404d   404d    404d     404d     403d
arnhem-system      other     1        | 403d   403d  200a  404d 404d   404d    404d     404d     201a
arnhem-noscope     other     0        | 403d   403d  403d  404d 404d   404d    404d     404d     403d
chair              agenda    0        | 403d   200a  403d  200a 403d   403d    403d     403d     403d
chair              other     0        | 403d   200a  403d  404d 404d   404d    404d     404d     403d
privacy            other     0        | 403d   403d  403d  404d 404d   404d    404d     404d     403d
admin              other     0        | 403d   403d  403d  404d 404d   404d    404d     404d     403d
teacher            other     0        | 403d   403d  403d  404d 404d   404d    404d     404d     403d
anonymous          other     0        | 401-   401-  401-  401- 401-   401-    401-     401-     401-
"""

NOTE = {"note": "Besproken in het team."}
# endpoint: method, path, body (from the setup context)
ENDPOINTS = {
    "create": ("POST", "/cases/{case}/referrals", lambda c: c["create_body"]),
    "lsent": ("GET", "/referrals?direction=sent", None),
    "lrecv": ("GET", "/referrals?direction=received", None),
    "read": ("GET", "/referrals/{target}", None),
    "accept": ("POST", "/referrals/{target}/accept", lambda c: NOTE),
    "decline": ("POST", "/referrals/{target}/decline", lambda c: NOTE),
    "complete": ("POST", "/referrals/{target}/complete", lambda c: NOTE | c["assessment"]),
    "withdraw": ("POST", "/referrals/{target}/withdraw", lambda c: NOTE),
    "inbound": ("POST", "/inbound-referrals", lambda c: inbound_body()),
}
RECIPIENT_OF = {"expert": "DPO", "arnhem-system": "ARN"}


def _parse(matrix: str) -> list:
    rows = []
    for (caller, relation, received), endpoint, status, outcome in cells(matrix, ENDPOINTS):
        expected = {"status": status, "outcome": outcome, "received": int(received)}
        rows.append(pytest.param(caller, relation, endpoint, expected, id=f"{endpoint}-{caller}-{relation}-{status}"))
    return rows


def headers_for(app, auth, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "arnhem-system":
        return auth.client("arnhem-system")
    if caller == "arnhem-noscope":
        return auth.client("arnhem-system", [])
    if caller == "arnhem-coordinator":
        return arnhem_coordinator(app, auth)
    return auth(caller)


def _close(client, auth, target: str, recipient: str) -> None:
    headers = auth("expert" if recipient == "DPO" else "care")
    ok(client.post(f"{API}/referrals/{target}/accept", json={}, headers=headers))
    assessment = {"assessment": "Geen verdere zorgen."} if recipient == "DPO" else {}
    ok(client.post(f"{API}/referrals/{target}/complete", json=assessment, headers=headers))


def build(client, auth, app, caller: str, relation: str, endpoint: str) -> dict:
    """A case with two items and Politie taking part; referrals from it to GGZ, the expert pool and
    Arnhem (linked). The target is the one addressed to the caller's organisation (GGZ otherwise)."""
    link_arnhem(app)
    case = case_with_items(client, auth)
    recipient = RECIPIENT_OF.get(caller, "GGZ") if relation in ("recipient", "ended") else "GGZ"
    referrals = {code: refer(client, auth, case, code, shared_item_ids=[case["shared_item"]])["id"]
                 for code in ("GGZ", "DPO", "ARN")}
    target = referrals[recipient]
    if relation == "agenda":
        meeting = plan(client, auth, app)
        ok(client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": case["id"]},
                       headers=auth("coordinator")), 201)
    if relation == "ended":
        _close(client, auth, target, recipient)
    elif endpoint == "complete":
        headers = {"DPO": auth("expert"), "ARN": auth.client("arnhem-system")}.get(recipient, auth("care"))
        ok(client.post(f"{API}/referrals/{target}/accept", json={}, headers=headers))
    create_body = {"recipient_organisation_id": ok(client.get(f"{API}/referrals/{target}", headers=auth(
        "coordinator")))["recipient_organisation_id"], "purpose": "Nog een verwijzing.", "legal_basis": "consent",
        "shared_fields": ["name", "date_of_birth"]}
    return {"case": case["id"], "target": str(uuid.uuid4()) if relation == "unknown" else target,
            "assessment": {"assessment": "Laag risico."} if recipient == "DPO" else {}, "create_body": create_body,
            "name": case["person"]["name"]}


def last_outcome(app, trace_id: str) -> str | None:
    with inspect_db(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id)
                             .order_by(AuditEvent.seq.desc())).first()
        return event.outcome if event else None


def body_checks(endpoint: str, body, ctx: dict, caller: str, relation: str, expected: dict) -> None:
    if endpoint == "lrecv":
        assert len(body["items"]) == expected["received"]
        for item in body["items"]:
            assert item["view"] == ("coordinator" if caller == "coordinator" else "recipient")
    elif endpoint == "lsent":
        assert len(body["items"]) == (3 if caller == "coordinator" or relation == "agenda" else 0)
    elif endpoint == "read":
        assert body["id"] == ctx["target"]
        assert body["view"] == {"sender": "coordinator", "agenda": "chair"}.get(relation, "recipient")
        assert body["subject"]["name"] == ctx["name"] and body["subject"]["bsn"] is None
    elif endpoint in ("accept", "decline", "complete", "withdraw"):
        assert body["status"] == {"accept": "accepted", "decline": "declined", "complete": "completed",
                                  "withdraw": "withdrawn"}[endpoint]
    elif endpoint == "create":
        assert body["status"] == "sent" and body["view"] == "coordinator"
    elif endpoint == "inbound":
        assert set(body) == {"id", "sender_reference", "status", "created_at"}


@pytest.mark.parametrize(("caller", "relation", "endpoint", "expected"), _parse(MATRIX))
def test_referral_authorization(client, auth, app, caller, relation, endpoint, expected):
    ctx = build(client, auth, app, caller, relation, endpoint)
    method, path, body = ENDPOINTS[endpoint]
    response = client.request(method, API + path.format(**ctx), headers=headers_for(app, auth, caller),
                              json=body(ctx) if body else None)

    assert response.status_code == expected["status"], response.text
    if response.status_code < 300:
        body_checks(endpoint, response.json(), ctx, caller, relation, expected)
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert ctx["name"] not in response.text
    assert last_outcome(app, response.headers["x-request-id"]) == expected["outcome"]
