"""The casusoverleg pages in a real browser: Debian's Chromium, driven by Playwright (no browser download).

The chair runs a whole meeting and prints the minutes; police sees only its own case in full; a form
without its CSRF token is refused; a page without a session leads to the login page; /docs renders the
API from the app's own assets. A failing test leaves a screenshot in SCREENSHOT_DIR
(.pytest_screenshots). Skipped where Chromium is missing, except in CI (CI=true), where it is required.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.case_helpers import API, add_member, new_case
from tests.conftest import PASSWORD
from tests.meeting_helpers import plan
from tests.servers import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ".pytest_screenshots"))
# As the machine's closed network needs: no background traffic, no sandbox (root in a container).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("Chromium is required in CI: ./run.sh test installs it (apt-get install chromium)")
    pytest.skip("Chromium is not installed (./run.sh test installs it)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402 (after the skip)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(app, client) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def new_page(chromium, request) -> Iterator:
    """Pages of fresh browser contexts (no shared cookies); a screenshot of each when the test failed."""
    pages: list[Page] = []
    failed_before = request.session.testsfailed

    def open_page() -> Page:
        page = chromium.new_context().new_page()
        pages.append(page)
        return page
    yield open_page
    if request.session.testsfailed > failed_before:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(pages):
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{n}.png", full_page=True)
    for page in pages:
        page.context.close()


def log_in(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/app/vergaderingen")
    expect(page).to_have_url(f"{site}/app/inloggen?volgende=/app/vergaderingen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Vergaderingen", exact=True)).to_be_visible()


@pytest.fixture
def next_week(client, auth, app) -> dict:
    shared = new_case(client, auth, name="Jan Gedeeld", bsn=None)
    other = new_case(client, auth, name="Piet Afgeschermd", bsn=None)
    add_member(client, auth, shared["id"], "POL")
    meeting = plan(client, auth, app, hours=24 * 6)
    built = client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("chair"))
    assert built.status_code == 200 and len(built.json()["items"]) == 2, built.text
    return {"id": meeting["id"], "shared": shared, "other": other}


def test_the_chair_runs_next_weeks_meeting_and_prints_the_minutes(site, new_page, next_week, tmp_path):
    page = new_page()
    log_in(page, site, "chair")
    page.get_by_role("link").filter(has_text="(CET)").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Casusoverleg")
    page.get_by_role("button", name="Vergadering openen").click()
    item = page.locator("section.item").filter(has_text="Jan Gedeeld")
    item.get_by_label("Verslag").fill("Zorgen over thuissituatie besproken.")
    item.get_by_label("Besluit").select_option(label="aanpak voortzetten")
    item.get_by_role("button", name="Verslag en besluit opslaan").click()
    item = page.locator("section.item").filter(has_text="Jan Gedeeld")
    item.get_by_label("Omschrijving").fill("Huisbezoek met de wijkagent")
    item.get_by_label("Eigenaar (organisatie)").select_option(label="Politie Midden-Nederland")
    item.get_by_role("button", name="Afspraak maken").click()
    expect(page.locator("section.item").filter(has_text="Jan Gedeeld")).to_contain_text("Huisbezoek met de wijkagent")
    page.get_by_role("button", name="Vergadering sluiten").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Notulen")
    expect(page.locator("main")).to_contain_text("Zorgen over thuissituatie besproken.")
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(tmp_path / "notulen.pdf"))
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    expect(page.locator("header.site")).to_be_hidden()  # the print view: no menu, no forms


def test_police_sees_only_its_own_case_in_full(site, new_page, next_week):
    page = new_page()
    log_in(page, site, "police")
    page.goto(f"{site}/app/vergaderingen/{next_week['id']}")
    main = page.locator("main")
    expect(main).to_contain_text("Jan Gedeeld")
    expect(main).not_to_contain_text("Piet Afgeschermd")
    expect(main).to_contain_text("Afgeschermd: uw organisatie neemt niet deel aan deze casus")


def test_a_form_without_its_csrf_token_is_refused(site, new_page, next_week):
    page = new_page()
    log_in(page, site, "chair")
    page.goto(f"{site}/app/vergaderingen/{next_week['id']}")
    page.locator("form[action$='/starten'] input[name=csrf]").evaluate("input => input.remove()")
    page.get_by_role("button", name="Vergadering openen").click()
    expect(page.get_by_role("alert")).to_contain_text("formulier")
    page.goto(f"{site}/app/vergaderingen/{next_week['id']}")
    expect(page.locator("main")).to_contain_text("gepland")


def test_a_page_without_a_session_leads_to_the_login_page(site, new_page):
    page = new_page()
    page.goto(f"{site}/app/afspraken")
    expect(page).to_have_url(f"{site}/app/inloggen?volgende=/app/afspraken")
    expect(page.get_by_label("Gebruikersnaam")).to_be_focused()


def test_the_api_docs_render_without_internet(site, new_page):
    page = new_page()
    blocked = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site)
               else (blocked.append(route.request.url), route.abort()))
    page.goto(f"{site}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
    expect(page.locator("body")).to_contain_text("Casusregister API")
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/")
    assert blocked == []


def test_redoc_renders_under_the_csp(site, new_page):
    """Its run-time <style> elements carry the response's nonce; a few inline style attributes are refused
    by the CSP, which costs nothing visible: the CSP is kept, not loosened for them."""
    page = new_page()
    page.goto(f"{site}/redoc")
    expect(page.get_by_role("heading", name="Casusregister API (1.0.0)")).to_be_visible(timeout=15000)
    expect(page.get_by_role("menuitem", name="signals")).to_be_visible()
