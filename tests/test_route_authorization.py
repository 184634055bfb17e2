"""Who may call what: every route of the app × every kind of caller × relationship, from one table.

The routes come from `app.routes`, so a route missing from TABLE fails `test_every_route_is_in_the_table`
with its name. To add a route:
  1. give it a REQUESTS entry: the kind of record its path names (a KINDS key; none if it names no
     record) and the body a permitted caller would send. A new kind of record gets a KINDS entry
     and its records in BUILDERS (tests/authz_world.py);
  2. add its rows to TABLE: one row per relationship its kind has (`-` if it names no record), one
     status per caller column. `-` marks a relationship the caller cannot have (see `relation_key`).

Callers (columns) and relationships (rows): tests/matrix_records.py; the records: tests/authz_world.py.
Every denial is checked to be a problem document that changed no record; a 403 or 404 to an
authenticated caller must also have written an audit event with outcome `denied`. Every permitted
answer is checked too: it changed exactly the tables CHANGES names (a read: none), and its audit
event has the expected outcome and names every person the answer shows (tests/matrix_checks.py).
No answer, permitted or not, carries the BSN or address of a person the caller may not see in full,
and every event a request writes names a processing activity of the register.
What each list holds, record by record: tests/test_route_visibility.py. A permitted request that
changes something runs against a fresh copy of its record, so the shared records stay as built.
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

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
from tests.factories import VALID_BSN
from tests.matrix_checks import (
    audited,
    changed_tables,
    leaks,
    named,
    shown,
    unregistered,
)
from tests.matrix_records import CALLERS, KINDS, relation_key
from tests.meeting_helpers import user_id

NOTE = {"note": "Besproken in het team."}

TABLE = """
route                                                              rel  anon melder partner dual coord chair lchair expert privacy admin client acoord achair apriv aadmin
GET /health                                                        -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /ready                                                         -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /.well-known/jwks.json                                         -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /openapi.json                                                  -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /docs                                                          -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /redoc                                                         -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
POST /api/v1/auth/token                                            -    200  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /api/v1/auth/me                                                -    401  200    200     200  200   200   200    200    200     200   200    200    200    200   200
POST /api/v1/signals                                               -    401  201    403     403  403   403   403    403    403     403   201    403    403    403   403
GET /api/v1/signals                                                -    401  200    403     403  200   200   200    403    403     403   200    200    200    403   403
GET /api/v1/signals/{id}                                           own  -    200    -       -    200   404   404    -      404     404   200    200    404    404   404
GET /api/v1/signals/{id}                                           org  401  404    404     404  -     -     -      404    -       -     -      -      -      -     -
GET /api/v1/signals/{id}                                           mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/signals/{id}/triage                                   own  -    403    -       -    200   404   404    -      404     404   403    200    404    404   404
POST /api/v1/signals/{id}/triage                                   org  401  404    404     404  -     -     -      404    -       -     -      -      -      -     -
POST /api/v1/signals/{id}/triage                                   mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/signals/{id}/reopen                                   own  -    403    -       -    200   404   404    -      404     404   403    200    404    404   404
POST /api/v1/signals/{id}/reopen                                   org  401  404    404     404  -     -     -      404    -       -     -      -      -      -     -
POST /api/v1/signals/{id}/reopen                                   mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/persons/search                                        -    401  403    403     403  200   403   403    403    403     403   403    200    403    403   403
POST /api/v1/cases                                                 -    401  403    403     403  201   403   403    403    403     403   403    400    403    403   403
GET /api/v1/cases                                                  -    401  403    200     200  200   200   200    403    403     403   403    200    200    403   403
GET /api/v1/cases/{id}                                             own  401  404    200     200  200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/cases/{id}                                             org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/cases/{id}                                             mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
PATCH /api/v1/cases/{id}                                           own  401  404    403     403  200   403   404    404    404     404   404    200    403    404   404
PATCH /api/v1/cases/{id}                                           org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
PATCH /api/v1/cases/{id}                                           mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/cases/{id}/history                                     own  401  404    200     200  200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/cases/{id}/history                                     org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/cases/{id}/history                                     mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/cases/{id}/members                                     own  401  404    200     200  200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/cases/{id}/members                                     org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/cases/{id}/members                                     mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/members                                    own  401  404    403     403  201   403   404    404    404     404   404    400    403    404   404
POST /api/v1/cases/{id}/members                                    org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/members                                    mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
DELETE /api/v1/cases/{id}/members/{organisation_id}                own  401  404    403     403  204   403   404    404    404     404   404    204    403    404   404
DELETE /api/v1/cases/{id}/members/{organisation_id}                org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
DELETE /api/v1/cases/{id}/members/{organisation_id}                mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/emergency-access                           own  401  404    409     409  409   403   404    404    404     404   404    409    403    404   404
POST /api/v1/cases/{id}/emergency-access                           org  401  404    201     201  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/emergency-access                           mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/cases/{id}/items                                       own  401  404    200     200  200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/cases/{id}/items                                       org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/cases/{id}/items                                       mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/items                                      own  401  404    201     201  201   403   404    404    404     404   404    201    403    404   404
POST /api/v1/cases/{id}/items                                      org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/items                                      mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/items/{item_id}/corrections                own  401  404    201     404  403   403   404    404    404     404   404    201    403    404   404
POST /api/v1/cases/{id}/items/{item_id}/corrections                org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/items/{item_id}/corrections                mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/organisations                                          -    401  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /api/v1/emergency-accesses                                     -    401  403    403     403  403   403   403    403    200     403   403    403    403    200   403
POST /api/v1/emergency-accesses/{id}/review                        own  401  403    403     -    403   403   403    403    200     403   -      -      -      -     -
POST /api/v1/emergency-accesses/{id}/review                        org  401  403    403     403  -     403   403    403    -       -     -      -      -      -     -
POST /api/v1/emergency-accesses/{id}/review                        mun  -    -      -       -    -     -     -      -      -       -     403    403    403    404   403
GET /api/v1/audit-events                                           -    401  403    403     403  403   403   403    403    200     403   403    403    403    200   403
GET /api/v1/persons/{id}/access-report                             own  401  403    403     403  403   403   403    403    200     403   403    403    403    200   403
GET /api/v1/persons/{id}/access-report                             org  401  403    403     403  -     403   403    403    -       -     -      -      -      -     -
GET /api/v1/persons/{id}/access-report                             mun  401  403    403     -    403   403   403    403    404     403   403    403    403    404   403
GET /api/v1/statistics                                             -    401  403    403     403  200   403   403    403    200     403   403    200    403    200   403
GET /api/v1/meetings                                               -    401  403    200     200  200   200   200    403    403     403   403    200    200    403   403
POST /api/v1/meetings                                              -    401  403    403     403  201   201   201    403    403     403   403    400    400    403   403
GET /api/v1/meetings/{id}                                          own  401  404    200     -    200   200   200    404    404     404   404    200    200    404   404
GET /api/v1/meetings/{id}                                          org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/meetings/{id}                                          mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
PATCH /api/v1/meetings/{id}                                        own  401  404    403     -    200   200   409    404    404     404   404    200    200    404   404
PATCH /api/v1/meetings/{id}                                        org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
PATCH /api/v1/meetings/{id}                                        mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/meetings/{id}/agenda                                   own  401  404    200     -    200   200   200    404    404     404   404    200    200    404   404
GET /api/v1/meetings/{id}/agenda                                   org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/meetings/{id}/agenda                                   mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/meetings/{id}/agenda/build                            own  401  404    403     -    200   200   409    404    404     404   404    200    200    404   404
POST /api/v1/meetings/{id}/agenda/build                            org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/meetings/{id}/agenda/build                            mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/meetings/{id}/agenda/items                            own  401  404    403     -    201   201   409    404    404     404   404    400    400    404   404
POST /api/v1/meetings/{id}/agenda/items                            org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/meetings/{id}/agenda/items                            mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 own  401  404    403     -    200   200   409    404    404     404   404    200    200    404   404
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
PATCH /api/v1/meetings/{id}/agenda/items/{item_id}                 mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                own  401  404    403     -    204   204   409    404    404     404   404    204    204    404   404
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
DELETE /api/v1/meetings/{id}/agenda/items/{item_id}                mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          own  401  404    403     -    201   201   201    404    404     404   404    201    201    404   404
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda          mun  401  404    404     404  404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/closure-proposals                          own  401  404    403     403  201   403   404    404    404     404   404    201    403    404   404
POST /api/v1/cases/{id}/closure-proposals                          org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/closure-proposals                          mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/cases/{id}/actions                                     own  401  404    200     200  200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/cases/{id}/actions                                     org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/cases/{id}/actions                                     mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/actions                                    own  401  404    403     403  201   201   404    404    404     404   404    400    400    404   404
POST /api/v1/cases/{id}/actions                                    org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/actions                                    mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
GET /api/v1/actions                                                -    401  403    200     200  200   403   403    403    403     403   403    200    403    403   403
GET /api/v1/actions/{id}                                           own  -    404    200     -    200   200   404    404    404     404   404    200    200    404   404
GET /api/v1/actions/{id}                                           case 401  404    200     200  200   200   404    404    404     404   -      -      -      -     -
GET /api/v1/actions/{id}                                           org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/actions/{id}                                           mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
PATCH /api/v1/actions/{id}                                         own  -    404    200     -    200   403   404    404    404     404   404    200    403    404   404
PATCH /api/v1/actions/{id}                                         case 401  404    403     403  200   403   404    404    404     404   -      -      -      -     -
PATCH /api/v1/actions/{id}                                         org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
PATCH /api/v1/actions/{id}                                         mun  401  404    404     -    404   404   404    404    404     404   404    404    404    404   404
POST /api/v1/cases/{id}/referrals                                  own  401  403    403     403  201   403   403    403    403     403   403    400    403    403   403
POST /api/v1/cases/{id}/referrals                                  org  401  403    403     403  -     403   403    403    -       -     -      -      -      -     -
POST /api/v1/cases/{id}/referrals                                  mun  401  403    403     -    404   403   403    403    403     403   403    404    403    403   403
GET /api/v1/referrals                                              -    401  403    200     200  200   200   200    200    403     403   200    200    200    403   403
GET /api/v1/referrals/{id}                                         own  -    404    200     -    200   404   404    200    404     404   200    -      -      -     -
GET /api/v1/referrals/{id}                                         sent -    -      -       -    200   200   404    -      404     404   404    -      -      -     -
GET /api/v1/referrals/{id}                                         org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
GET /api/v1/referrals/{id}                                         mun  -    -      -       -    -     -     -      -      -       -     404    404    404    404   404
POST /api/v1/referrals/{id}/accept                                 own  -    404    200     -    200   404   404    200    404     404   200    -      -      -     -
POST /api/v1/referrals/{id}/accept                                 sent -    -      -       -    403   403   404    -      404     404   403    -      -      -     -
POST /api/v1/referrals/{id}/accept                                 org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/referrals/{id}/accept                                 mun  -    -      -       -    -     -     -      -      -       -     404    404    404    404   404
POST /api/v1/referrals/{id}/decline                                own  -    404    200     -    200   404   404    200    404     404   200    -      -      -     -
POST /api/v1/referrals/{id}/decline                                sent -    -      -       -    403   403   404    -      404     404   403    -      -      -     -
POST /api/v1/referrals/{id}/decline                                org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/referrals/{id}/decline                                mun  -    -      -       -    -     -     -      -      -       -     404    404    404    404   404
POST /api/v1/referrals/{id}/complete                               own  -    404    200     -    200   404   404    200    404     404   200    -      -      -     -
POST /api/v1/referrals/{id}/complete                               sent -    -      -       -    403   403   404    -      404     404   403    -      -      -     -
POST /api/v1/referrals/{id}/complete                               org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/referrals/{id}/complete                               mun  -    -      -       -    -     -     -      -      -       -     404    404    404    404   404
POST /api/v1/referrals/{id}/withdraw                               own  -    404    403     -    403   404   404    403    404     404   403    -      -      -     -
POST /api/v1/referrals/{id}/withdraw                               sent -    -      -       -    200   403   404    -      404     404   200    -      -      -     -
POST /api/v1/referrals/{id}/withdraw                               org  401  404    404     404  -     404   404    404    -       -     -      -      -      -     -
POST /api/v1/referrals/{id}/withdraw                               mun  -    -      -       -    -     -     -      -      -       -     404    404    404    404   404
POST /api/v1/inbound-referrals                                     -    401  403    403     403  403   403   403    403    403     403   201    403    403    403   403
GET /api/v1/subscriptions                                          -    401  403    403     403  403   403   403    403    403     200   200    403    403    403   200
POST /api/v1/subscriptions                                         -    401  403    403     403  403   403   403    403    403     201   201    403    403    403   201
GET /api/v1/subscriptions/{id}                                     own  -    -      -       -    403   403   403    -      403     200   200    403    403    403   200
GET /api/v1/subscriptions/{id}                                     org  401  403    403     403  -     -     -      403    -       -     -      -      -      -     -
GET /api/v1/subscriptions/{id}                                     mun  401  403    403     403  403   403   403    403    403     404   404    403    403    403   404
DELETE /api/v1/subscriptions/{id}                                  own  -    -      -       -    403   403   403    -      403     204   204    403    403    403   204
DELETE /api/v1/subscriptions/{id}                                  org  401  403    403     403  -     -     -      403    -       -     -      -      -      -     -
DELETE /api/v1/subscriptions/{id}                                  mun  401  403    403     403  403   403   403    403    403     404   404    403    403    403   404
GET /api/v1/subscriptions/{id}/deliveries                          own  -    -      -       -    403   403   403    -      403     200   200    403    403    403   200
GET /api/v1/subscriptions/{id}/deliveries                          org  401  403    403     403  -     -     -      403    -       -     -      -      -      -     -
GET /api/v1/subscriptions/{id}/deliveries                          mun  401  403    403     403  403   403   403    403    403     404   404    403    403    403   404
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver own  -    -      -       -    403   403   403    -      403     202   202    403    403    403   202
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver org  401  403    403     403  -     -     -      403    -       -     -      -      -      -     -
POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver mun  401  403    403     403  403   403   403    403    403     404   404    403    403    403   404
GET /api/v1/processing-activities                                  -    401  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /api/v1/processing-activities/{key}                            -    401  200    200     200  200   200   200    200    200     200   200    200    200    200   200
GET /api/v1/processing-activities/{key}/versions                   -    401  200    200     200  200   200   200    200    200     200   200    200    200    200   200
"""

Body = Callable[[World, dict[str, str]], Any] | None


class Call:
    """How a permitted caller calls a route: the kind of record its path names (or None), the record
    that feeds the body of a route that names none (`uses`), the body, and a query string."""

    def __init__(self, kind: str | None = None, body: Body = None, uses: str | None = None, query: str = "",
                 form: bool = False, if_match: str | None = None, params: dict[str, str] | None = None) -> None:
        self.kind, self.body, self.uses, self.query, self.form = kind, body, uses, query, form
        self.if_match = if_match  # the path whose ETag the request sends in If-Match
        self.params = params or {}  # path parameters that name no record of the world


REQUESTS: dict[str, Call] = {
    "GET /health": Call(),
    "GET /ready": Call(),
    "GET /.well-known/jwks.json": Call(),
    "GET /openapi.json": Call(),
    "GET /docs": Call(),
    "GET /redoc": Call(),
    "POST /api/v1/auth/token": Call(form=True, body=lambda w, t: {
        "grant_type": "client_credentials", "client_id": "arnhem-system", "client_secret": PASSWORD}),
    "GET /api/v1/auth/me": Call(),
    "POST /api/v1/signals": Call(body=lambda w, t: w.signal_body("new")),
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
    "GET /api/v1/audit-events": Call(query="?processingActivity=case-management"),
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
    "GET /api/v1/processing-activities": Call(),
    "GET /api/v1/processing-activities/{key}": Call(params={"key": "signal-intake"}),
    "GET /api/v1/processing-activities/{key}/versions": Call(params={"key": "casusoverleg"}),
    "POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver": Call("subscription"),
}


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
    """Every route but the web pages under /app, which have a table of their own with signed-in browsers
    (tests/test_web_authorization.py)."""
    return {f"{method} {context.path}" for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute) and not context.path.startswith("/app")
            for method in sorted(context.methods)}


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


# What a permitted request changes: the tables that must change, and after `|` those that may (a
# notification for a subscriber; a history entry where the referral belongs to a case of this registry).
# Every other permitted request changes nothing (the audit log and login counters aside).
CHANGES = {
    "POST /api/v1/signals": "signals persons | outbox_messages",
    "POST /api/v1/signals/{id}/triage": "signals",
    "POST /api/v1/signals/{id}/reopen": "signals",
    "POST /api/v1/cases": "cases case_members case_history case_number_sequences",
    "PATCH /api/v1/cases/{id}": "cases case_history",
    "POST /api/v1/cases/{id}/members": "case_members case_history",
    "DELETE /api/v1/cases/{id}/members/{organisation_id}": "case_members case_history",
    "POST /api/v1/cases/{id}/emergency-access": "emergency_accesses",
    "POST /api/v1/cases/{id}/items": "information_items item_shares case_history",
    "POST /api/v1/cases/{id}/items/{item_id}/corrections": "information_items case_history",
    "POST /api/v1/emergency-accesses/{id}/review": "emergency_accesses",
    "POST /api/v1/meetings": "meetings meeting_attendees",
    "PATCH /api/v1/meetings/{id}": "meetings",
    "POST /api/v1/meetings/{id}/agenda/build": "| agenda_items meetings",  # the world's meetings have none due
    "POST /api/v1/meetings/{id}/agenda/items": "agenda_items meetings",
    "PATCH /api/v1/meetings/{id}/agenda/items/{item_id}": "agenda_items meetings",
    "DELETE /api/v1/meetings/{id}/agenda/items/{item_id}": "agenda_items meetings",
    "POST /api/v1/meetings/{id}/agenda/items/{item_id}/addenda": "agenda_addenda",
    "POST /api/v1/cases/{id}/closure-proposals": "closure_proposals case_history",
    "POST /api/v1/cases/{id}/actions": "actions case_history",
    "PATCH /api/v1/actions/{id}": "actions case_history",
    "POST /api/v1/cases/{id}/referrals": "referrals case_history",
    "POST /api/v1/referrals/{id}/accept": "referrals | case_history outbox_messages",
    "POST /api/v1/referrals/{id}/decline": "referrals | case_history outbox_messages",
    "POST /api/v1/referrals/{id}/complete": "referrals | case_history outbox_messages information_items item_shares",
    "POST /api/v1/referrals/{id}/withdraw": "referrals | case_history",
    "POST /api/v1/inbound-referrals": "referrals persons signals idempotency_records | outbox_messages",
    "POST /api/v1/subscriptions": "subscriptions",
    "DELETE /api/v1/subscriptions/{id}": "subscriptions",
    "POST /api/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver": "outbox_messages",
}
# Permitted requests that write no audit event: they touch no personal data.
UNAUDITED = {"GET /health", "GET /ready", "GET /.well-known/jwks.json", "GET /openapi.json", "GET /docs",
             "GET /redoc",
             "POST /api/v1/auth/token", "GET /api/v1/auth/me", "GET /api/v1/organisations", "GET /api/v1/subscriptions",
             "GET /api/v1/subscriptions/{id}", "GET /api/v1/subscriptions/{id}/deliveries",
             "GET /api/v1/processing-activities", "GET /api/v1/processing-activities/{key}",
             "GET /api/v1/processing-activities/{key}/versions"}
EMERGENCY = {"POST /api/v1/cases/{id}/emergency-access"}  # audited `emergency`; every other permitted request `allowed`


def expected_changes(route: str) -> tuple[set[str], set[str]]:
    must, _, may = CHANGES.get(route, "").partition("|")
    return set(must.split()), set(must.split()) | set(may.split())


def headers_for(world: World, caller: str) -> dict[str, str]:
    user = CALLERS[caller]
    if user is None:
        return {}
    return world.auth.client(user) if caller == "client" else world.auth(user)


def prepare(world: World, route: str, relation: str, caller: str, status: int) -> dict[str, Any]:
    """The request of a cell: on a fresh copy of its record where a permitted request changes it."""
    call = REQUESTS[route]
    method, path = route.split(" ", 1)
    key = relation_key(call.kind, relation, caller) if call.kind else call.uses
    changes = status < 300 and method != "GET"
    record = (world.fresh(key) if changes else world.keys[key]) if key else {}
    params = (KINDS[call.kind].params(record) if call.kind else record) | call.params
    headers = headers_for(world, caller)
    if call.if_match:
        headers = headers | {"If-Match": world.etag(key, call.if_match.format(**params))}
    body = call.body(world, record) if call.body else None
    payload = {"data": body} if call.form else {"json": body}
    return {"method": method, "url": path.format(**params) + call.query, "headers": headers, **payload}


def assert_audited_as_shown(world: World, app, route: str, response) -> None:
    """A permitted request is audited with its outcome, naming every person its answer shows and none
    but those and the persons of the records it names."""
    outcomes, pseudonyms = audited(app, response.headers["x-request-id"])
    if route in UNAUDITED:
        assert not outcomes, "a request that touches no personal data was audited"
        return
    assert outcomes == {"emergency" if route in EMERGENCY else "allowed"}, outcomes
    people = world.identities()
    seen = shown(people, response)
    assert seen <= pseudonyms, "the answer shows persons its audit event does not name"
    assert pseudonyms <= seen | named(app, people, response), "the audit names persons the request did not concern"


@pytest.mark.parametrize(("route", "relation", "caller", "status"), CELLS)
def test_route_authorization(world, app, route, relation, caller, status):
    request = prepare(world, route, relation, caller, status)
    before = records(app)
    response = world.client.request(**request)

    assert response.status_code == status, response.text
    changed = changed_tables(before, records(app))
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert not changed, "a denied request changed records"
        if status in (403, 404) and caller != "anon":
            assert "denied" in audited(app, response.headers["x-request-id"])[0], "the denial was not audited"
    else:
        must, may = expected_changes(route)
        assert must <= changed <= may, f"changed {sorted(changed)}"
        assert_audited_as_shown(world, app, route, response)
    assert not leaks(world, world.identities(), caller, response), "a BSN or address the caller may not see"
    assert not unregistered(app, response.headers["x-request-id"]), "an event names no registered processing activity"
