"""The records the route authorization matrix aims at, in Utrecht and in Arnhem.

Utrecht case M: the police, GGZ (care), the school (teacher), the expert pool and the Buurtteam take
part; JoU (youthworker) broke the glass on it.
Utrecht case N: only the municipality and the police take part; JoU broke the glass on it too.
Arnhem case A: run by Arnhem's coordinator, from a signal of Arnhem's system.
Each case has an item (in M by GGZ, in N and A by the coordinator) and its person. Untriaged signals:
t (teacher), p (police), a (Arnhem's system); closed without further action: ct, cp, ca.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from tests.conftest import MUTABLE_TABLES
from tests.factories import arnhem_coordinator, signal_body

API = "/api/v1"
REASON = "Acute dreiging gemeld door de wijk; informatie is vandaag nodig voor het veiligheidsoverleg."
NO_ACTION = {"outcome": "no_further_action", "reason": "Geen zorgen na gesprek met school."}
# Tables whose rows a denied request must leave alone (the audit log and login counters may grow).
STATE_TABLES = [t for t in MUTABLE_TABLES if not t.startswith("audit") and t != "login_failures"]


def ok(response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


class World:
    """Builds records through the API, as the users who would."""

    def __init__(self, app, client, auth) -> None:
        self.app, self.client, self.auth = app, client, auth
        self.arnhem = arnhem_coordinator(app, auth)
        organisations = ok(client.get(f"{API}/organisations", headers=auth("coordinator")), 200)
        self.orgs = {o["code"]: o["id"] for o in organisations}
        self.keys: dict[str, dict[str, str]] = {}
        self.serial = 0

    def _submit(self, headers: dict[str, str]) -> str:
        # Each signal about another person, so no case of the world is matched to it.
        self.serial += 1
        body = signal_body(name=f"Persoon {self.serial} Vries", bsn=None)
        return ok(self.client.post(f"{API}/signals", json=body, headers=headers), 201)["id"]

    def _reporter(self, who: str) -> dict[str, str]:
        return self.auth.client("arnhem-system") if who == "a" else self.auth({"t": "teacher", "p": "police"}[who])

    def signal(self, who: str) -> dict[str, str]:
        signal = self._submit(self._reporter(who))
        coordinator = self.arnhem if who == "a" else self.auth("coordinator")
        person = ok(self.client.get(f"{API}/signals/{signal}", headers=coordinator), 200)["person"]["id"]
        return {"id": signal, "person": person}

    def closed_signal(self, who: str) -> dict[str, str]:
        signal = self.signal(who)
        coordinator = self.arnhem if who == "a" else self.auth("coordinator")
        ok(self.client.post(f"{API}/signals/{signal['id']}/triage", json=NO_ACTION, headers=coordinator), 200)
        return signal

    def case(self, name: str) -> dict[str, str]:
        """A fresh case like the world's case M, N or A, with its item, person and emergency access."""
        arnhem = name == "A"
        coordinator = self.arnhem if arnhem else self.auth("coordinator")
        signal = self._submit(self.auth.client("arnhem-system") if arnhem else self.auth("teacher"))
        case = ok(self.client.post(f"{API}/signals/{signal}/triage", json={"outcome": "new_case"},
                                   headers=coordinator), 200)["case_id"]
        members = {"M": ["POL", "GGZ", "SOU", "DPO", "BTU"], "N": ["POL"], "A": []}[name]
        for code in members:
            ok(self.client.post(f"{API}/cases/{case}/members", json={"organisation_id": self.orgs[code]},
                                headers=coordinator), 201)
        author = self.auth("care") if name == "M" else coordinator
        item = ok(self.client.post(f"{API}/cases/{case}/items", json=item_body(), headers=author), 201)["id"]
        person = ok(self.client.get(f"{API}/cases/{case}", headers=coordinator), 200)["person"]["id"]
        ids = {"id": case, "item_id": item, "organisation_id": self.orgs["POL"], "person": person}
        breaker = {"M": "youthworker", "N": "youthworker"}.get(name)
        if breaker:
            ids["ea"] = ok(self.client.post(f"{API}/cases/{case}/emergency-access", json={"reason": REASON},
                                            headers=self.auth(breaker)), 201)["id"]
        return ids

    def build(self) -> "World":
        for key, builder in BUILDERS.items():
            self.keys[key] = builder(self)
        return self

    def fresh(self, key: str) -> dict[str, str]:
        """A new record like the world's `key`, for a request that may change it."""
        return BUILDERS[key](self)

    def etag(self, key: str, case: str) -> str:
        coordinator = self.arnhem if key == "A" else self.auth("coordinator")
        return self.client.get(f"{API}/cases/{case}", headers=coordinator).headers["etag"]



# world key: how to build that record. A new kind of record adds its records here.
BUILDERS: dict[str, Callable[[World], dict[str, str]]] = {
    **{name: (lambda w, name=name: w.case(name)) for name in ("M", "N", "A")},
    **{who: (lambda w, who=who: w.signal(who)) for who in ("t", "p", "a")},
    **{"c" + who: (lambda w, who=who: w.closed_signal(who)) for who in ("t", "p", "a")},
}


def item_body() -> dict[str, str]:
    return {"kind": "other", "text": "Gesprek met de moeder.", "source": "Gesprek", "date": "2025-01-10"}


def records(app) -> dict[str, list[str]]:
    """Every row of every table a request could change, bar the audit log and login counters."""
    with Session(app.state.engine) as session:
        return {table: sorted(map(repr, session.execute(text(f"SELECT * FROM {table}")).all()))
                for table in STATE_TABLES}
