"""The records the route authorization matrix aims at, in Utrecht and in Arnhem.

Every person has a BSN and a street address of their own (`Identity`), so a test can tell exactly
whose identifying data a response carries.

Utrecht case M: the police, GGZ (care), the school (teacher), the expert pool, the Buurtteam and
Reclassering (probation, which serves Arnhem too) take part; JoU (youthworker) broke the glass on it.
Utrecht case N: only the municipality and the police take part; JoU broke the glass on it too.
Arnhem case A: run by Arnhem's coordinator, from a signal of Arnhem's system; Reclassering takes part.
Each case has an item (in M by GGZ, in N and A by the coordinator) and its person. Untriaged signals:
t (teacher), p (police), a (Arnhem's system); closed without further action: ct, cp, ca.
Every copy of M is on the agenda of a standing meeting the chair chairs, so the chair reads it; every
copy of A likewise for Arnhem's chair.

Meetings (all planned in the past, so building their agenda adds no case of the world): MT, chaired
by the chair, attended by Politie, GGZ, the school and the expert pool, with M on its agenda; MO,
chaired by the coordinator, attended by Politie only, with N; MA, Arnhem's, chaired by Arnhem's chair,
with A. Closed copies: cMT, cMO, cMA. ML: chaired by the late chair, with N, closed longer ago than the
chair's access window lasts. K: a case only ever put on agendas by the requests under test.
Actions: in M owned by Politie (xM), GGZ (xG), the school (xS), the expert pool (xD) and the
municipality (xU); in N by Politie (xN); in A by Arnhem (xA).
Referrals from M to GGZ (rG), to the expert pool (rD, a request for assessment) and to the school
(rS); from N to Politie (rN); to Arnhem's registry (rX); received from Arnhem's registry (rI).
Accepted copies: arG, arD, arN, arX, arI.
Subscriptions with one dead delivery each (the receiver failed): Utrecht's (sU, by the admin) and
Arnhem's (sA, by Arnhem's system).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text, update
from sqlmodel import Session, select

from app.models import (
    Meeting,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    Signal,
    User,
)
from app.models.base import utcnow
from app.services import accounts, delivery
from app.validation import is_valid_bsn
from tests.conftest import MUTABLE_TABLES, PASSWORD
from tests.db import inspect_db
from tests.factories import arnhem_coordinator, signal_body, with_etag
from tests.meeting_helpers import user_id
from tests.referral_helpers import inbound_body, link_arnhem

API = "/api/v1"
REASON = "Acute dreiging gemeld door de wijk; informatie is vandaag nodig voor het veiligheidsoverleg."
NO_ACTION = {"outcome": "no_further_action", "reason": "Geen zorgen na gesprek met school."}
PAST = "2026-01-05T09:00:00Z"
DUE = "2099-01-01"
CALLBACK = "https://127.0.0.1:9/casusregister"
ARNHEM = {"A", "MA", "cMA", "xA", "sA"}  # the world's records Arnhem's coordinator or system made
# Tables whose rows a denied request must leave alone (the audit log and login counters may grow).
STATE_TABLES = [t for t in MUTABLE_TABLES if not t.startswith("audit") and t != "login_failures"]


# username, display name, organisation code, roles: the matrix's callers beyond the demo's accounts.
USERS = [("probation", "Reclasseringswerker", "REC", [Role.partner]),
         ("chair-late", "Voorzitter vorig casusoverleg", "UTR", [Role.chair]),
         ("arnhem-coordinator", "Regisseur Arnhem", "ARN", [Role.coordinator]),
         ("arnhem-chair", "Voorzitter casusoverleg Arnhem", "ARN", [Role.chair]),
         ("arnhem-privacy", "Functionaris gegevensbescherming Arnhem", "ARN", [Role.privacy_officer]),
         ("arnhem-admin", "Functioneel beheerder Arnhem", "ARN", [Role.admin])]


def matrix_accounts(app) -> None:
    """Reclassering (in Utrecht's network and Arnhem's) and the users of USERS, once per database; each
    one on its own, as other tests create some of them."""
    with Session(app.state.engine) as session:
        def organisation(code: str) -> Organisation:
            return session.exec(select(Organisation).where(Organisation.code == code)).one()

        if session.exec(select(Organisation).where(Organisation.code == "REC")).first() is None:
            probation = accounts.create_organisation(session, "Reclassering Nederland", OrganisationKind.probation,
                                                     "REC", organisation("UTR"))
            accounts.join_network(session, probation, organisation("ARN"))
        for username, display_name, code, roles in USERS:
            if session.exec(select(User).where(User.username == username)).first() is None:
                accounts.create_user(session, app.state.hasher, username, display_name, organisation(code), roles,
                                     PASSWORD)
        session.commit()


def bsn(serial: int) -> str:
    """The first BSN from a range of the world's own at or after `serial`: nine digits that pass the elfproef."""
    number = 700_000_000 + serial * 1_000
    while not is_valid_bsn(str(number)):
        number += 1
    return str(number)


@dataclass(frozen=True)
class Identity:
    """A person of the world: what identifies them, and the record they came with (a world key)."""

    id: str
    pseudonym: str
    name: str
    bsn: str
    address: str
    municipality: str  # UTR or ARN
    origin: str


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


class World:
    """Builds records through the API, as the users who would."""

    def __init__(self, app, client, auth) -> None:
        self.app, self.client, self.auth = app, client, auth
        matrix_accounts(app)
        self.arnhem = arnhem_coordinator(app, auth)
        organisations = ok(client.get(f"{API}/organisations", params={"pageSize": 100},
                                      headers=auth("coordinator")))["items"]
        self.orgs = {o["code"]: o["id"] for o in organisations}
        self.keys: dict[str, dict[str, str]] = {}
        self.serial = 0
        self.standing: dict[str, str] = {}  # the chair's meeting whose agenda holds every copy of M (or A)
        self.origins: dict[str, str] = {}  # a subject's name: the world key of the record it came with
        link_arnhem(app)

    def _subject(self, origin: str) -> dict[str, str]:
        # Each record about another person, so no case of the world is matched to it.
        self.serial += 1
        name = f"Persoon {self.serial:04d} Vries"
        self.origins[name] = origin
        return {"name": name, "bsn": bsn(self.serial), "address": f"Kwakkelpad {self.serial:04d}, 3514 QX Utrecht"}

    def signal_body(self, origin: str) -> dict[str, Any]:
        subject = self._subject(origin)
        body = signal_body(name=subject["name"], bsn=subject["bsn"])
        body["subject"]["address"] = subject["address"]
        return body

    def _submit(self, headers: dict[str, str], origin: str) -> str:
        return ok(self.client.post(f"{API}/signals", json=self.signal_body(origin), headers=headers), 201)["id"]

    def _reporter(self, who: str) -> dict[str, str]:
        return self.auth.client("arnhem-system") if who == "a" else self.auth({"t": "teacher", "p": "police"}[who])

    def signal(self, who: str, origin: str | None = None) -> dict[str, str]:
        signal = self._submit(self._reporter(who), origin or who)
        coordinator = self.arnhem if who == "a" else self.auth("coordinator")
        person = ok(self.client.get(f"{API}/signals/{signal}", headers=coordinator), 200)["person"]["id"]
        return {"id": signal, "person": person}

    def closed_signal(self, who: str) -> dict[str, str]:
        signal = self.signal(who, "c" + who)
        coordinator = self.arnhem if who == "a" else self.auth("coordinator")
        ok(self.client.post(f"{API}/signals/{signal['id']}/triage", json=NO_ACTION, headers=coordinator), 200)
        return signal

    def case(self, name: str, origin: str | None = None) -> dict[str, str]:
        """A fresh case like the world's case M, N or A, with its item, person and emergency access."""
        origin = origin or name
        arnhem = name == "A"
        coordinator = self.arnhem if arnhem else self.auth("coordinator")
        signal = self._submit(self.auth.client("arnhem-system") if arnhem else self.auth("teacher"), origin)
        case = ok(self.client.post(f"{API}/signals/{signal}/triage", json={"outcome": "new_case"},
                                   headers=coordinator), 200)["case_id"]
        members = {"M": ["POL", "GGZ", "SOU", "DPO", "BTU", "REC"], "N": ["POL"], "A": ["REC"]}[name]
        for code in members:
            ok(self.client.post(f"{API}/cases/{case}/members", json={"organisation_id": self.orgs[code]},
                                headers=coordinator), 201)
        if name in ("M", "A"):
            self._on_standing_agenda(case, "chair" if name == "M" else "arnhem-chair")
        author = self.auth("care") if name == "M" else coordinator
        item = ok(self.client.post(f"{API}/cases/{case}/items", json=item_body(), headers=author), 201)["id"]
        person = ok(self.client.get(f"{API}/cases/{case}", headers=coordinator), 200)["person"]["id"]
        member = self.orgs["REC" if arnhem else "POL"]
        ids = {"id": case, "item_id": item, "organisation_id": member, "person": person}
        breaker = {"M": "youthworker", "N": "youthworker"}.get(name)
        if breaker:
            ids["ea"] = ok(self.client.post(f"{API}/cases/{case}/emergency-access", json={"reason": REASON},
                                            headers=self.auth(breaker)), 201)["id"]
        return ids

    def _on_standing_agenda(self, case: str, chair: str) -> None:
        if chair not in self.standing:
            self.standing[chair] = self._plan(chair, [])["id"]
        ok(self.client.post(f"{API}/meetings/{self.standing[chair]}/agenda/items", json={"case_id": case},
                            headers=self.auth(chair)), 201)

    def _plan(self, chair: str, attendees: list[str]) -> dict[str, Any]:
        planner = self.arnhem if chair.startswith("arnhem-") else self.auth("coordinator")
        body = {"starts_at": PAST, "chair_id": user_id(self.app, chair),
                "attending_organisation_ids": [self.orgs[code] for code in attendees]}
        return ok(self.client.post(f"{API}/meetings", json=body, headers=planner), 201)

    def meeting(self, name: str, closed: bool = False) -> dict[str, str]:
        """A meeting like MT, MO, MA or ML (closed: after it ran), with its case's agenda item."""
        chair, attendees, case = {"MT": ("chair", ["POL", "GGZ", "SOU", "DPO"], "M"),
                                  "MO": ("coordinator", ["POL"], "N"), "MA": ("arnhem-chair", [], "A"),
                                  "ML": ("chair-late", ["POL"], "N")}[name]
        meeting = self._plan(chair, attendees)["id"]
        runner = self.auth(chair)
        agenda = ok(self.client.post(f"{API}/meetings/{meeting}/agenda/items",
                                     json={"case_id": self.keys[case]["id"]}, headers=runner), 201)
        if closed:
            for status in ("in_progress", "closed"):
                url = f"{API}/meetings/{meeting}"
                ok(self.client.patch(url, json={"status": status}, headers=with_etag(self.client, runner, url)), 200)
        return {"id": meeting, "item_id": agenda["items"][0]["id"], "case_id": self.keys["K"]["id"]}

    def late_meeting(self) -> dict[str, str]:
        """ML: its chair's window on N has passed, CHAIR_ACCESS_DAYS_AFTER_CLOSE days and one more."""
        meeting = self.meeting("ML", closed=True)
        days = self.app.state.settings.chair_access_days_after_close + 1
        with inspect_db(self.app, owner=True) as session:
            session.execute(update(Meeting).where(Meeting.id == uuid.UUID(meeting["id"]))
                            .values(closed_at=utcnow() - timedelta(days=days)))
            session.commit()
        return meeting

    def signal_origins(self) -> dict[str, str]:
        """Every signal by id: the record its person came with."""
        people = self.identities()
        with inspect_db(self.app, owner=True) as session:
            return {str(i): people[str(p)].origin for i, p in session.exec(select(Signal.id, Signal.person_id))}

    def identities(self) -> dict[str, Identity]:
        """Every person of the world by id, with the record they came with."""
        with inspect_db(self.app, owner=True) as session:
            people = session.exec(select(Person, Organisation.code).join(
                Organisation, Organisation.id == Person.municipality_id)).all()
        return {str(p.id): Identity(str(p.id), p.pseudonym, p.name, p.bsn, p.address, code, self.origins[p.name])
                for p, code in people}

    def action(self, case: str, owner: str) -> dict[str, str]:
        coordinator = self.arnhem if case == "A" else self.auth("coordinator")
        body = {"description": "Huisbezoek", "owner_organisation_id": self.orgs[owner], "due_date": DUE}
        return {"id": ok(self.client.post(f"{API}/cases/{self.keys[case]['id']}/actions", json=body,
                                          headers=coordinator), 201)["id"]}

    def referral(self, name: str, accepted: bool = False) -> dict[str, str]:
        """A referral like rG, rD, rS, rN, rX or rI (accepted: by its recipient)."""
        if name == "rI":
            body = self.inbound("arI" if accepted else "rI")
            referral = ok(self.client.post(f"{API}/inbound-referrals", json=body,
                                           headers=self.auth.client("arnhem-system")), 201)["id"]
        else:
            case, code = {"rG": ("M", "GGZ"), "rD": ("M", "DPO"), "rS": ("M", "SOU"), "rN": ("N", "POL"),
                          "rX": ("M", "ARN")}[name]
            body = {"recipient_organisation_id": self.orgs[code], "purpose": "Begeleiding bij zorgen.",
                    "legal_basis": "public_task", "shared_fields": ["name", "date_of_birth"]}
            referral = ok(self.client.post(f"{API}/cases/{self.keys[case]['id']}/referrals", json=body,
                                           headers=self.auth("coordinator")), 201)["id"]
        if accepted:
            recipient = {"rG": self.auth("care"), "rD": self.auth("expert"), "rN": self.auth("police"),
                         "rX": self.auth.client("arnhem-system"), "rI": self.auth("coordinator")}[name]
            ok(self.client.post(f"{API}/referrals/{referral}/accept", json={}, headers=recipient), 200)
        return {"id": referral, "pool": "yes" if name == "rD" else ""}

    def subscription(self, where: str) -> dict[str, str]:
        """A subscription of Utrecht (U) to signal.received or of Arnhem's system (A) to referral.received,
        with one delivery the worker gave up on (dead): only delivered and dead ones can be redelivered."""
        manager = self.auth.client("arnhem-system") if where == "A" else self.auth("admin")
        body = {"callback_url": CALLBACK, "events": ["referral.received" if where == "A" else "signal.received"]}
        subscription = ok(self.client.post(f"{API}/subscriptions", json=body, headers=manager), 201)["id"]
        if where == "A":
            self.keys["sA-rX"] = self.referral("rX")
        else:
            self._submit(self.auth("teacher"), "sU")
        settings = self.app.state.settings.model_copy(update={"webhook_max_attempts": 1})
        with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503))) as failing:
            delivery.deliver_due(self.app.state.engine, settings, failing)
        [message] = ok(self.client.get(f"{API}/subscriptions/{subscription}/deliveries", headers=manager))["items"]
        return {"id": subscription, "delivery_id": message["id"]}

    def inbound(self, origin: str = "new") -> dict[str, Any]:
        """A referral from Arnhem's registry, about a person of its own, with a reference of its own (else
        it answers the same one)."""
        subject = self._subject(origin)
        return inbound_body(reference=f"ARN-{self.serial}", subject={
            "name": subject["name"], "date_of_birth": "2001-07-14", "bsn": subject["bsn"]})

    def build(self) -> "World":
        for key, builder in BUILDERS.items():
            self.keys[key] = builder(self)
        self.keys |= {"SM": {"id": self.standing["chair"]}, "SA": {"id": self.standing["arnhem-chair"]}}
        return self

    def fresh(self, key: str) -> dict[str, str]:
        """A new record like the world's `key`, for a request that may change it."""
        return BUILDERS[key](self)

    def etag(self, key: str, path: str) -> str:
        """The ETag of `path` as read by the coordinator of the record's municipality."""
        response = self.client.get(path, headers=self.arnhem if key in ARNHEM else self.auth("coordinator"))
        ok(response, 200)
        return response.headers["etag"]



# world key: how to build that record. A new kind of record adds its records here.
BUILDERS: dict[str, Callable[[World], dict[str, str]]] = {
    **{name: (lambda w, name=name: w.case(name)) for name in ("M", "N", "A")},
    **{who: (lambda w, who=who: w.signal(who)) for who in ("t", "p", "a")},
    **{"c" + who: (lambda w, who=who: w.closed_signal(who)) for who in ("t", "p", "a")},
    "K": lambda w: w.case("N", origin="K"),
    **{name: (lambda w, name=name: w.meeting(name)) for name in ("MT", "MO", "MA")},
    **{"c" + name: (lambda w, name=name: w.meeting(name, closed=True)) for name in ("MT", "MO", "MA")},
    "ML": lambda w: w.late_meeting(),
    **{key: (lambda w, owner=owner: w.action("M", owner))
       for key, owner in {"xM": "POL", "xG": "GGZ", "xS": "SOU", "xD": "DPO", "xU": "UTR"}.items()},
    "xN": lambda w: w.action("N", "POL"),
    "xA": lambda w: w.action("A", "ARN"),
    **{name: (lambda w, name=name: w.referral(name)) for name in ("rG", "rD", "rS", "rN", "rX", "rI")},
    **{"a" + name: (lambda w, name=name: w.referral(name, accepted=True)) for name in ("rG", "rD", "rN", "rX", "rI")},
    **{"s" + where: (lambda w, where=where: w.subscription(where)) for where in ("U", "A")},
}


def item_body() -> dict[str, str]:
    return {"kind": "other", "text": "Gesprek met de moeder.", "source": "Gesprek", "date": "2025-01-10"}


def records(app) -> dict[str, list[str]]:
    """Every row of every table a request could change, bar the audit log and login counters."""
    with inspect_db(app) as session:
        return {table: sorted(map(repr, session.execute(text(f"SELECT * FROM {table}")).all()))
                for table in STATE_TABLES}
