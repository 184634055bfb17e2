"""The printable agenda and minutes (text/html, text/markdown): in Dutch, times in Europe/Amsterdam,
what the chair needs per item, the same need-to-know view as the JSON, marked confidential."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from app.models.signal import Channel
from app.services import agenda_document
from app.services.documents import CONFIDENTIAL, LABELS, label, local_date, local_time
from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.factories import with_etag
from tests.meeting_helpers import persons_of_event, plan, set_status, user_id

HTML, MARKDOWN = {"Accept": "text/html"}, {"Accept": "text/markdown"}
ENGLISH_REASONS = ("triaged", "review date", "overdue", "proposed for closure", "added by the chair")


def agenda_url(meeting: dict) -> str:
    return f"{API}/meetings/{meeting['id']}/agenda"


def build(client, auth, meeting: dict) -> list[dict]:
    response = client.post(f"{agenda_url(meeting)}/build", headers=auth("chair"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def week(client, auth, app) -> tuple[dict, dict, dict]:
    """Jan (urgency high, Politie takes part) and Piet (urgency normal, no partner) on next meeting's agenda;
    an open action on Jan's case, owned by Politie's wijkagent."""
    jan = new_case(client, auth, name="Jan de Vries", district="Overvecht")
    piet = new_case(client, auth, name="Piet <b>Bakker</b>", bsn=None, urgency="normal", district="Kanaleneiland",
                    categories=["threat_of_violence"])
    add_member(client, auth, jan["id"], "POL")
    meeting = plan(client, auth, app, location="Zaal <script>alert(1)</script>")
    build(client, auth, meeting)
    response = client.post(f"{API}/cases/{jan['id']}/actions", headers=auth("coordinator"), json={
        "description": "Huisbezoek & gesprek", "owner_organisation_id": organisation_id(client, auth("police"), "POL"),
        "owner_user_id": user_id(app, "police"), "due_date": (date.today() + timedelta(days=3)).isoformat()})
    assert response.status_code == 201, response.text
    return jan, piet, meeting


def text_of(page: str) -> str:
    """What a reader sees of an HTML page: no style, no tags, entities resolved."""
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S)))


def english_words(text: str) -> set[str]:
    """Stored English values (statuses, kinds, decisions, categories, urgency, organisation kinds, …)
    and the English reasons the agenda build writes, as they would show in a document."""
    found = {r for r in ENGLISH_REASONS if r in text.lower()}
    for kind, labels in LABELS.items():
        for value, dutch in labels.items():
            spaced = value.replace("_", " ")
            for form in {value, spaced} - {dutch}:
                if kind is not Channel and re.search(rf"\b{re.escape(form)}\b", text, re.IGNORECASE):
                    found.add(form)
    return found


def test_the_chair_prints_what_the_chair_needs_in_dutch(client, auth, app):
    jan, piet, meeting = week(client, auth, app)
    response = client.get(agenda_url(meeting), headers=auth("chair") | HTML)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store" and response.headers["etag"]
    page = response.text
    assert page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    text = text_of(page)
    assert english_words(text) == set()
    assert text.count(CONFIDENTIAL) == 2 and page.index(CONFIDENTIAL) < page.index("<h1>Agenda casusoverleg</h1>")
    assert "Voorzitter Voorzitter casusoverleg" in " ".join(text.split())
    starts = datetime.fromisoformat(meeting["starts_at"])
    assert local_time(starts) in text and "Europe/Amsterdam" in text
    assert re.search(r"Opgesteld op \w+dag \d+ \w+ \d{4}, \d\d:\d\d \(CES?T\) door Voorzitter casusoverleg", text)
    assert "Politie Midden-Nederland" in text and "GGZ Utrecht" in text and "Status gepland" in " ".join(text.split())
    # Per item: the person, the signal (categories, urgency, district, kind of reporter), why, open actions.
    jan_item = text[text.index(jan["number"]):text.index(piet["number"])]
    for expected in ("URGENT", "Jan de Vries, geboren 1 maart 2005", "Wijk Overvecht", "Status casus aanmelding",
                     "nieuw signaal, getrieerd op", "signaal met urgentie hoog",
                     "sociaal isolement, online propaganda; urgentie hoog; wijk Overvecht; gemeld door: onderwijs",
                     "Huisbezoek & gesprek — Politie Midden-Nederland (Wijkagent Midden-Nederland), uiterlijk "
                     f"{local_date(date.today() + timedelta(days=3))}",
                     "Ruimte voor verslag", "☐ aanpak voortzetten", "☐ casus afsluiten"):
        assert expected in " ".join(jan_item.split()), expected
    piet_item = text[text.index(piet["number"]):]
    assert "URGENT" not in piet_item and "dreiging met geweld; urgentie normaal; wijk Kanaleneiland" in piet_item
    # Escaped, and nothing that runs or loads: no script, no external reference.
    assert "Piet &lt;b&gt;Bakker&lt;/b&gt;" in page and "&lt;script&gt;" in page
    assert not re.search(r"<script|\bsrc=|\bhref=|@import|url\(|\bon\w+=", page, re.IGNORECASE)
    assert "@page" in page and 'counter(page) " van " counter(pages)' in page
    assert persons_of_event(app, response.headers["x-request-id"], "agenda") == {
        jan["person"]["pseudonym"], piet["person"]["pseudonym"]}


def test_the_markdown_carries_the_same(client, auth, app):
    jan, piet, meeting = week(client, auth, app)
    response = client.get(agenda_url(meeting), headers=auth("chair") | MARKDOWN)
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Agenda casusoverleg\n") and "## Nieuwe signalen" in text
    assert english_words(text) == set() and text.count(CONFIDENTIAL) == 2
    assert "- **Voorzitter:** Voorzitter casusoverleg" in text and "Europe/Amsterdam" in text
    assert re.search(r"\*Opgesteld op .+ \(CES?T\) door Voorzitter casusoverleg\*", text)
    assert f"### 1. {jan['number']} — URGENT" in text and f"### 2. {piet['number']}\n" in text
    assert "gemeld door: onderwijs" in text and "Huisbezoek & gesprek — Politie Midden-Nederland" in text
    assert "Piet \\<b\\>Bakker\\</b\\>" in text and "- **Ruimte voor verslag:**" in text


def test_a_partner_not_taking_part_sees_placeholders_only(client, auth, app):
    jan, piet, meeting = week(client, auth, app)
    for headers in (HTML, MARKDOWN):
        response = client.get(agenda_url(meeting), headers=auth("care") | headers)
        assert response.status_code == 200
        text = response.text
        assert jan["number"] in text and piet["number"] in text and text.count("afgeschermd") == 2
        for secret in ("Jan", "Vries", "Piet", "Bakker", "111222333", "2005", "Overvecht", "Kanaleneiland",
                       "Huisbezoek", "sociaal isolement", "urgentie", "URGENT", "Signalen"):
            assert secret not in text, secret
        assert CONFIDENTIAL in text and "Opgesteld op" in text and "Behandelaar GGZ" in text
    assert persons_of_event(app, response.headers["x-request-id"], "agenda") == set()


def test_a_partner_taking_part_sees_its_case_but_not_the_signals(client, auth, app):
    """Politie reads Jan's case, not its signals: no categories, urgency of the signal or reporter."""
    jan, piet, meeting = week(client, auth, app)
    body = client.get(agenda_url(meeting), headers=auth("police")).json()
    assert body["items"][0]["signals"] is None and body["items"][1]["view"] == "redacted"
    text = text_of(client.get(agenda_url(meeting), headers=auth("police") | HTML).text)
    assert "Jan de Vries" in text and "Wijk Overvecht" in " ".join(text.split()) and "Huisbezoek" in text
    for secret in ("Signalen", "gemeld door", "sociaal isolement", "urgentie hoog", "Piet", "Kanaleneiland"):
        assert secret not in text, secret
    chair = client.get(agenda_url(meeting), headers=auth("chair")).json()["items"][0]["signals"]
    assert [(s["categories"], s["urgency"], s["district"], s["reporter_organisation_kind"], s["new"])
            for s in chair] == [(["social_isolation", "online_propaganda"], "high", "Overvecht", "education", True)]


@pytest.mark.parametrize(("urgency", "urgent"), [("normal", False), ("high", True), ("acute", True)])
def test_urgent_follows_the_signal(client, auth, app, urgency, urgent):
    new_case(client, auth, name="Urgent Geval", bsn=None, urgency=urgency)
    item = build(client, auth, plan(client, auth, app))[0]
    assert (item["urgent"], item["marked_urgent"]) == (urgent, False)


def test_a_signal_discussed_before_makes_no_later_item_urgent(client, auth, app):
    """Urgent follows the signals that are new for this meeting: once discussed, their urgency is history."""
    case = new_case(client, auth, name="Eerder Besproken", bsn=None)
    earlier = plan(client, auth, app, hours=1)
    assert build(client, auth, earlier)[0]["urgent"] is True
    later = plan(client, auth, app, hours=24 * 7)
    url = f"{agenda_url(later)}/items"
    items = client.post(url, json={"case_id": case["id"]}, headers=auth("chair")).json()["items"]
    assert (items[0]["urgent"], [s["new"] for s in items[0]["signals"]]) == (False, [False])
    marked = client.patch(f"{url}/{items[0]['id']}", json={"urgent": True},
                          headers=with_etag(client, auth("chair"), f"{API}/meetings/{later['id']}")).json()
    assert (marked["items"][0]["urgent"], marked["items"][0]["marked_urgent"]) == (True, True)
    page = text_of(client.get(agenda_url(later), headers=auth("chair") | HTML).text)
    assert "toegevoegd door de voorzitter" in page and "gemarkeerd door de voorzitter" in page


@pytest.mark.parametrize(("starts_at", "shown"), [
    ("2025-01-13T09:00:00+00:00", "maandag 13 januari 2025, 10:00 (CET)"),
    ("2025-07-14T08:00:00Z", "maandag 14 juli 2025, 10:00 (CEST)"),
])
def test_times_are_in_amsterdam_with_the_zone(client, auth, app, starts_at, shown):
    meeting = plan(client, auth, app, starts_at=starts_at)
    text = text_of(client.get(agenda_url(meeting), headers=auth("chair") | HTML).text)
    assert f"{shown}; alle tijden in Nederlandse tijd (Europe/Amsterdam)" in text and "De agenda is leeg." in text
    assert "09:00" not in text.split("Opgesteld op")[0] and "UTC" not in text
    assert shown in client.get(agenda_url(meeting), headers=auth("chair") | MARKDOWN).text


def test_an_unsupported_accept_answers_406(client, auth, app):
    meeting = plan(client, auth, app)
    for accept in ("application/pdf", "image/png", "text/plain"):
        response = client.get(agenda_url(meeting), headers=auth("chair") | {"Accept": accept})
        assert response.status_code == 406, accept
        assert response.headers["content-type"] == "application/problem+json"


def test_the_minutes_of_a_closed_meeting(client, auth, app):
    jan, piet, meeting = week(client, auth, app)
    set_status(client, auth, meeting["id"], "in_progress")
    items = client.get(agenda_url(meeting), headers=auth("chair")).json()["items"]
    chair = with_etag(client, auth("chair"), f"{API}/meetings/{meeting['id']}")
    recorded = client.patch(f"{agenda_url(meeting)}/items/{items[0]['id']}", headers=chair, json={
        "minutes": "Besproken met de wijkagent.\nZorgen blijven.", "decision": "continue_approach"})
    assert recorded.status_code == 200, recorded.text
    agreed = client.post(f"{API}/cases/{jan['id']}/actions", headers=auth("chair"), json={
        "description": "Gesprek met ouders", "owner_organisation_id": jan["municipality_id"],
        "due_date": (date.today() + timedelta(days=14)).isoformat(), "agenda_item_id": items[0]["id"]})
    assert agreed.status_code == 201, agreed.text
    during = text_of(client.get(agenda_url(meeting), headers=auth("chair") | HTML).text)
    assert "Besproken met de wijkagent." in during and "Ruimte voor verslag" in during and "Status bezig" in " ".join(
        during.split())
    set_status(client, auth, meeting["id"], "closed")
    addendum = client.post(f"{agenda_url(meeting)}/items/{items[0]['id']}/addenda", headers=auth("chair"),
                           json={"text": "Correctie: ook de school is betrokken."})
    assert addendum.status_code == 201, addendum.text

    body = client.get(agenda_url(meeting), headers=auth("chair")).json()
    assert [(a["description"], a["status"]) for a in body["items"][0]["agreed_actions"]] == [
        ("Gesprek met ouders", "open")]
    response = client.get(agenda_url(meeting), headers=auth("chair") | HTML)
    page, text = response.text, " ".join(text_of(response.text).split())
    assert "<h1>Notulen casusoverleg</h1>" in page and english_words(text) == set()
    assert "Ruimte voor verslag" not in text and "☐" not in text and text.count(CONFIDENTIAL) == 2
    assert "Status gesloten" in text and "Gesloten " in text and "Besproken met de wijkagent.<br>Zorgen" in page
    jan_item = text[text.index(jan["number"]):text.index(piet["number"])]
    for expected in ("Besluit aanpak voortzetten", "Gemaakte afspraken Gesprek met ouders — Gemeente Utrecht, "
                     f"uiterlijk {local_date(date.today() + timedelta(days=14))} — lopend",
                     "Addenda Correctie: ook de school is betrokken. (chair,"):
        assert expected in jan_item, expected
    piet_item = text[text.index(piet["number"]):]
    assert "geen verslag vastgelegd" in piet_item and "geen besluit vastgelegd" in piet_item
    assert persons_of_event(app, response.headers["x-request-id"], "agenda") == {
        jan["person"]["pseudonym"], piet["person"]["pseudonym"]}

    markdown = client.get(agenda_url(meeting), headers=auth("chair") | MARKDOWN).text
    assert markdown.startswith("# Notulen casusoverleg\n") and "- **Besluit:** aanpak voortzetten" in markdown
    assert "  - Gesprek met ouders — Gemeente Utrecht" in markdown and "Ruimte voor verslag" not in markdown
    police = client.get(agenda_url(meeting), headers=auth("police") | MARKDOWN).text
    assert "Gesprek met ouders" in police and "Piet" not in police and "afgeschermd" in police


def test_the_reasons_the_build_writes_read_in_dutch():
    assert agenda_document.reason("proposed for closure: Doelen bereikt; ook veilig; new signal triaged on "
                                  "2026-01-05; review date 2026-01-10; action overdue since 2026-01-02") == (
        "voorgesteld om af te sluiten: Doelen bereikt; ook veilig; nieuw signaal, getrieerd op 5 januari 2026; "
        "evaluatiedatum 10 januari 2026; afspraak verlopen sinds 2 januari 2026")
    assert agenda_document.reason("added by the chair") == "toegevoegd door de voorzitter"
    assert agenda_document.reason("Toch bespreken.") == "Toch bespreken."


def test_every_stored_value_has_a_dutch_label():
    for kind, labels in LABELS.items():
        assert set(labels) == {m.value for m in kind}, kind
        assert all(label(m) == labels[m.value] for m in kind)
    assert label("high") == "hoog" and label(None) == ""
    assert local_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "zondag 29 maart 2026, 03:00 (CEST)"
    assert local_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1 januari 2027"
