"""The demo's week: a dozen signals, five cases (one per status), last week's case conference closed
with minutes, decisions and actions, next week's with its agenda built, referrals open at GGZ and the
duidingspool, and Gemeente Arnhem's registry linked.

Recorded through the registry's own API, in process (the app that `serve` runs, called over ASGI with
tokens from its key ring): every step passes the same policies, writes the same audit events, numbers
the same cases and notifies the same subscriptions as a user's request would. The API keeps the clock's
time and refuses a due date in the past, so each step runs now and is then moved back to the moment it
happens in the story (app.demo.move_back): timestamps by the step's offset, and the due dates agreed in
it by as many days (the API checked them against that day). The audit log keeps when the demo was
really recorded. All dates are relative to the day it is seeded (`app.demo_story.Calendar`).
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import Session, select

from app import demo
from app.config import Settings
from app.demo_story import BRAM, DAAN, FENNA, ILSE, JESSE, LOTTE, MILAN, NOOR, SAM, YARA, Calendar, Subject
from app.models import ApiClient, Organisation, User
from app.models.base import utcnow
from app.services import accounts, endpoints

API = "/api/v1"
LOCATION = "Zorg- en Veiligheidshuis Utrecht"
ATTENDING = ("UTR", "POL", "OM", "GGZ", "JOU", "BTU")
# The link `casusregister register-endpoint ARN --municipality UTR …` makes; Arnhem's registry is fictional.
ARNHEM_REGISTRY = "https://casusregister.arnhem.example"
INBOUND_REFERENCE = "ARN-DEMO-0001"


class WeekFailed(RuntimeError):
    """A step of the week was not answered as expected: the database holds part of the week."""


class Api:
    """The registry's API in process, as one account or another; anything but the expected answer stops the week."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    async def call(self, who: str, method: str, path: str, expect: int = 200, *, json: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} | (headers or {})
        response = await self.client.request(method, API + path, json=json, headers=headers)
        if response.status_code != expect:
            raise WeekFailed(f"{method} {path} as {who}: {response.status_code} (expected {expect}): "
                             f"{response.text[:500]}")
        return response

    async def post(self, who: str, path: str, body: Any, expect: int = 201, **kwargs) -> dict[str, Any]:
        return (await self.call(who, "POST", path, expect, json=body, **kwargs)).json()

    async def etag(self, who: str, path: str) -> str:
        return (await self.call(who, "GET", path)).headers["etag"]


class Week:
    """The story's steps, in order; each runs through the API now and is then moved back to its moment."""

    def __init__(self, app: FastAPI, api: Api, calendar: Calendar) -> None:
        self.app, self.api, self.cal = app, api, calendar
        self.last = datetime.min.replace(tzinfo=UTC)
        self.days = 0
        with Session(app.state.engine) as session:
            self.org = {o.code: str(o.id) for o in session.exec(select(Organisation)).all()}
            self.user = {u.username: str(u.id) for u in session.exec(select(User)).all()}
        self.cases: dict[str, str] = {}  # person's name -> case id
        self.meeting_etag = ""

    @asynccontextmanager
    async def at(self, moment: datetime) -> AsyncIterator[None]:
        if not self.last <= moment <= self.cal.now:
            raise WeekFailed(f"a step at {moment:%Y-%m-%d %H:%M} is out of the story's order")
        self.last = moment
        # The API's own today (the server's local date) against the step's day: due dates move by this much.
        self.days = (date.today() - moment.astimezone().date()).days
        since = utcnow()
        yield
        demo.move_back(self.app.state.engine, since, moment, self.days)

    def due(self, day: date) -> str:
        """A due date of the story, as the API must receive it in a step that runs `self.days` late."""
        return (day + timedelta(days=self.days)).isoformat()

    async def signal(self, who: str, subject: Subject, categories: list[str], description: str,
                     observed: datetime | timedelta, channel: str = "in_person", urgency: str = "normal",
                     with_bsn: bool = True) -> str:
        """`observed`: when, or how long before this step."""
        observed = self.last - observed if isinstance(observed, timedelta) else observed
        body = {"subject": subject.body(with_bsn), "categories": categories, "description": description,
                "observed_at": observed.isoformat(), "urgency": urgency, "channel": channel,
                "district": subject.district}
        return (await self.api.post(who, "/signals", body, headers={"Idempotency-Key": str(uuid.uuid4())}))["id"]

    async def triage(self, signal_id: str, outcome: str, subject: Subject | None = None, **body) -> str | None:
        if outcome == "link_to_case":
            body["case_id"] = self.cases[subject.name]
        triaged = await self.api.post("coordinator", f"/signals/{signal_id}/triage", body | {"outcome": outcome}, 200)
        if outcome == "new_case":
            self.cases[subject.name] = triaged["case_id"]
        return triaged["case_id"]

    async def members(self, subject: Subject, *codes: str) -> None:
        for code in codes:
            await self.api.post("coordinator", f"/cases/{self.cases[subject.name]}/members",
                                {"organisation_id": self.org[code]})

    async def change(self, subject: Subject, **body) -> None:
        path = f"/cases/{self.cases[subject.name]}"
        await self.api.call("coordinator", "PATCH", path, json=body,
                            headers={"If-Match": await self.api.etag("coordinator", path)})

    async def item(self, who: str, subject: Subject, kind: str, text: str, source: str, day: date,
                   shared_with: tuple[str, ...] | None = None) -> str:
        body = {"kind": kind, "text": text, "source": source, "date": day.isoformat()}
        if shared_with is not None:
            body["shared_with"] = [self.org[c] for c in shared_with]
        return (await self.api.post(who, f"/cases/{self.cases[subject.name]}/items", body))["id"]

    async def meeting_change(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.call("chair", "PATCH", path, json=body, headers={"If-Match": self.meeting_etag})
        self.meeting_etag = response.headers["etag"]
        return response.json()

    async def build(self, meeting_id: str) -> dict[str, str]:
        """The chair builds the agenda; returns its items' ids by case id."""
        response = await self.api.call("chair", "POST", f"/meetings/{meeting_id}/agenda/build")
        self.meeting_etag = response.headers["etag"]
        return {item["case_id"]: item["id"] for item in response.json()["items"]}

    async def action(self, subject: Subject, owner: str, user: str, description: str, due: date,
                     agenda_item: str | None) -> dict[str, Any]:
        body = {"description": description, "owner_organisation_id": self.org[owner],
                "owner_user_id": self.user[user], "due_date": self.due(due), "agenda_item_id": agenda_item}
        return await self.api.post("chair" if agenda_item else "coordinator",
                                   f"/cases/{self.cases[subject.name]}/actions", body)

    async def finish(self, who: str, action: dict[str, Any], note: str) -> None:
        path = f"/actions/{action['id']}"
        await self.api.call(who, "PATCH", path, json={"status": "done", "result_note": note},
                            headers={"If-Match": await self.api.etag(who, path)})


async def record(week: Week) -> None:
    """The story, in the order it happens."""
    cal, api, at = week.cal, week.api, week.at
    meeting_day = cal.previous_day

    def ago(days: int) -> date:
        return meeting_day - timedelta(days=days)

    # Jesse: a case from months ago that the conference closes last week.
    async with at(cal.before(118, "09:30")):
        jesse = await week.signal("teacher", JESSE, ["change_in_behaviour", "extremist_expressions"],
                                  "Maakt in de les opmerkingen die geweld tegen andersdenkenden goedpraten; "
                                  "mentor maakt zich zorgen.", cal.before(120, "11:00"))
    async with at(cal.before(117, "14:00")):
        await week.triage(jesse, "new_case", JESSE)
        await week.members(JESSE, "BTU")
    async with at(cal.before(90, "11:00")):
        await week.change(JESSE, status="investigation")
    # Sam: youth work's worry, in monitoring now, due for review.
    async with at(cal.before(76, "10:15")):
        sam = await week.signal("youthworker", SAM, ["social_isolation", "online_propaganda"],
                                "Trekt zich terug uit de groep en deelt propagandafilmpjes in een groepsapp.",
                                cal.before(78, "20:00"), channel="online", with_bsn=False)
    async with at(cal.before(75, "09:00")):
        await week.triage(sam, "new_case", SAM)
        await week.members(SAM, "JOU", "BTU")
    async with at(cal.before(62, "11:00")):
        await week.change(JESSE, status="approach")
        await week.item("coordinator", JESSE, "municipality", "Plan van aanpak: mentor op school, buurtteam "
                        "ondersteunt het gezin.", "Casusregie", ago(62), ("BTU",))
    async with at(cal.before(61, "11:00")):
        await week.change(SAM, status="investigation")
        await week.item("youthworker", SAM, "youth_work", "Sam komt weer op de inloop; gesprekken over "
                        "werk en school lopen goed.", "Jongerenwerker JoU", ago(61), ("BTU",))
    async with at(cal.before(47, "11:00")):
        await week.change(SAM, status="approach")
    async with at(cal.before(27, "11:00")):
        await week.change(JESSE, status="monitoring")
    # Daan: two signals, three partners, information shared differently.
    async with at(cal.before(27, "13:20")):
        daan = await week.signal("teacher", DAAN, ["change_in_behaviour", "extremist_expressions"],
                                 "Spreekt in de klas over 'de strijd' en zoekt contact met onbekende volwassenen "
                                 "online.", cal.before(28, "10:30"), urgency="high")
    async with at(cal.before(26, "09:45")):
        await week.triage(daan, "new_case", DAAN)
        await week.members(DAAN, "POL", "GGZ")
    async with at(cal.before(22, "14:00")):
        await week.change(DAAN, status="investigation", risk_assessment={
            "level": "medium", "summary": "Zorgelijke uitingen, geen aanwijzingen voor concrete plannen.",
            "assessed_on": ago(22).isoformat()})
    async with at(cal.before(20, "11:00")):
        await week.change(SAM, status="monitoring", next_review_date=meeting_day.isoformat())
    async with at(cal.before(19, "10:00")):
        await week.item("police", DAAN, "police", "Bekend van een melding over bedreigingen op sociale media; "
                        "geen strafbare feiten vastgesteld.", "Politie Midden-Nederland", ago(20))
        await week.item("care", DAAN, "care", "In beeld bij de GGZ voor angstklachten; behandeling gestopt.",
                        "GGZ Utrecht", ago(19))
    async with at(cal.before(14, "16:00")):
        body = {"starts_at": cal.previous.isoformat(), "chair_id": week.user["chair"], "location": LOCATION,
                "attending_organisation_ids": [week.org[c] for c in ATTENDING]}
        previous = (await api.post("coordinator", "/meetings", body))["id"]
    async with at(cal.before(13, "11:00")):
        await week.change(DAAN, status="approach")
        shared = await week.item("coordinator", DAAN, "municipality", "Gesprek met ouders: zij zien hem "
                                 "veranderen en willen hulp.", "Casusregie", ago(13), ("POL", "GGZ"))
    # Fenna: youth work's signal, then the school's, matched by name and date of birth.
    async with at(cal.before(8, "15:30")):
        fenna = await week.signal("youthworker", FENNA, ["recruitment", "online_propaganda"],
                                  "Wordt benaderd door een oudere jongen die haar meeneemt naar bijeenkomsten.",
                                  cal.before(9, "21:00"), with_bsn=False)
    async with at(cal.before(7, "10:00")):
        await week.triage(fenna, "new_case", FENNA)
        await week.members(FENNA, "JOU", "POL")
    async with at(cal.before(6, "09:00")):
        await week.change(FENNA, status="investigation")
        fenna_item = await week.item("youthworker", FENNA, "youth_work", "Fenna vertelt open over de "
                                     "bijeenkomsten; ze twijfelt.", "Jongerenwerker JoU", ago(6), ("POL",))
        await week.item("police", FENNA, "police", "De oudere jongen is bekend van wervingsactiviteiten.",
                        "Politie Midden-Nederland", ago(6))
    async with at(cal.before(6, "19:40")):
        daan_police = await week.signal("police", DAAN, ["threat_of_violence"], "Dreigende berichten in "
                                        "een online groep; gesprek met ouders gevoerd.", cal.before(6, "18:00"),
                                        channel="phone", urgency="high")
    async with at(cal.before(5, "09:10")):
        await week.triage(daan_police, "link_to_case", DAAN)
    # Lotte: no further action.
    async with at(cal.before(5, "11:30")):
        lotte = await week.signal("teacher", LOTTE, ["other"], "Tekende symbolen in een schrift; ouders "
                                  "maken zich zorgen.", cal.before(5, "09:00"))
    async with at(cal.before(4, "10:30")):
        await week.triage(lotte, "no_further_action", reason="Geen aanwijzingen voor radicalisering: het "
                          "zorgteam van de school pakt het op.")
    async with at(cal.before(4, "16:00")):
        await api.post("coordinator", f"/cases/{week.cases[JESSE.name]}/closure-proposals",
                       {"reason": "Doelen behaald: opleiding hervat, geen signalen meer sinds drie maanden."})

    # Last week's meeting: built the day before, minuted, decided and closed.
    async with at(cal.before(1, "15:00")):
        items = await week.build(previous)
    path = f"/meetings/{previous}"
    async with at(cal.meeting(0)):
        await week.meeting_change(path, {"status": "in_progress"})
    decisions = [
        (JESSE, "close_case", "Casus afgesloten met instemming van alle partners.", {
            "closure_reason": "Doelen behaald: opleiding hervat, geen signalen meer sinds drie maanden."}),
        (DAAN, "start_referral", "Zorgen nemen toe; behandeling bij de GGZ is nodig. Politie spreekt hem en "
                                 "zijn ouders.", {}),
        (FENNA, "request_assessment", "Onduidelijk hoe ver de beïnvloeding gaat: duiding door de duidingspool.",
         {}),
        (SAM, "continue_approach", "Gaat goed; volgende week opnieuw bespreken.", {}),
    ]
    agreed = {}
    for minutes, (subject, decision, text, extra) in enumerate(decisions, start=1):
        item = items[week.cases[subject.name]]
        async with at(cal.meeting(15 * minutes)):
            await week.meeting_change(f"{path}/agenda/items/{item}", {"minutes": text, "decision": decision} | extra)
            if subject is DAAN:
                agreed["police"] = await week.action(DAAN, "POL", "police", "Gesprek met Daan en zijn ouders.",
                                                     cal.overdue_date(), item)
                agreed["referral"] = await week.action(DAAN, "UTR", "coordinator", "Verwijzing naar GGZ Utrecht "
                                                       "opstellen en versturen.", ago(-1), item)
            elif subject is FENNA:
                await week.action(FENNA, "JOU", "youthworker", "Wekelijks contact met Fenna; bijzonderheden als "
                                  "informatie-item delen.", cal.next_day + timedelta(days=7), item)
            elif subject is SAM:
                agreed["sam"] = await week.action(SAM, "JOU", "youthworker", "Stand van zaken opleiding en werk "
                                                  "navragen.", ago(-7), item)
    async with at(cal.meeting(105)):
        await week.meeting_change(path, {"status": "closed"})

    # Since then: the decisions carried out, new signals, Arnhem's referral.
    moments = iter(cal.since_meeting(11))
    async with at(next(moments)):
        await api.post("coordinator", f"/cases/{week.cases[DAAN.name]}/referrals", {
            "recipient_organisation_id": week.org["GGZ"], "purpose": "Behandeling van angstklachten en begeleiding "
            "bij de zorgen uit het casusoverleg.", "legal_basis": "consent", "legal_basis_note": "Daan en zijn "
            "ouders stemmen in.", "shared_fields": ["name", "date_of_birth"], "shared_item_ids": [shared]})
        await week.finish("coordinator", agreed["referral"], "Verwijzing verstuurd.")
        await api.post("coordinator", f"/cases/{week.cases[FENNA.name]}/referrals", {
            "recipient_organisation_id": week.org["DPO"], "purpose": "Duiding: hoe ver gaat de beïnvloeding, en "
            "wat is er nodig?", "legal_basis": "public_task", "shared_fields": ["name", "date_of_birth"],
            "shared_item_ids": [fenna_item], "due_date": week.due(cal.next_day)})
        await week.change(SAM, next_review_date=cal.next_day.isoformat())
    async with at(next(moments)):
        body = {"starts_at": cal.next.isoformat(), "chair_id": week.user["chair"], "location": LOCATION,
                "attending_organisation_ids": [week.org[c] for c in ATTENDING], "repeat_weekly": 3}
        upcoming = (await api.post("coordinator", "/meetings", body))["id"]
    async with at(next(moments)):
        noor = await week.signal("police", NOOR, ["travel_intent", "extremist_expressions"], "Heeft tegen "
                                 "vrienden gezegd naar het buitenland te willen vertrekken om zich aan te "
                                 "sluiten bij een strijdgroep.", timedelta(hours=20), urgency="high")
    async with at(next(moments)):
        await week.finish("youthworker", agreed["sam"], "Sam heeft een stageplek gevonden.")
    async with at(next(moments)):
        await week.triage(noor, "new_case", NOOR)
        await week.members(NOOR, "POL")
        await week.item("police", NOOR, "police", "Paspoort is recent aangevraagd.", "Politie Midden-Nederland",
                        meeting_day)
    async with at(next(moments)):
        fenna_school = await week.signal("teacher", FENNA, ["change_in_behaviour"], "Verzuimt vaker en draagt "
                                         "materiaal van een extremistische groep bij zich.",
                                         timedelta(hours=5), with_bsn=False)
    async with at(next(moments)):
        await week.triage(fenna_school, "link_to_case", FENNA)
    async with at(next(moments)):
        await week.signal("youthworker", MILAN, ["social_isolation"], "Komt niet meer naar de inloop en zegt "
                          "dat 'iedereen tegen hem is'.", timedelta(days=1), with_bsn=False)
    async with at(next(moments)):
        await api.post("arnhem-system", "/inbound-referrals", {
            "sender_reference": INBOUND_REFERENCE, "purpose": "Betrokkene verhuist naar Utrecht; overdracht van "
            "de aanpak.", "legal_basis": "public_task", "subject": YARA.body(),
            "summary": "In beeld bij de gemeente Arnhem sinds vorig jaar; contact met het jongerenwerk loopt goed."})
    async with at(next(moments)):
        await week.signal("teacher", ILSE, ["online_propaganda"], "Laat klasgenoten filmpjes van een haatzaaiende "
                          "prediker zien.", timedelta(hours=2))
    async with at(next(moments)):
        await week.signal("police", BRAM, ["threat_of_violence", "extremist_expressions"], "Dreigt op straat "
                          "een moskee aan te vallen; aangehouden en weer vrijgelaten.",
                          timedelta(hours=1), channel="phone", urgency="high")

    # Today: the chair builds next week's agenda.
    async with at(cal.now):
        await week.build(upcoming)


def tokens(app: FastAPI) -> dict[str, str]:
    """Bearer tokens for every demo account, as the token endpoint would issue them."""
    keyring, found = app.state.keyring, {}
    with Session(app.state.engine) as session:
        for user in session.exec(select(User)).all():
            found[user.username] = keyring.issue(str(user.id), {
                "actor": "user", "name": user.username, "org": str(user.organisation_id), "roles": list(user.roles)})[0]
        for client in session.exec(select(ApiClient)).all():
            found[client.client_id] = keyring.issue(str(client.id), {
                "actor": "client", "name": client.client_id, "org": str(client.organisation_id),
                "scope": " ".join(sorted(client.scopes))})[0]
    return found


def link_arnhem(app: FastAPI, password: str) -> None:
    """What the administrator does with `casusregister register-endpoint ARN --municipality UTR …`."""
    settings = app.state.settings
    with Session(app.state.engine) as session:
        find = accounts.find_organisation
        endpoints.register(session, settings, find(session, "ARN"), find(session, "UTR"), ARNHEM_REGISTRY,
                           f"{ARNHEM_REGISTRY}{API}/auth/token", "utrecht-system", password)
        session.commit()


def seed_week(settings: Settings, now: datetime | None = None) -> bool:
    """Records the week into a registry that holds the demo network and nothing else yet; False if it
    holds signals or meetings already. `now`: the moment the story is told to (default: now)."""
    from app.factory import create_app

    app = create_app(settings)
    try:
        with Session(app.state.engine) as session:
            if demo.week_present(session):
                return False
        link_arnhem(app, settings.demo_password)
        asyncio.run(_record(app, Calendar.around(now or utcnow())))
        return True
    finally:
        app.state.engine.dispose()


async def _record(app: FastAPI, calendar: Calendar) -> None:
    # A line per request (the app's and httpx's) would bury the command's own output.
    loggers = [logging.getLogger(name) for name in ("casusregister.access", "httpx")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://casusregister.demo") as client:
            await record(Week(app, Api(client, tokens(app)), calendar))
    except WeekFailed:
        raise
    except Exception as exc:  # a failure inside the app: reported as the week's, with the partial data
        raise WeekFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
