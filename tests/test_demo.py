"""The demo's week (app/demo_week.py): what `casusregister seed-demo` records through the API, seen
through the API as each demo account sees it."""

import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from app import demo, demo_story, demo_week
from app.cli import cli
from app.db import Session
from app.demo_story import AMSTERDAM, Calendar
from app.factory import create_app
from app.migrate import upgrade
from app.models import AuditEvent, User
from app.validation import is_valid_bsn
from tests.conftest import PASSWORD, Tokens, _drop_pg_database, database_settings, make_settings, new_database
from tests.db import dispose_owner_engine, inspect_db, owner_engine
from tests.factories import cli_environment
from tests.referral_helpers import inbound_body

API = "/api/v1"


def _seeded_app(backend: str, directory, now: datetime | None = None):
    database = new_database(backend, directory)
    app = create_app(make_settings(database.url, directory, **database_settings(database)))
    upgrade(app.state.settings, owner_engine(app))
    with Session(app.state.engine) as session:
        demo.seed(session, app.state.hasher, PASSWORD)
        session.commit()
    calendar = Calendar.around(now or datetime.now(UTC))
    assert demo_week.seed_week(app.state.settings, now) is True
    return app, calendar, database


@pytest.fixture(scope="module")
def week(backend, tmp_path_factory):
    """The week seeded once per backend: on PostgreSQL today, on SQLite as if today were two days ago
    (another weekday, and the story moved with it); the tests read it against its own calendar."""
    now = datetime.now(UTC) - timedelta(days=2) if backend == "sqlite" else None
    app, calendar, database = _seeded_app(backend, tmp_path_factory.mktemp(f"demo-{backend}"), now)
    with inspect_db(app) as session:
        app.state.seeded_events = session.exec(select(AuditEvent.actor_name, AuditEvent.operation,
                                                      AuditEvent.outcome)).all()
    with TestClient(app) as client:
        yield client, Tokens(app), calendar
    app.state.engine.dispose()
    dispose_owner_engine(app)
    if database.name:
        _drop_pg_database(database.name)


def get(client, path: str, headers: dict, **params) -> dict:
    response = client.get(f"{API}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def items(client, path: str, headers: dict, **params) -> list[dict]:
    return get(client, path, headers, pageSize=100, **params)["items"]


def org_ids(client, auth) -> dict[str, str]:
    return {o["code"]: o["id"] for o in items(client, "/organisations", auth("coordinator"))}


def meetings(client, auth) -> list[dict]:
    """Oldest first."""
    return sorted(items(client, "/meetings", auth("chair")), key=lambda m: m["starts_at"])


def by_status(cases: list[dict]) -> dict[str, dict]:
    return {c["status"]: c for c in cases}


def test_a_dozen_signals_from_different_reporters(week):
    client, auth, calendar = week
    signals = items(client, "/signals", auth("coordinator"))
    assert len(signals) == 12
    assert Counter(s["status"] for s in signals) == {"linked_to_case": 7, "received": 4, "no_further_action": 1}
    codes = {v: k for k, v in org_ids(client, auth).items()}
    reporters = Counter(codes[s["reporter"]["organisation_id"]] for s in signals)
    assert reporters == {"SOU": 5, "JOU": 3, "POL": 3, "ARN": 1}
    assert Counter(s["urgency"] for s in signals)["high"] >= 3
    assert all(is_valid_bsn(s["subject"]["bsn"]) and s["subject"]["bsn"].startswith("99999")
               for s in signals if s["subject"]["bsn"])
    assert {s["match_reason"] for s in signals} >= {"bsn", "name_and_date_of_birth"}  # two signals found their case
    received = [datetime.fromisoformat(s["created_at"]).astimezone(AMSTERDAM) for s in signals]
    assert all(t.weekday() < 5 for t in received) and max(received) < calendar.now
    assert min(received) < calendar.previous - timedelta(days=100)
    # A reporter sees its own signals' status and nothing else.
    assert {s["view"] for s in items(client, "/signals", auth("teacher"))} == {"reporter"}


def test_cases_in_every_status_with_members(week):
    client, auth, calendar = week
    cases = items(client, "/cases", auth("coordinator"))
    assert Counter(c["status"] for c in cases) == {s: 1 for s in ("intake", "investigation", "approach",
                                                                  "monitoring", "closed")}
    year = datetime.now(UTC).year
    assert sorted(c["number"] for c in cases) == [f"UTR-{year}-{n:04d}" for n in range(1, 6)]
    closed = by_status(cases)["closed"]
    assert closed["closure_reason"].startswith("Doelen behaald")
    members = {c["status"]: {m["name"] for m in items(client, f"/cases/{c['id']}/members", auth("coordinator"))}
               for c in cases}
    assert members["approach"] == {"Gemeente Utrecht", "Politie Midden-Nederland", "GGZ Utrecht"}
    assert "Politie Midden-Nederland" not in members["monitoring"] | members["closed"]
    assert by_status(cases)["monitoring"]["next_review_date"] == calendar.next_day.isoformat()


def test_police_sees_in_full_only_the_cases_it_takes_part_in(week):
    client, auth, _ = week
    police = auth("police")
    everything = by_status(items(client, "/cases", auth("coordinator")))
    visible = items(client, "/cases", police)
    assert sorted(c["status"] for c in visible) == ["approach", "intake", "investigation"]
    assert {c["view"] for c in visible} == {"partner"} and all("bsn" not in c["person"] for c in visible)
    for status in ("monitoring", "closed"):
        assert client.get(f"{API}/cases/{everything[status]['id']}", headers=police).status_code == 404
    # Items are shared differently: police does not see what GGZ brought in, GGZ not what police did.
    daan = everything["approach"]["id"]
    kinds = {who: sorted(i["kind"] for i in items(client, f"/cases/{daan}/items", auth(who)))
             for who in ("coordinator", "police", "care")}
    assert kinds == {"coordinator": ["care", "municipality", "police"], "police": ["municipality", "police"],
                     "care": ["care", "municipality"]}


def test_last_weeks_meeting_closed_with_minutes_decisions_and_actions(week):
    client, auth, calendar = week
    last = meetings(client, auth)[0]
    orgs = org_ids(client, auth)
    assert last["status"] == "closed" and datetime.fromisoformat(last["starts_at"]) == calendar.previous
    assert {orgs["POL"], orgs["GGZ"], orgs["JOU"], orgs["UTR"]} <= set(last["attending_organisation_ids"])
    assert calendar.previous < datetime.fromisoformat(last["closed_at"]) < calendar.previous + timedelta(hours=3)
    agenda = get(client, f"/meetings/{last['id']}/agenda", auth("coordinator"))
    assert len(agenda["items"]) == 4
    assert all(i["minutes"] and i["decision"] for i in agenda["items"])
    assert {i["decision"] for i in agenda["items"]} == {"close_case", "start_referral", "request_assessment",
                                                         "continue_approach"}
    actions = [a for c in items(client, "/cases", auth("coordinator"))
               for a in items(client, f"/cases/{c['id']}/actions", auth("coordinator"))]
    assert len(actions) == 4 and all(a["agenda_item_id"] for a in actions)
    assert Counter(a["status"] for a in actions) == {"open": 2, "done": 2}
    [overdue] = [a for a in actions if a["overdue"]]
    assert overdue["owner_organisation_id"] == orgs["POL"]
    assert datetime.fromisoformat(overdue["due_date"]).date() == calendar.overdue_date()
    owned = items(client, "/actions", auth("police"), assignee="me")
    assert [a["id"] for a in owned if a["overdue"]] == [overdue["id"]]


def test_the_meetings_are_chaired_by_the_demo_chair_on_tuesdays_at_ten(week):
    client, auth, calendar = week
    found = meetings(client, auth)
    assert [datetime.fromisoformat(m["starts_at"]) for m in found] == [
        calendar.previous, calendar.next, calendar.next + timedelta(weeks=1), calendar.next + timedelta(weeks=2)]
    with Session(client.app.state.engine) as session:
        chair = session.exec(select(User).where(User.username == "chair")).one()
    assert {m["chair_id"] for m in found} == {str(chair.id)}
    assert all(m["location"] == demo_week.LOCATION for m in found)
    local = [datetime.fromisoformat(m["starts_at"]).astimezone(AMSTERDAM) for m in found]
    assert {(t.weekday(), t.hour, t.minute) for t in local} == {(1, 10, 0)}


def test_next_weeks_agenda_is_built_and_police_sees_placeholders_for_the_rest(week):
    client, auth, calendar = week
    upcoming = meetings(client, auth)[1]
    assert upcoming["status"] == "planned"
    chair = get(client, f"/meetings/{upcoming['id']}/agenda", auth("chair"))
    assert [i["view"] for i in chair["items"]] == ["full"] * 4
    assert Counter(i["kind"] for i in chair["items"]) == {"new_signal": 2, "overdue_actions": 1, "review": 1}
    overdue = next(i for i in chair["items"] if i["kind"] == "overdue_actions")
    assert [a["overdue"] for a in overdue["open_actions"]] == [True]
    assert overdue["last_decision"]["decision"] == "start_referral"
    police = get(client, f"/meetings/{upcoming['id']}/agenda", auth("police"))
    assert sorted(i["view"] for i in police["items"]) == ["full", "full", "full", "redacted"]
    printed = client.get(f"{API}/meetings/{upcoming['id']}/agenda", headers=auth("chair") | {"Accept": "text/html"})
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("text/html")
    # The meetings after it are planned, their agendas not built yet.
    later = meetings(client, auth)[2]
    assert get(client, f"/meetings/{later['id']}/agenda", auth("chair"))["items"] == []


def test_an_open_referral_to_ggz_and_an_assessment_request_at_the_expert_pool(week):
    client, auth, _ = week
    orgs = org_ids(client, auth)
    [referral] = items(client, "/referrals", auth("care"), direction="received")
    assert (referral["kind"], referral["status"], referral["recipient_organisation_id"]) == (
        "referral", "sent", orgs["GGZ"])
    assert referral["subject"]["name"] == "Daan Demo" and referral["subject"]["bsn"] is None
    assert [i["kind"] for i in referral["items"]] == ["municipality"]
    [request] = items(client, "/referrals", auth("expert"))
    assert (request["kind"], request["status"], request["recipient_organisation_id"]) == (
        "assessment_request", "sent", orgs["DPO"])
    sent = items(client, "/referrals", auth("coordinator"), direction="sent")
    received = items(client, "/referrals", auth("coordinator"), direction="received")
    assert len(sent) == 2 and [r["sender_reference"] for r in received] == [demo_week.INBOUND_REFERENCE]


def test_arnhems_system_sends_an_inbound_referral_at_once(week):
    client, auth, _ = week
    response = client.post(f"{API}/inbound-referrals", json=inbound_body("ARN-TEST-0001"),
                           headers=auth.client("arnhem-system"))
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id", "sender_reference", "status", "created_at"}
    assert response.json()["status"] == "sent"


def test_every_step_was_audited_as_the_account_that_took_it(week):
    client, auth, _ = week
    events = client.app.state.seeded_events
    assert {e.outcome for e in events} == {"allowed"}
    actors = {e.actor_name for e in events}
    assert actors >= {"coordinator", "chair", "police", "care", "youthworker", "teacher", "arnhem-system"}
    assert Counter(e.operation for e in events)["create"] >= 12 + 5 + 3


def test_names_are_fictional_and_bsns_test_numbers():
    for subject in demo_story.SUBJECTS:
        assert is_valid_bsn(subject.bsn) and subject.bsn.startswith("99999"), subject
    assert len({s.bsn for s in demo_story.SUBJECTS}) == len(demo_story.SUBJECTS)


@pytest.mark.parametrize("day", range(14))
def test_the_calendar_is_relative_to_today(day):
    """Fourteen consecutive days, across the change to summer time."""
    now = datetime(2026, 3, 20, 16, 30, tzinfo=UTC) + timedelta(days=day)
    cal = Calendar.around(now)
    today = now.astimezone(AMSTERDAM).date()
    for meeting in (cal.previous, cal.next):
        local = meeting.astimezone(AMSTERDAM)
        assert (local.weekday(), local.hour, local.minute) == (1, 10, 0)
    assert cal.previous_day < today < cal.next_day
    assert (cal.next_day - cal.previous_day).days == (14 if today.weekday() == 1 else 7)
    assert (cal.next_day - today).days <= 7 and (today - cal.previous_day).days <= 7
    assert cal.previous_day <= cal.overdue_date() < today
    moments = cal.since_meeting(11)
    assert moments == sorted(moments) and cal.previous + timedelta(hours=2) <= moments[0] and moments[-1] < now
    assert all(m.astimezone(AMSTERDAM).weekday() < 5 for m in moments)


def test_seeding_twice_changes_nothing_and_real_data_is_refused(tmp_path, monkeypatch):
    """The command as `./run.sh demo` runs it; the second time not a row changes, in any table."""
    cli_environment(tmp_path, monkeypatch)
    run = CliRunner().invoke
    assert run(cli, ["migrate"]).exit_code == 0
    first = run(cli, ["seed-demo"])
    assert first.exit_code == 0 and "demo week recorded" in first.output, first.output

    def rows() -> dict[str, int]:
        with sqlite3.connect(tmp_path / "cli.db") as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}

    seeded = rows()
    assert seeded["signals"] == 12 and seeded["cases"] == 5 and seeded["external_endpoints"] == 1
    again = run(cli, ["seed-demo"])
    assert again.exit_code == 0 and "demo data already present" in again.output
    assert "demo week already present" in again.output and rows() == seeded
    assert run(cli, ["create-organisation", "Gemeente Zeist", "municipality", "ZST"]).exit_code == 0
    refused = run(cli, ["seed-demo"])
    assert refused.exit_code == 2 and "refusing" in refused.output
