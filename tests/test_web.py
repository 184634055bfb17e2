"""The casusoverleg pages under /app/: sign-in and its cookie, CSRF on every form, the same need-to-know
view and audit as the API, running a meeting, Mijn afspraken, and the offline API docs."""

import re

import pytest
from sqlmodel import select

from app.models import AuditEvent, AuditEventPerson
from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.conftest import PASSWORD
from tests.db import inspect_db
from tests.meeting_helpers import plan
from tests.web_helpers import browser, hidden, log_in, submit

MEETINGS = "/app/vergaderingen"


@pytest.fixture
def conference(client, auth, app) -> dict:
    """A meeting with two cases on its agenda: police takes part in the first only."""
    shared = new_case(client, auth, name="Jan Gedeeld", bsn=None)
    other = new_case(client, auth, name="Piet Afgeschermd", bsn=None)
    add_member(client, auth, shared["id"], "POL")
    meeting = plan(client, auth, app, hours=2)
    for case in (shared, other):
        added = client.post(f"{API}/meetings/{meeting['id']}/agenda/items", json={"case_id": case["id"]},
                            headers=auth("chair"))
        assert added.status_code == 201, added.text
    return {"meeting": meeting["id"], "shared": shared, "other": other, "page": f"{MEETINGS}/{meeting['id']}"}


def item_ids(page: str) -> list[str]:
    return re.findall(r'id="punt-([0-9a-f-]+)"', page)


class TestSignIn:
    def test_a_page_without_a_session_goes_to_the_login_page_and_back(self, app, client):
        visitor = browser(app)
        response = visitor.get(MEETINGS, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/app/inloggen?volgende=/app/vergaderingen"
        assert log_in(visitor, "chair", target="/app/afspraken").headers["location"] == "/app/afspraken"

    def test_the_session_cookie_is_httponly_strict_secure_behind_https_and_lives_as_long_as_a_token(self, app, client):
        for https in (False, True):
            cookie = log_in(browser(app, https=https), "chair").headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
            assert f"Max-Age={app.state.settings.token_ttl_seconds}" in cookie
            assert ("Secure" in cookie) == https

    def test_a_wrong_password_says_so_and_counts_toward_the_same_throttle_as_the_token_endpoint(self, app, client):
        visitor = browser(app)
        wrong = log_in(visitor, "expert", "not-the-password")
        assert wrong.status_code == 400 and "onjuist" in wrong.text
        assert "casus_sessie" not in wrong.headers.get("set-cookie", "")
        for _ in range(app.state.settings.login_max_failures_per_account - 1):
            client.post(f"{API}/auth/token", data={"grant_type": "password", "username": "expert", "password": "x"})
        assert log_in(visitor, "expert", PASSWORD).status_code == 429

    def test_the_login_form_needs_its_own_nonce(self, app, client):
        visitor = browser(app)
        refused = visitor.post("/app/inloggen", data={"gebruikersnaam": "chair", "wachtwoord": PASSWORD})
        assert refused.status_code == 403 and "casus_sessie" not in refused.headers.get("set-cookie", "")

    def test_after_login_only_pages_of_our_own(self, app, client):
        for target in ("https://evil.example/x", "//evil.example", "/api/v1/auth/me", "/app/\\evil"):
            assert log_in(browser(app), "chair", target=target).headers["location"] == MEETINGS

    def test_logging_out_ends_the_session(self, app, client):
        chair = browser(app, "chair")
        assert submit(chair, MEETINGS, "/app/uitloggen").status_code == 303
        assert chair.get(MEETINGS, follow_redirects=False).status_code == 303

    def test_the_api_never_takes_the_cookie(self, app, client):
        chair = browser(app, "chair")
        assert chair.get(f"{API}/auth/me").status_code == 401


class TestCsrf:
    def test_a_form_without_its_token_is_refused_and_changes_nothing(self, app, client, auth, conference):
        chair = browser(app, "chair")
        etag = hidden(chair.get(conference["page"]).text, "etag")
        refused = chair.post(f"{conference['page']}/starten", data={"etag": etag})
        assert refused.status_code == 403 and "formulier" in refused.text
        meeting = client.get(f"{API}/meetings/{conference['meeting']}", headers=auth("chair")).json()
        assert meeting["status"] == "planned"

    def test_another_sessions_token_is_refused(self, app, client, conference):
        chair, coordinator = browser(app, "chair"), browser(app, "coordinator")
        foreign = hidden(coordinator.get(conference["page"]).text, "csrf")
        etag = hidden(chair.get(conference["page"]).text, "etag")
        assert chair.post(f"{conference['page']}/starten", data={"etag": etag, "csrf": foreign}).status_code == 403


class TestPages:
    def test_every_page_has_a_strict_csp_and_no_inline_script(self, app, client, conference):
        chair = browser(app, "chair")
        for path in ("/app/inloggen", MEETINGS, conference["page"], "/docs", "/redoc"):
            response = chair.get(path)
            csp = response.headers["content-security-policy"]
            assert response.status_code == 200 and "unsafe-inline" not in csp and "script-src 'self'" in csp, path
            assert not re.search(r"<script(?![^>]*\ssrc=)", response.text), f"inline script on {path}"
            assert not re.search(r'(src|href)="https?://', response.text), f"external asset on {path}"

    def test_meetings_coming_first_then_past(self, app, client, auth):
        plan(client, auth, app, hours=24 * 14)
        soon = plan(client, auth, app, hours=24)
        page = browser(app, "chair").get(MEETINGS).text
        coming, past = page.split("Eerdere vergaderingen", 1)
        assert coming.index(soon["id"]) < coming.rindex('href="/app/vergaderingen/') and past

    def test_the_agenda_shows_police_only_its_own_case_in_full(self, app, client, conference):
        police = browser(app, "police").get(conference["page"]).text
        assert "Jan Gedeeld" in police and "Piet Afgeschermd" not in police
        assert conference["other"]["number"] in police and "Afgeschermd: uw organisatie" in police
        chair = browser(app, "chair").get(conference["page"]).text
        assert "Jan Gedeeld" in chair and "Piet Afgeschermd" in chair and "Voorzitter casusoverleg" in chair

    def test_reading_the_agenda_is_audited_like_the_api_read(self, app, client, auth, conference):
        api = client.get(f"{API}/meetings/{conference['meeting']}/agenda", headers=auth("police"))
        web = browser(app, "police").get(conference["page"])
        through_api, through_web = (audit_trail(app, r.headers["x-request-id"]) for r in (api, web))
        assert through_api and through_web == through_api


def audit_trail(app, trace_id: str) -> list[tuple]:
    """What one request wrote to the audit log, without its time and ids of its own."""
    with inspect_db(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.trace_id == trace_id)).all()
        persons = {e.seq: sorted(session.exec(select(AuditEventPerson.pseudonym)
                                              .where(AuditEventPerson.event_seq == e.seq)).all()) for e in events}
    return sorted((e.actor_id, e.operation, e.resource_type, e.resource_id, e.outcome, e.processing_activity,
                   tuple(persons[e.seq])) for e in events)


class TestRunningAMeeting:
    def test_start_minute_decide_agree_close_and_print(self, app, client, auth, conference):
        chair, page = browser(app, "chair"), conference["page"]
        assert submit(chair, page, f"{page}/starten").status_code == 303
        first = item_ids(chair.get(page).text)[0]
        recorded = submit(chair, page, f"{page}/punten/{first}", notulen="Gesprek met school gevoerd.",
                          besluit="continue_approach")
        assert recorded.status_code == 303
        police = organisation_id(client, auth("coordinator"), "POL")
        agreed = submit(chair, page, f"{page}/punten/{first}/afspraken", omschrijving="Huisbezoek afleggen",
                        eigenaar=police, uiterlijk="2099-01-31")
        assert agreed.status_code == 303
        closed = submit(chair, page, f"{page}/sluiten")
        assert closed.status_code == 303 and closed.headers["location"].endswith("/notulen")
        minutes = chair.get(closed.headers["location"]).text
        assert "Notulen" in minutes and "Gesprek met school gevoerd." in minutes and "aanpak voortzetten" in minutes
        assert "Opgesteld op" in minutes and "Vertrouwelijk" in minutes
        agenda = client.get(f"{API}/meetings/{conference['meeting']}/agenda", headers=auth("chair")).json()
        assert agenda["meeting"]["status"] == "closed" and agenda["items"][0]["decision"] == "continue_approach"

    def test_a_stale_page_cannot_overwrite_another_chairs_change(self, app, client, conference):
        chair, coordinator, page = browser(app, "chair"), browser(app, "coordinator"), conference["page"]
        stale = chair.get(page).text
        assert submit(coordinator, page, f"{page}/starten").status_code == 303
        refused = chair.post(f"{page}/sluiten", data={"csrf": hidden(stale, "csrf"), "etag": hidden(stale, "etag")})
        assert refused.status_code == 412 and "opnieuw" in refused.text

    def test_a_partner_cannot_run_the_meeting(self, app, client, conference):
        police, page = browser(app, "police"), conference["page"]
        text = police.get(page).text
        assert "Vergadering openen" not in text
        refused = police.post(f"{page}/starten", data={"csrf": hidden(text, "csrf"), "etag": '"x"'})
        assert refused.status_code == 403


class TestMyActions:
    def test_police_reports_on_the_action_it_owns(self, app, client, auth, conference):
        police_id = organisation_id(client, auth("coordinator"), "POL")
        action = client.post(f"{API}/cases/{conference['shared']['id']}/actions", headers=auth("coordinator"), json={
            "description": "Gesprek met ouders", "owner_organisation_id": police_id, "due_date": "2099-01-31"}).json()
        police = browser(app, "police")
        assert "Gesprek met ouders" in police.get("/app/afspraken").text
        done = submit(police, "/app/afspraken", f"/app/afspraken/{action['id']}", uitkomst="done",
                      toelichting="Gesprek gevoerd.")
        assert done.status_code == 303
        read = client.get(f"{API}/actions/{action['id']}", headers=auth("police")).json()
        assert read["status"] == "done" and read["result_note"] == "Gesprek gevoerd."

    def test_the_menu_offers_it_only_to_who_owns_actions(self, app, client):
        assert "Mijn afspraken" in browser(app, "police").get(MEETINGS).text
        assert "Mijn afspraken" not in browser(app, "chair").get(MEETINGS).text


def test_the_api_docs_work_offline(app, client):
    docs = client.get("/docs").text
    for asset in re.findall(r'(?:src|href)="([^"]+)"', docs):
        assert client.get(asset).status_code == 200, asset
    assert "redoc.standalone.js" in client.get("/redoc").text

