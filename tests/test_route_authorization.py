"""Who may call what: every route of the app × every kind of caller × relationship, from one table.

The routes come from `app.routes`, so a route missing from TABLE fails `test_every_route_is_in_the_table`
with its name. To add a route:
  1. give it a REQUESTS entry: the kind of record its path names (a KINDS key; none if it names no
     record) and the body a permitted caller would send. A new kind of record gets a KINDS entry
     and its records in BUILDERS (tests/authz_world.py);
  2. add its rows to TABLE: one row per relationship its kind has (`-` if it names no record), one
     status per caller column. `-` marks a relationship the caller cannot have (see `relation_key`).

Callers (columns): anonymous, melder (teacher), partner (care, GGZ), coordinator, chair, expert,
privacy (privacy officer), admin, client (Arnhem's system, an API client of another municipality).
Relationships, seen from the caller's organisation (the records are described in tests/authz_world.py):
  own  case-bound records: its organisation takes part in the case (the municipality: it runs it; the
       chair: it is on the agenda of a meeting they chair); meetings: its organisation attends (the
       chair: chairs it; the municipality: its meeting); signals: the caller reported it (the
       municipality's staff: it was reported to them); actions: its organisation owns the action;
       referrals: it is addressed to its organisation (the municipality's staff: received from
       Arnhem's registry); subscriptions: its organisation's
  org  the same municipality, but another organisation's case, meeting, signal, action, referral or
       subscription (the chair: a case not on their agenda, a meeting they do not chair)
  mun  another municipality's record (Utrecht's callers: Arnhem's; Arnhem's client: Utrecht's)
Some kinds have one more:
  case (actions)    another organisation's action in a case the caller's organisation takes part in
  sent (referrals)  its organisation sent the referral (Utrecht's: from case M; Arnhem's: into Utrecht)
Arnhem has no partners to refer to, so no referral is Arnhem's own: `mun` reaches only Arnhem's client.
Every denial is checked to be a problem document that changed no record; a 403 or 404 to an
authenticated caller must also have written an audit event with outcome `denied`. A permitted request
that changes something runs against a fresh copy of its record, so the shared records stay as built.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models import AuditEvent
from tests.authz_world import (
    CALLBACK,
    DUE,
    NO_ACTION,
    PAST,
    REASON,
    World,
    item_body,
    records,
)
from tests.conftest import PASSWORD, empty_mutable_tables
from tests.db import inspect_db
from tests.factories import VALID_BSN, signal_body
from tests.meeting_helpers import user_id

CALLERS = {"anon": None, "melder": "teacher", "partner": "care", "coord": "coordinator", "chair": "chair",
           "expert": "expert", "privacy": "privacy", "admin": "admin", "client": "arnhem-system"}
MUNICIPALITY_STAFF = {"coord", "chair", "privacy", "admin"}
RELATIONS = ("own", "org", "mun")
NOTE = {"note": "Besproken in het team."}

TABLE = """
route                                                              rel  anon melder partner coord chair expert privacy admin client
GET /health                                                        -    200  200    200     200   200   200    200     200   200
GET /ready                                                         -    200  200    200     200   200   200    200     200   200
GET /.well-known/jwks.json                                         -    200  200    200     200   200   200    200     200   200
GET /openapi.json                                                  -    200  200    200     200   200   200    200     200   200
GET /docs                                                          -    200  200    200     200   200   200    200     200   200
POST /api/v1/auth/token                                            -    200  200    200     200   200   200    200     200   200
GET /api/v1/auth/me                                                -    401  200    200     200   200   200    200     200   200
POST /api/v1/signals                                               -    401  201    403     403   403   403    403     403   201
GET /api/v1/signals                                                -    401  200    403     200   200   403    403     403   200
GET /api/v1/signals/{id}                                           own  -    200    -       200   404   -      404     404   200
GET /api/v1/signals/{id}                                           org  401  404    404     -     -     404    -       -     -
GET /api/v1/signals/{id}                                           mun  401  404    404     404   404   404    404     404   404
POST /api/v1/signals/{id}/triage                                   own  -    403    -       200   404   -      404     404   403
POST /api/v1/signals/{id}/triage                                   org  401  404    404     -     -     404    -       -     -
POST /api/v1/signals/{id}/triage                                   mun  401  404    404     404   404   404    404     404   404
POST /api/v1/signals/{id}/reopen                                   own  -    403    -       200   404   -      404     404   403
POST /api/v1/signals/{id}/reopen                                   org  401  404    404     -     -     404    -       -     -
POST /api/v1/signals/{id}/reopen                                   mun  401  404    404     404   404   404    404     404   404
POST /api/v1/persons/search                                        -    401  403    403     200   403   403    403     403   403
POST /api/v1/cases                                                 -    401  403    403     201   403   403    403     403   403
GET /api/v1/cases                                                  -    401  403    200     200   200   403    403     403   403
GET /api/v1/cases/{id}                                             own  401  404    200     200   200   404    404     404   404
GET /api/v1/cases/{id}                                             org  401  404    404     -     404   404    -       -     -
GET /api/v1/cases/{id}                                             mun  401  404    404     404   404   404    404     404   404
PATCH /api/v1/cases/{id}                                           own  401  404    403     200   403   404    404     404   404
PATCH /api/v1/cases/{id}                                           org  401  404    404     -     404   404    -       -     -
PATCH /api/v1/cases/{id}                                           mun  401  404    404     404   404   404    404     404   404
GET /api/v1/cases/{id}/history                                     own  401  404    200     200   200   404    404     404   404
GET /api/v1/cases/{id}/history                                     org  401  404    404     -     404   404    -       -     -
GET /api/v1/cases/{id}/history                                     mun  401  404    404     404   404   404    404     404   404
GET /api/v1/cases/{id}/members                                     own  401  404    200     200   200   404    404     404   404
GET /api/v1/cases/{id}/members                                     org  401  404    404     -     404   404    -       -     -
GET /api/v1/cases/{id}/members                                     mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/members                                    own  401  404    403     201   403   404    404     404   404
POST /api/v1/cases/{id}/members                                    org  401  404    404     -     404   404    -       -     -
POST /api/v1/cases/{id}/members                                    mun  401  404    404     404   404   404    404     404   404
DELETE /api/v1/cases/{id}/members/{organisation_id}                own  401  404    403     204   403   404    404     404   404
DELETE /api/v1/cases/{id}/members/{organisation_id}                org  401  404    404     -     404   404    -       -     -
DELETE /api/v1/cases/{id}/members/{organisation_id}                mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/emergency-access                           own  401  404    409     409   403   404    404     404   404
POST /api/v1/cases/{id}/emergency-access                           org  401  404    201     -     404   404    -       -     -
POST /api/v1/cases/{id}/emergency-access                           mun  401  404    404     404   404   404    404     404   404
GET /api/v1/cases/{id}/items                                       own  401  404    200     200   200   404    404     404   404
GET /api/v1/cases/{id}/items                                       org  401  404    404     -     404   404    -       -     -
GET /api/v1/cases/{id}/items                                       mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/items                                      own  401  404    201     201   403   404    404     404   404
POST /api/v1/cases/{id}/items                                      org  401  404    404     -     404   404    -       -     -
POST /api/v1/cases/{id}/items                                      mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/items/{item_id}/corrections                own  401  404    201     403   403   404    404     404   404
POST /api/v1/cases/{id}/items/{item_id}/corrections                org  401  404    404     -     404   404    -       -     -
POST /api/v1/cases/{id}/items/{item_id}/corrections                mun  401  404    404     404   404   404    404     404   404
GET /api/v1/organisations                                          -    401  200    200     200   200   200    200     200   200
GET /api/v1/emergency-accesses                                     -    401  403    403     403   403   403    200     403   403
POST /api/v1/emergency-accesses/{id}/review                        own  401  403    403     403   403   403    200     403   -
POST /api/v1/emergency-accesses/{id}/review                        org  401  403    403     -     403   403    -       -     -
POST /api/v1/emergency-accesses/{id}/review                        mun  -    -      -       -     -     -      -       -     403
GET /api/v1/audit-events                                           -    401  403    403     403   403   403    200     403   403
GET /api/v1/persons/{id}/access-report                             own  401  403    403     403   403   403    200     403   403
GET /api/v1/persons/{id}/access-report                             org  401  403    403     -     403   403    -       -     -
GET /api/v1/persons/{id}/access-report                             mun  401  403    403     403   403   403    404     403   403
GET /api/v1/statistics                                             -    401  403    403     200   403   403    200     403   403
GET /api/v1/meetings                                               -    401  403    200     200   200   403    403     403   403
POST /api/v1/meetings                                              -    401  403    403     201   201   403    403     403   403
GET /api/v1/meetings/{id}                                          own  401  404    200     200   200   404    404     404   404
GET /api/v1/meetings/{id}                                          org  401  404    404     -     404   404    -       -     -
GET /api/v1/meetings/{id}                                          mun  401  404    404     404   404   404    404     404   404
PATCH /api/v1/meetings/{id}                                        own  401  404    403     200   200   404    404     404   404
PATCH /api/v1/meetings/{id}                                        org  401  404    404     -     404   404    -       -     -
PATCH /api/v1/meetings/{id}                                        mun  401  404    404     404   404   404    404     404   404
GET /api/v1/meetings/{id}/agenda                                   own  401  404    200     200   200   404    404     404   404
GET /api/v1/meetings/{id}/agenda                                   org  401  404    404     -     404   404    -       -     -
GET /api/v1/meetings/{id}/agenda                                   mun  401  404    404     404   404   404    404     404   404
POST /api/v1/meetings/{id}/agenda/build                            own  401  404    403     200   200   404    404     404   404
POST /api/v1/meetings/{id}/agenda/build                            org  401  404    404     -     404   404    -       -     -
POST /api/v1/meetings/{id}/agenda/build                            mun  401  404    404     404   404   404    404     404   404
POST /api/v1/meetings/{id}/agenda/items                            own  401  404    403     201   201   404    404     404   404
POST /api/v1/meetings/{id}/agenda/items                            org  401  404    404     -     404   404    -       -     -
POST /api/v1/meetings/{id}/agenda/items                            mun  401  404    404     404   404   404    404     404   404
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 own  401  404    403     200   200   404    404     404   404
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 org  401  404    404     -     404   404    -       -     -
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 mun  401  404    404     404   404   404    404     404   404
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                own  401  404    403     204   204   404    404     404   404
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                org  401  404    404     -     404   404    -       -     -
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                mun  401  404    404     404   404   404    404     404   404
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          own  401  404    403     201   201   404    404     404   404
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          org  401  404    404     -     404   404    -       -     -
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/closure-proposals                          own  401  404    403     201   403   404    404     404   404
POST /api/v1/cases/{id}/closure-proposals                          org  401  404    404     -     404   404    -       -     -
POST /api/v1/cases/{id}/closure-proposals                          mun  401  404    404     404   404   404    404     404   404
GET /api/v1/cases/{id}/actions                                     own  401  404    200     200   200   404    404     404   404
GET /api/v1/cases/{id}/actions                                     org  401  404    404     -     404   404    -       -     -
GET /api/v1/cases/{id}/actions                                     mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/actions                                    own  401  404    403     201   201   404    404     404   404
POST /api/v1/cases/{id}/actions                                    org  401  404    404     -     404   404    -       -     -
POST /api/v1/cases/{id}/actions                                    mun  401  404    404     404   404   404    404     404   404
GET /api/v1/actions                                                -    401  403    200     200   403   403    403     403   403
GET /api/v1/actions/{id}                                           own  -    404    200     200   200   404    404     404   404
GET /api/v1/actions/{id}                                           case 401  404    200     200   200   404    404     404   -
GET /api/v1/actions/{id}                                           org  401  404    404     -     404   404    -       -     -
GET /api/v1/actions/{id}                                           mun  401  404    404     404   404   404    404     404   404
PATCH /api/v1/actions/{id}                                         own  -    404    200     200   403   404    404     404   404
PATCH /api/v1/actions/{id}                                         case 401  404    403     200   403   404    404     404   -
PATCH /api/v1/actions/{id}                                         org  401  404    404     -     404   404    -       -     -
PATCH /api/v1/actions/{id}                                         mun  401  404    404     404   404   404    404     404   404
POST /api/v1/cases/{id}/referrals                                  own  401  403    403     201   403   403    403     403   403
POST /api/v1/cases/{id}/referrals                                  org  401  403    403     -     403   403    -       -     -
POST /api/v1/cases/{id}/referrals                                  mun  401  403    403     404   403   403    403     403   403
GET /api/v1/referrals                                              -    401  403    200     200   200   200    403     403   200
GET /api/v1/referrals/{id}                                         own  -    404    200     200   404   200    404     404   200
GET /api/v1/referrals/{id}                                         sent -    -      -       200   200   -      404     404   404
GET /api/v1/referrals/{id}                                         org  401  404    404     -     404   404    -       -     -
GET /api/v1/referrals/{id}                                         mun  -    -      -       -     -     -      -       -     404
POST /api/v1/referrals/{id}/accept                                 own  -    404    200     200   404   200    404     404   200
POST /api/v1/referrals/{id}/accept                                 sent -    -      -       403   403   -      404     404   403
POST /api/v1/referrals/{id}/accept                                 org  401  404    404     -     404   404    -       -     -
POST /api/v1/referrals/{id}/accept                                 mun  -    -      -       -     -     -      -       -     404
POST /api/v1/referrals/{id}/decline                                own  -    404    200     200   404   200    404     404   200
POST /api/v1/referrals/{id}/decline                                sent -    -      -       403   403   -      404     404   403
POST /api/v1/referrals/{id}/decline                                org  401  404    404     -     404   404    -       -     -
POST /api/v1/referrals/{id}/decline                                mun  -    -      -       -     -     -      -       -     404
POST /api/v1/referrals/{id}/complete                               own  -    404    200     200   404   200    404     404   200
POST /api/v1/referrals/{id}/complete                               sent -    -      -       403   403   -      404     404   403
POST /api/v1/referrals/{id}/complete                               org  401  404    404     -     404   404    -       -     -
POST /api/v1/referrals/{id}/complete                               mun  -    -      -       -     -     -      -       -     404
POST /api/v1/referrals/{id}/withdraw                               own  -    404    403     403   404   403    404     404   403
POST /api/v1/referrals/{id}/withdraw                               sent -    -      -       200   403   -      404     404   200
POST /api/v1/referrals/{id}/withdraw                               org  401  404    404     -     404   404    -       -     -
POST /api/v1/referrals/{id}/withdraw                               mun  -    -      -       -     -     -      -       -     404
POST /api/v1/inbound-referrals                                     -    401  403    403     403   403   403    403     403   201
GET /api/v1/subscriptions                                          -    401  403    403     403   403   403    403     200   200
POST /api/v1/subscriptions                                         -    401  403    403     403   403   403    403     201   201
GET /api/v1/subscriptions/{id}                                     own  -    -      -       403   403   -      403     200   200
GET /api/v1/subscriptions/{id}                                     org  401  403    403     -     -     403    -       -     -
GET /api/v1/subscriptions/{id}                                     mun  401  403    403     403   403   403    403     404   404
DELETE /api/v1/subscriptions/{id}                                  own  -    -      -       403   403   -      403     204   204
DELETE /api/v1/subscriptions/{id}                                  org  401  403    403     -     -     403    -       -     -
DELETE /api/v1/subscriptions/{id}                                  mun  401  403    403     403   403   403    403     404   404
GET /api/v1/subscriptions/{id}/deliveries                          own  -    -      -       403   403   -      403     200   200
GET /api/v1/subscriptions/{id}/deliveries                          org  401  403    403     -     -     403    -       -     -
GET /api/v1/subscriptions/{id}/deliveries                          mun  401  403    403     403   403   403    403     404   404
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver own  -    -      -       403   403   -      403     202   202
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver org  401  403    403     -     -     403    -       -     -
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver mun  401  403    403     403   403   403    403     404   404
"""

Body = Callable[[World, dict[str, str]], Any] | None


class Call:
    """How a permitted caller calls a route: the kind of record its path names (or None), the record
    that feeds the body of a route that names none (`uses`), the body, and a query string."""

    def __init__(self, kind: str | None = None, body: Body = None, uses: str | None = None, query: str = "",
                 form: bool = False, if_match: str | None = None) -> None:
        self.kind, self.body, self.uses, self.query, self.form = kind, body, uses, query, form
        self.if_match = if_match  # the path whose ETag the request sends in If-Match


REQUESTS: dict[str, Call] = {
    "GET /health": Call(),
    "GET /ready": Call(),
    "GET /.well-known/jwks.json": Call(),
    "GET /openapi.json": Call(),
    "GET /docs": Call(),
    "POST /api/v1/auth/token": Call(form=True, body=lambda w, t: {
        "grant_type": "client_credentials", "client_id": "arnhem-system", "client_secret": PASSWORD}),
    "GET /api/v1/auth/me": Call(),
    "POST /api/v1/signals": Call(body=lambda w, t: signal_body(name="Kees Jansen", bsn=None)),
    "GET /api/v1/signals": Call(),
    "GET /api/v1/signals/{id}": Call("signal"),
    "POST /api/v1/signals/{id}/triage": Call("signal", lambda w, t: NO_ACTION),
    "POST /api/v1/signals/{id}/reopen": Call("closed", lambda w, t: {"reason": "De school meldt nieuwe zorgen."}),
    "POST /api/v1/persons/search": Call(body=lambda w, t: {"bsn": VALID_BSN}),
    "POST /api/v1/cases": Call(uses="t", body=lambda w, t: {"person_id": t["person"]}),
    "GET /api/v1/cases": Call(),
    "GET /api/v1/cases/{id}": Call("case"),
    "PATCH /api/v1/cases/{id}": Call("case", lambda w, t: {"next_review_date": "2030-01-15"},
                                     if_match="/api/v1/cases/{id}"),
    "GET /api/v1/cases/{id}/history": Call("case"),
    "GET /api/v1/cases/{id}/members": Call("case"),
    "POST /api/v1/cases/{id}/members": Call("case", lambda w, t: {"organisation_id": w.orgs["OM"]}),
    "DELETE /api/v1/cases/{id}/members/{organisation_id}": Call("member"),
    "POST /api/v1/cases/{id}/emergency-access": Call("case", lambda w, t: {"reason": REASON}),
    "GET /api/v1/cases/{id}/items": Call("case"),
    "POST /api/v1/cases/{id}/items": Call("case", lambda w, t: item_body()),
    "POST /api/v1/cases/{id}/items/{item_id}/corrections": Call(
        "item", lambda w, t: {"text": "Gecorrigeerde tekst.", "reason": "Datum en bron waren onjuist."}),
    "GET /api/v1/organisations": Call(),
    "GET /api/v1/emergency-accesses": Call(),
    "POST /api/v1/emergency-accesses/{id}/review": Call("ea", lambda w, t: {"outcome": "approved", "note": "Terecht."}),
    "GET /api/v1/audit-events": Call(),
    "GET /api/v1/persons/{id}/access-report": Call("person"),
    "GET /api/v1/statistics": Call(query="?since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z"),
    "GET /api/v1/meetings": Call(),
    "POST /api/v1/meetings": Call(body=lambda w, t: {
        "starts_at": PAST, "chair_id": user_id(w.app, "chair"), "attending_organisation_ids": [w.orgs["POL"]]}),
    "GET /api/v1/meetings/{id}": Call("meeting"),
    "PATCH /api/v1/meetings/{id}": Call("meeting", lambda w, t: {"location": "Wijkbureau Overvecht"},
                                        if_match="/api/v1/meetings/{id}"),
    "GET /api/v1/meetings/{id}/agenda": Call("meeting"),
    "POST /api/v1/meetings/{id}/agenda/build": Call("meeting"),
    "POST /api/v1/meetings/{id}/agenda/items": Call("meeting", lambda w, t: {"case_id": t["case_id"], "urgent": True}),
    "PATCH /api/v1/meetings/{id}/agenda/items/{item_id}": Call(
        "meeting", lambda w, t: {"position": 1, "urgent": True}, if_match="/api/v1/meetings/{id}"),
    "DELETE /api/v1/meetings/{id}/agenda/items/{item_id}": Call("meeting", if_match="/api/v1/meetings/{id}"),
    "POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda": Call(
        "closed_meeting", lambda w, t: {"text": "Aanvulling op het verslag."}),
    "POST /api/v1/cases/{id}/closure-proposals": Call(
        "case", lambda w, t: {"reason": "Doelen van de aanpak zijn bereikt."}),
    "GET /api/v1/cases/{id}/actions": Call("case"),
    "POST /api/v1/cases/{id}/actions": Call("case", lambda w, t: {
        "description": "Huisbezoek", "owner_organisation_id": w.orgs["POL"], "due_date": DUE}),
    "GET /api/v1/actions": Call(query="?assignee=me"),
    "GET /api/v1/actions/{id}": Call("action"),
    "PATCH /api/v1/actions/{id}": Call("action", lambda w, t: {"status": "done", "result_note": "Gesprek gevoerd."},
                                       if_match="/api/v1/actions/{id}"),
    "POST /api/v1/cases/{id}/referrals": Call("case", lambda w, t: {
        "recipient_organisation_id": w.orgs["GGZ"], "purpose": "Begeleiding bij zorgen.", "legal_basis": "consent",
        "shared_fields": ["name", "date_of_birth"]}),
    "GET /api/v1/referrals": Call(),
    "GET /api/v1/referrals/{id}": Call("referral"),
    "POST /api/v1/referrals/{id}/accept": Call("referral", lambda w, t: NOTE),
    "POST /api/v1/referrals/{id}/decline": Call("referral", lambda w, t: NOTE),
    "POST /api/v1/referrals/{id}/complete": Call(
        "accepted", lambda w, t: NOTE | ({"assessment": "Laag risico."} if t["pool"] else {})),
    "POST /api/v1/referrals/{id}/withdraw": Call("referral", lambda w, t: NOTE),
    "POST /api/v1/inbound-referrals": Call(body=lambda w, t: w.inbound()),
    "GET /api/v1/subscriptions": Call(),
    "POST /api/v1/subscriptions": Call(body=lambda w, t: {"callback_url": CALLBACK, "events": ["referral.received"]}),
    "GET /api/v1/subscriptions/{id}": Call("subscription"),
    "DELETE /api/v1/subscriptions/{id}": Call("subscription"),
    "GET /api/v1/subscriptions/{id}/deliveries": Call("subscription"),
    "POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver": Call("subscription"),
}


def case_record(relation: str, caller: str) -> str | None:
    # The municipality runs every case of its own; the chair only sees those on its agendas (M's copies).
    arnhem, runs_all = caller == "client", caller in MUNICIPALITY_STAFF - {"chair"}
    own, other = ("A", "M") if arnhem else ("M", "A")
    return {"own": own, "org": None if arnhem or runs_all else "N", "mun": other}[relation]


def meeting_record(relation: str, caller: str) -> str | None:
    key = case_record(relation, caller)
    return None if key is None else {"M": "MT", "N": "MO", "A": "MA"}[key]


def closed_meeting_record(relation: str, caller: str) -> str | None:
    key = meeting_record(relation, caller)
    return None if key is None else "c" + key


OWNS = {"melder": "xS", "partner": "xG", "expert": "xD"}  # the municipality's staff: xU


def action_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "xA", "case": None, "org": None, "mun": "xM"}[relation]
    own = None if caller == "anon" else OWNS.get(caller, "xU")
    return {"own": own, "case": "xM", "org": case_record("org", caller) and "xN", "mun": "xA"}[relation]


RECEIVES = {"melder": "rS", "partner": "rG", "expert": "rD"}


def referral_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "rX", "sent": "rI", "org": None, "mun": "rG"}[relation]
    staff = caller in MUNICIPALITY_STAFF
    other = {"partner": "rD", "chair": "rN"}.get(caller, None if staff else "rG")
    return {"own": "rI" if staff else RECEIVES.get(caller), "sent": "rG" if staff else None, "org": other,
            "mun": None}[relation]


def accepted_referral_record(relation: str, caller: str) -> str | None:
    key = referral_record(relation, caller)
    return None if key is None else key if key == "rS" else "a" + key  # nobody at the school may accept rS


def subscription_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "sA", "org": None, "mun": "sU"}[relation]
    municipality = caller in MUNICIPALITY_STAFF
    return {"own": "sU" if municipality else None, "org": None if municipality else "sU", "mun": "sA"}[relation]


def emergency_record(relation: str, caller: str) -> str | None:
    key = case_record(relation, caller)
    return None if key == "A" else key  # nobody may break the glass on Arnhem's case


def signal_record(relation: str, caller: str) -> str | None:
    arnhem, staff = caller == "client", caller in MUNICIPALITY_STAFF
    reporter = {"melder": "t", "client": "a"}.get(caller, "t" if staff else None)
    other = {"melder": "p"}.get(caller, None if arnhem or staff else "t")
    return {"own": reporter, "org": other, "mun": "t" if arnhem else "a"}[relation]


def closed_signal_record(relation: str, caller: str) -> str | None:
    key = signal_record(relation, caller)
    return None if key is None else "c" + key


@dataclass(frozen=True)
class Kind:
    """A kind of record a path names: which world record (tests/authz_world.py) each relationship
    reaches for a caller (None: the caller cannot have that relationship), and its path parameters."""

    record: Callable[[str, str], str | None]
    params: Callable[[dict[str, str]], dict[str, str]] = lambda record: record
    relations: tuple[str, ...] = RELATIONS


KINDS = {
    "case": Kind(case_record),
    "item": Kind(case_record),
    "member": Kind(case_record),
    "person": Kind(case_record, lambda record: {"id": record["person"]}),
    "ea": Kind(emergency_record, lambda record: {"id": record["ea"]}),
    "signal": Kind(signal_record),
    "closed": Kind(closed_signal_record),
    "meeting": Kind(meeting_record),  # its records name the meeting, its case's agenda item and K
    "closed_meeting": Kind(closed_meeting_record),
    "action": Kind(action_record, relations=("own", "case", "org", "mun")),
    "referral": Kind(referral_record, relations=("own", "sent", "org", "mun")),
    "accepted": Kind(accepted_referral_record, relations=("own", "sent", "org", "mun")),
    "subscription": Kind(subscription_record),  # its records name the subscription and one delivery
}


def relation_key(kind: str, relation: str, caller: str) -> str | None:
    return KINDS[kind].record(relation, caller)


def _parse(table: str) -> dict[str, dict[str, dict[str, int | None]]]:
    """{route: {relation: {caller: status or None}}}"""
    lines = table.strip().splitlines()
    header = lines[0].split()
    assert header[2:] == list(CALLERS), "TABLE columns and CALLERS differ"
    rows: dict[str, dict[str, dict[str, int | None]]] = {}
    for line in lines[1:]:
        method, path, relation, *cells = line.split()
        assert len(cells) == len(CALLERS), f"{method} {path} {relation}: {len(cells)} cells"
        rows.setdefault(f"{method} {path}", {})[relation] = {
            caller: None if cell == "-" else int(cell) for caller, cell in zip(CALLERS, cells, strict=True)}
    return rows


EXPECTED = _parse(TABLE)
CELLS = [pytest.param(route, relation, caller, status, id=f"{route} {relation} {caller}")
         for route, relations in EXPECTED.items() for relation, callers in relations.items()
         for caller, status in callers.items() if status is not None]


def app_routes(app) -> set[str]:
    return {f"{method} {context.path}" for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) for method in sorted(context.methods)}


def test_every_route_is_in_the_table(app):
    routes = app_routes(app)
    missing = sorted(routes - set(EXPECTED))
    assert not missing, f"routes without a row in TABLE (tests/test_route_authorization.py): {missing}"
    assert not sorted(set(EXPECTED) - routes), "TABLE rows for routes the app does not have"
    assert set(REQUESTS) == routes, "REQUESTS and the app's routes differ"


@pytest.mark.parametrize("route", sorted(REQUESTS))
def test_rows_match_the_relationships_of_the_route(route):
    kind = REQUESTS[route].kind
    relations = KINDS[kind].relations if kind else ("-",)
    assert tuple(EXPECTED.get(route, {})) == relations, f"{route} needs rows for {relations}"
    for relation in relations:
        for caller, status in EXPECTED[route][relation].items():
            reachable = kind is None or relation_key(kind, relation, caller) is not None
            assert (status is not None) == reachable, f"{route} {relation} {caller}: `-` exactly where unreachable"


@pytest.fixture(scope="module")
def world(app, auth):
    with TestClient(app, raise_server_exceptions=False) as client:
        empty_mutable_tables(app)
        yield World(app, client, auth).build()


def headers_for(world: World, caller: str) -> dict[str, str]:
    user = CALLERS[caller]
    if user is None:
        return {}
    return world.auth.client(user) if caller == "client" else world.auth(user)


def outcomes(app, trace_id: str) -> list[str]:
    with inspect_db(app) as session:
        return list(session.exec(select(AuditEvent.outcome).where(AuditEvent.trace_id == trace_id)).all())


def send(world: World, route: str, relation: str, caller: str, status: int):
    call = REQUESTS[route]
    method, path = route.split(" ", 1)
    key = relation_key(call.kind, relation, caller) if call.kind else call.uses
    changes = status < 300 and method != "GET"
    record = (world.fresh(key) if changes else world.keys[key]) if key else {}
    params = KINDS[call.kind].params(record) if call.kind else record
    headers = headers_for(world, caller)
    if call.if_match:
        headers = headers | {"If-Match": world.etag(key, call.if_match.format(**params))}
    body = call.body(world, record) if call.body else None
    payload = {"data": body} if call.form else {"json": body}
    return world.client.request(method, path.format(**params) + call.query, headers=headers, **payload)


@pytest.mark.parametrize(("route", "relation", "caller", "status"), CELLS)
def test_route_authorization(world, app, route, relation, caller, status):
    before = records(app) if status >= 400 else None
    response = send(world, route, relation, caller, status)

    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert records(app) == before, "a denied request changed records"
    if status in (403, 404) and caller != "anon":
        assert "denied" in outcomes(app, response.headers["x-request-id"]), "the denial was not audited"
