"""Records and requests for the schemathesis test's valid run (tests/valid_data.py says what to send).

`Records` makes records through the API, as the users who would: the test's shared ones (ids by the
path's first segment, see test_schemathesis.real_records) and, before each example of an operation
that changes their state, fresh ones, so that the next example does not meet a 409. `apply` writes a
drawn patch over a drawn request (schemathesis' Case), resolving the values that depend on the
example (`Example`) just before the call: a record's id, the ETag read a moment ago, a cursor the API
issued.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import delete

from app.models import LoginFailure
from app.services import delivery, targets
from app.validation import is_valid_bsn
from tests.case_helpers import API
from tests.db import inspect_db
from tests.factories import EMERGENCY_REASON, signal_body
from tests.meeting_helpers import user_id
from tests.referral_helpers import link_arnhem

DROP = object()  # a patch value: leave the field out
PUBLIC_ADDRESS = "93.184.216.34"  # what every callback host resolves to where production rules are on


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


class Records:
    """Records made through the API by the users who would make them: the test's shared ones (ids by
    the path's first segment, see test_schemathesis.real_records) and fresh ones for one example."""

    def __init__(self, app, client, auth, shared: dict[str, str], monkeypatch) -> None:
        self.app, self.client, self.auth, self.shared, self.monkeypatch = app, client, auth, shared, monkeypatch
        directory = ok(client.get(f"{API}/organisations", params={"pageSize": 100}, headers=auth("coordinator")))
        self.orgs = {o["code"]: o["id"] for o in directory["items"]}
        self.serial = 0
        self._users: dict[str, str] = {}
        self._once: dict[str, dict[str, str]] = {}

    def user(self, name: str) -> str:
        if name not in self._users:
            self._users[name] = user_id(self.app, name)
        return self._users[name]

    def headers(self, caller: str) -> dict[str, str]:
        if caller.startswith("client:"):
            return self.auth.client(caller.removeprefix("client:"))
        return self.auth(caller) if caller else {}

    def post(self, path: str, body: Any, by: str = "coordinator", status: int = 201) -> Any:
        return ok(self.client.post(f"{API}{path}", json=body, headers=self.headers(by)), status)

    def once(self, name: str, make: Callable[[], dict[str, str]]) -> dict[str, str]:
        """Records that examples share because using them changes nothing that matters."""
        if name not in self._once:
            self._once[name] = make()
        return self._once[name]

    def subject(self) -> dict[str, str]:
        """Someone new: a name and a BSN of their own, so no earlier person is matched."""
        self.serial += 1
        number = 600_000_000 + self.serial * 1_000
        while not is_valid_bsn(str(number)):
            number += 1
        return {"name": f"Valide Persoon {self.serial:04d}", "bsn": str(number)}

    def signal(self, subject: dict[str, str] | None = None) -> dict[str, Any]:
        """An untriaged signal of the teacher, about someone new unless `subject` says whom."""
        subject = subject or self.subject()
        return {"id": self.post("/signals", signal_body(**subject), by="teacher")["id"], "subject": subject}

    def case(self, *members: str) -> dict[str, Any]:
        """A new case (from a signal triaged by the coordinator) with these partners taking part."""
        signal = self.signal()
        case = self.post(f"/signals/{signal['id']}/triage", {"outcome": "new_case"}, status=200)["case_id"]
        for code in members:
            self.post(f"/cases/{case}/members", {"organisation_id": self.orgs[code]})
        return {"id": case, "subject": signal["subject"]}

    # What one example of an operation needs; the keys that name path parameters replace the shared ids.

    def untriaged_signal(self) -> dict[str, str]:
        """A signal of someone who has a case already, so that it can be linked to it too."""
        case = self.case()
        return {"id": self.signal(case["subject"])["id"], "case": case["id"]}

    def closed_signal(self) -> dict[str, str]:
        signal = self.signal()
        body = {"outcome": "no_further_action", "reason": "Geen zorgen na gesprek."}
        self.post(f"/signals/{signal['id']}/triage", body, status=200)
        return {"id": signal["id"]}

    def member(self) -> dict[str, str]:
        return {"id": self.case("POL")["id"], "organisation_id": self.orgs["POL"]}

    def emergency_access(self) -> dict[str, str]:
        case = self.case("POL")["id"]
        return {"id": self.post(f"/cases/{case}/emergency-access", {"reason": EMERGENCY_REASON}, by="care")["id"]}

    def meeting(self, running: bool = False, closed: bool = False) -> dict[str, str]:
        """A meeting in an hour, chaired by the chair, with a new case on its agenda (`item_id`)."""
        body = {"starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "chair_id": self.user("chair"),
                "attending_organisation_ids": [self.orgs["POL"], self.orgs["GGZ"]]}
        meeting = self.post("/meetings", body)["id"]
        agenda = self.post(f"/meetings/{meeting}/agenda/items", {"case_id": self.case()["id"]})
        url, coordinator = f"{API}/meetings/{meeting}", self.headers("coordinator")
        for status in ["in_progress"] * (running or closed) + ["closed"] * closed:
            etag = self.client.get(url, headers=coordinator).headers["etag"]
            ok(self.client.patch(url, json={"status": status}, headers=coordinator | {"If-Match": etag}))
        return {"id": meeting, "item_id": agenda["items"][0]["id"]}

    def running_meeting(self) -> dict[str, str]:
        return self.meeting(running=True)

    def closed_meeting(self) -> dict[str, str]:
        return self.once("closed meeting", lambda: self.meeting(closed=True))

    def agenda_case(self) -> dict[str, str]:
        return {"case": self.case()["id"]}

    def action(self) -> dict[str, str]:
        body = {"description": "Huisbezoek", "owner_organisation_id": self.orgs["UTR"], "due_date": "2099-01-01"}
        return {"id": self.post(f"/cases/{self.shared['cases']}/actions", body)["id"]}

    def referral(self, accepted: bool = False) -> dict[str, str]:
        """A referral from the shared case to GGZ (accepted: by GGZ's care worker)."""
        body = {"recipient_organisation_id": self.orgs["GGZ"], "purpose": "Begeleiding.", "legal_basis": "consent",
                "shared_fields": ["name"]}
        referral = self.post(f"/cases/{self.shared['cases']}/referrals", body)["id"]
        if accepted:
            self.post(f"/referrals/{referral}/accept", {}, by="care", status=200)
        return {"id": referral}

    def accepted_referral(self) -> dict[str, str]:
        return self.referral(accepted=True)

    def subscription(self) -> dict[str, str]:
        body = {"callback_url": "https://127.0.0.1:9/hook", "events": ["action.assigned"]}
        return {"id": self.post("/subscriptions", body, by="admin")["id"]}

    def dead_delivery(self) -> dict[str, str]:
        """The shared delivery, given up on by a worker whose every attempt failed (only delivered and
        dead deliveries can be redelivered)."""
        settings = self.app.state.settings.model_copy(update={"webhook_max_attempts": 1})
        with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503))) as failing:
            delivery.deliver_due(self.app.state.engine, settings, failing)
        return {}

    def arnhem_link(self) -> dict[str, str]:
        return self.once("arnhem", lambda: link_arnhem(self.app) or {})

    def no_failed_logins(self) -> dict[str, str]:
        """The drawn credentials of earlier examples count against the address's login limit."""
        with inspect_db(self.app) as session:
            session.execute(delete(LoginFailure))
            session.commit()
        return {}

    def production_targets(self) -> dict[str, str]:
        """Callback URLs checked as in production (https, public addresses), with a resolver that needs
        no network (as tests/test_subscriptions.py's public_dns)."""
        self.monkeypatch.setattr(targets, "resolve", lambda host, port: [PUBLIC_ADDRESS])
        self.monkeypatch.setattr(self.app.state.settings, "webhook_allow_private_targets", False)
        return {}


@dataclass
class Example:
    """One example of the valid run: its records, path and caller, for resolving a patch."""

    records: Records
    path: str  # the operation's path, filled in
    caller: str
    fresh: dict[str, Any] = field(default_factory=dict)
    etag_path: str | None = None
    query: dict[str, Any] = field(default_factory=dict)  # the query as patched, but for its cursor

    def etag(self) -> str:
        response = self.records.client.get(f"{API}{self.etag_path}", headers=self.records.headers(self.caller))
        return ok(response) and response.headers["etag"]

    def cursor(self) -> Any:
        """The next_cursor of a first page of one item with the same filters, or DROP where there is no
        second page."""
        response = self.records.client.get(f"{API}{self.path}", params=self.query | {"pageSize": 1},
                                           headers=self.records.headers(self.caller))
        return ok(response)["next_cursor"] or DROP


def resolve(value: Any, example: Example) -> Any:
    if callable(value):
        return value(example)
    if isinstance(value, dict):
        return {k: v for k, v in ((k, resolve(v, example)) for k, v in value.items()) if v is not DROP}
    if isinstance(value, list):
        return [resolve(v, example) for v in value]
    return value


def merged(drawn: Any, patch: dict[str, Any], example: Example) -> dict[str, Any]:
    """The drawn object with the patch's fields over it; a patched object merges into a drawn object."""
    result = dict(drawn) if isinstance(drawn, dict) else {}
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(name), dict):
            result[name] = merged(result[name], value, example)
            continue
        value = resolve(value, example)
        if value is DROP:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def apply(case, patch: dict[str, dict[str, Any]], example: Example) -> None:
    """Overwrites the constrained parts of a drawn case (schemathesis' Case) with the patch."""
    if "body" in patch:
        case.body = merged(case.body, patch["body"], example)
    if "query" in patch:
        filters = {name: value for name, value in patch["query"].items() if name != "cursor"}
        example.query = {n: v for n, v in merged(case.query, filters, example).items() if n != "cursor"}
        case.query = merged(case.query, patch["query"], example)
    for name, value in patch.get("headers", {}).items():
        value = resolve(value, example)
        if value is DROP:
            case.headers.pop(name, None)
        else:
            case.headers[name] = value
