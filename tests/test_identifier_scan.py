"""The audit log names persons by pseudonym only: after a full scenario through the API, no row of
audit_events or audit_event_persons holds, in any column (the detail JSON included), the person's name
or a part of it, BSN, date of birth, address, or any free text written along the way. The log outlives
the data it describes and is copied to a SIEM; what is scanned for is what the DESIGN lists.

Each free text carries a made-up word of its own and is looked for in 16-character stretches too, so
a truncated or partial copy is found as well as the whole."""

import json

from sqlalchemy import text

from tests.case_helpers import API, add_member, organisation_id
from tests.db import inspect_db
from tests.factories import VALID_BSN, signal_body, with_etag
from tests.meeting_helpers import plan, set_status
from tests.referral_helpers import ok, refer

NAME, DATE_OF_BIRTH, ADDRESS = "Quirijn Hendrikus Zwanenburg", "1998-11-23", "Zonnebloemstraat 41, 3514 BK Utrecht"
DESCRIPTION = "Deelt filmpjes van de Wolkenkrabbergroep en zoekt contact met ronselaars."
ITEM_TEXTS = ("Moeder meldt dat hij nachtenlang online is met de Kwartelkring.",
              "Aangetroffen bij een demonstratie met een spandoek van het Pelikaanfront.")
MINUTES = "Besproken: contact via de jongerenwerker van de Mosselbank intensiveren."
EMERGENCY_REASON = "Acute dreiging: dreigement tegen de Lijsterbesschool, de informatie is vandaag nodig."
REOPEN_REASON = "Nieuwe informatie over de Zilverreigergroep; opnieuw beoordelen."
PURPOSE = "Begeleiding via het Otterpad-traject bij zorgen over radicalisering."
ACTION, RESULT = "Huisbezoek met de coach van de Fazantenhof.", "Afgerond; Egelwerk heeft hem gesproken."
REVIEW_NOTE = "Terecht: de Hazelaarschool vroeg om spoed."


def pieces(*texts: str, width: int = 16) -> list[str]:
    """Every stretch of `width` characters of the texts: a truncated or partial copy is found too."""
    return [t[i:i + width] for t in texts for i in range(len(t) - width + 1)]


# What may not appear, by what it is: whole values, and the parts a copy could keep.
IDENTIFYING = {
    "name": [NAME, *NAME.split()],
    "bsn": [VALID_BSN],
    "date of birth": [DATE_OF_BIRTH, "23-11-1998"],
    "address": [*pieces(ADDRESS), "Zonnebloemstraat", "3514 BK"],
    "signal description": [*pieces(DESCRIPTION), "Wolkenkrabbergroep"],
    "item texts": [*pieces(*ITEM_TEXTS), "Kwartelkring", "Pelikaanfront"],
    "minutes": [*pieces(MINUTES), "Mosselbank"],
    "emergency reason": [*pieces(EMERGENCY_REASON), "Lijsterbesschool"],
    "re-open reason": [*pieces(REOPEN_REASON), "Zilverreigergroep"],
    "referral purpose": [*pieces(PURPOSE), "Otterpad"],
    "action and its result": [*pieces(ACTION, RESULT), "Fazantenhof", "Egelwerk"],
    "review note": [*pieces(REVIEW_NOTE), "Hazelaarschool"],
}


def intake_search_and_triage(client, auth) -> dict:
    """The teacher reports with BSN and address; the coordinator searches both ways, then opens a case."""
    body = signal_body(name=NAME, bsn=VALID_BSN, description=DESCRIPTION)
    body["subject"] |= {"date_of_birth": DATE_OF_BIRTH, "address": ADDRESS}
    signal = ok(client.post(f"{API}/signals", json=body, headers=auth("teacher")), 201)
    coordinator = auth("coordinator")
    for query in ({"bsn": VALID_BSN}, {"name": NAME, "date_of_birth": DATE_OF_BIRTH}):
        assert len(ok(client.post(f"{API}/persons/search", json=query, headers=coordinator))["items"]) == 1
    ok(client.get(f"{API}/signals/{signal['id']}", headers=coordinator))
    case_id = ok(client.post(f"{API}/signals/{signal['id']}/triage", json={"outcome": "new_case"},
                             headers=coordinator))["case_id"]
    case = ok(client.get(f"{API}/cases/{case_id}", headers=coordinator))
    return case | {"signal_id": signal["id"]}


def add_items(client, auth, case: dict) -> list[str]:
    """Police take part; the coordinator and the police each bring in an item, which the police read."""
    add_member(client, auth, case["id"], "POL")
    items = f"{API}/cases/{case['id']}/items"
    ids = [ok(client.post(items, json={"kind": "other", "text": item, "source": "Gesprek", "date": "2025-01-10"},
                          headers=auth(who)), 201)["id"] for who, item in zip(("coordinator", "police"), ITEM_TEXTS)]
    ok(client.get(items, headers=auth("police")))
    return ids


def minute_a_meeting(client, auth, app) -> None:
    """The case's new signal puts it on the built agenda; the chair minutes it and closes the meeting."""
    meeting = plan(client, auth, app, attendees=("POL",))
    url = f"{API}/meetings/{meeting['id']}"
    [item] = ok(client.post(f"{url}/agenda/build", headers=auth("chair")))["items"]
    set_status(client, auth, meeting["id"], "in_progress")
    ok(client.patch(f"{url}/agenda/items/{item['id']}", json={"minutes": MINUTES},
                    headers=with_etag(client, auth("chair"), url)))
    ok(client.get(f"{url}/agenda", headers=auth("police")))
    set_status(client, auth, meeting["id"], "closed")


def refer_break_the_glass_and_act(client, auth, case: dict, item_ids: list[str]) -> None:
    """A referral sharing BSN and address, read by GGZ; the youthworker breaks the glass and reads the
    case; an action the police mark done; the coordinator re-opens the signal with a reason."""
    fields = ["name", "date_of_birth", "bsn", "address"]
    referral = refer(client, auth, case, "GGZ", purpose=PURPOSE, shared_fields=fields, shared_item_ids=item_ids[:1])
    ok(client.get(f"{API}/referrals/{referral['id']}", headers=auth("care")))
    ok(client.post(f"{API}/cases/{case['id']}/emergency-access", json={"reason": EMERGENCY_REASON},
                   headers=auth("youthworker")), 201)
    ok(client.get(f"{API}/cases/{case['id']}", headers=auth("youthworker")))
    action = ok(client.post(f"{API}/cases/{case['id']}/actions", headers=auth("coordinator"), json={
        "description": ACTION, "owner_organisation_id": organisation_id(client, auth("coordinator"), "POL"),
        "due_date": "2099-01-01"}), 201)
    url = f"{API}/actions/{action['id']}"
    done = {"status": "done", "result_note": RESULT}
    ok(client.patch(url, json=done, headers=with_etag(client, auth("police"), url)))
    ok(client.post(f"{API}/signals/{case['signal_id']}/reopen", json={"reason": REOPEN_REASON},
                   headers=auth("coordinator")))


def privacy_officer_reviews(client, auth, case: dict) -> None:
    """The privacy officer reviews the break-the-glass with a note and answers the person's access request."""
    [access] = ok(client.get(f"{API}/emergency-accesses", headers=auth("privacy")))["items"]
    ok(client.post(f"{API}/emergency-accesses/{access['id']}/review", json={"outcome": "approved", "note": REVIEW_NOTE},
                   headers=auth("privacy")))
    ok(client.get(f"{API}/persons/{case['person']['id']}/access-report", headers=auth("privacy")))


def audit_rows(app) -> list[tuple[str, dict[str, str]]]:
    """Every row of both audit tables, each column as text (JSON as it would be exported)."""
    def as_text(value) -> str:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)

    with inspect_db(app) as session:
        return [(table, {column: as_text(value) for column, value in row._mapping.items()})
                for table in ("audit_events", "audit_event_persons")
                for row in session.execute(text(f"SELECT * FROM {table}")).all()]


def test_no_identifier_or_free_text_reaches_the_audit_log(client, auth, app):
    case = intake_search_and_triage(client, auth)
    item_ids = add_items(client, auth, case)
    minute_a_meeting(client, auth, app)  # before the re-open, which takes the signal off the case
    refer_break_the_glass_and_act(client, auth, case, item_ids)
    privacy_officer_reviews(client, auth, case)
    rows = audit_rows(app)
    # The scan reads what the scenario wrote: its many events, and the person named by pseudonym.
    assert len([r for r in rows if r[0] == "audit_events"]) > 30
    assert case["person"]["pseudonym"] in {columns["pseudonym"] for t, columns in rows if t == "audit_event_persons"}
    needles = {what: [n.lower() for n in values] for what, values in IDENTIFYING.items()}
    leaks = {(table, column, what) for table, columns in rows for column, value in columns.items()
             for what, found in needles.items() if any(n in value.lower() for n in found)}
    assert leaks == set()
