"""Schemathesis against the registry's own OpenAPI document: every operation, in process (ASGI), as
every kind of caller, with every check schemathesis has.

Generation is bounded and derandomized (EXAMPLES positive and negative examples per operation, the
same ones every run), so a failure reproduces. A developer's run draws 3 per operation and kind of
run; CI (CI=true) draws CI_EXAMPLES; SCHEMATHESIS_EXAMPLES overrides both. Operations on a record run
once more with the ids of real records (a case with a member, an item and an emergency access), so that
successful answers are checked against their schemas too, not only 404s.

Rules that JSON Schema cannot state (the BSN elfproef, dates not in the future, either-or fields,
references to existing records, opaque cursors, the current ETag) answer 400 (or 412/428) to data
the schema allows. Only for the operations listed in SEMANTIC_RULES does the positive-data check
accept those statuses, and a 400 must name the fields of the rule it is accepted for (`errors[].name`,
or OAuth's `error` at the token endpoint); every other check stays as strict as schemathesis makes it.

Each operation then runs valid examples (tests/valid_data.py): schemathesis' positive data with the
constrained fields overwritten by valid values, with fresh records where an example changes their
state, sent by a caller entitled to the operation. Every one must succeed (2xx): a regression that
refuses valid requests fails here, not only in a test someone remembered to write.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.case_helpers import API, add_member, new_case, organisation_id
from tests.meeting_helpers import plan
from tests.valid_data import DEFAULT, RECIPES, Recipe, patches
from tests.valid_records import Example, Records, apply


@dataclass(frozen=True)
class Rule:
    """A rule beyond JSON Schema: what it says, the statuses that breaking it answers, and the fields
    (`errors[].name`) a 400 for breaking it names."""

    text: str
    statuses: str
    names: tuple[str, ...] = ()


CURSOR = Rule("the cursor must be one this API issued", "400", ("cursor",))
SEMANTIC_RULES = {
    ("POST", "/auth/token"): Rule("the fields each grant_type needs; credentials and scopes that exist", "400",
                                  ("invalid_request", "invalid_grant", "invalid_scope")),
    ("POST", "/signals"): Rule("BSN elfproef; date of birth from 1900 up to today; observed_at not in the future; "
                               "a municipality_id the reporter works in", "400",
                               ("subject.bsn", "subject.date_of_birth", "observed_at", "municipality_id")),
    ("GET", "/signals"): CURSOR,
    ("POST", "/persons/search"): Rule("a bsn, or a name and a date_of_birth", "400", ("bsn", "body")),
    ("POST", "/cases"): Rule("person_id must name a person of the municipality; the owner one of its coordinators",
                             "400", ("person_id", "owner_user_id")),
    ("GET", "/cases"): CURSOR,
    ("PATCH", "/cases/{id}"): Rule("If-Match must carry the case's current ETag; closing needs a closure_reason and "
                                   "re-opening a reason; the owner is a coordinator of the municipality",
                                   "400, 412, 428", ("closure_reason", "reason", "owner_user_id")),
    ("GET", "/emergency-accesses"): CURSOR,
    ("GET", "/audit-events"): Rule("the cursor must be one this API issued; since before until", "400",
                                   ("cursor", "since")),
    ("GET", "/statistics"): Rule("until after since", "400", ("until",)),
    ("POST", "/cases/{id}/items"): Rule("the item's date not in the future; shared only with organisations that "
                                        "take part in the case", "400", ("date", "shared_with")),
    ("POST", "/signals/{id}/triage"): Rule("a reason for no further action; case_id with link_to_case", "400",
                                           ("body",)),
    ("POST", "/cases/{id}/members"): Rule("organisation_id must name an organisation of the municipality's network",
                                          "400", ("organisation_id",)),
    ("POST", "/meetings"): Rule("the chair and attendees must be of the municipality", "400",
                                ("chair_id", "attending_organisation_ids")),
    ("GET", "/meetings"): CURSOR,
    ("POST", "/cases/{id}/actions"): Rule("the owner takes part in the case; due_date not in the past", "400",
                                          ("owner_organisation_id", "owner_user_id", "due_date", "agenda_item_id")),
    ("GET", "/actions"): CURSOR,
    ("POST", "/subscriptions"): Rule("callback_url must be https and resolve to an allowed address; the subscriber "
                                     "reads the events' resources", "400", ("callback_url", "events")),
    ("GET", "/subscriptions"): CURSOR,
    ("GET", "/subscriptions/{id}/deliveries"): CURSOR,
    ("POST", "/cases/{id}/referrals"): Rule("a known recipient, the case's current items, due_date not in the past",
                                            "400", ("recipient_organisation_id", "shared_item_ids", "due_date")),
    ("GET", "/referrals"): CURSOR,
    ("POST", "/referrals/{id}/complete"): Rule("an assessment completes a request for assessment, and nothing else",
                                               "400", ("assessment",)),
    ("GET", "/organisations"): CURSOR,
    ("GET", "/cases/{id}/history"): CURSOR,
    ("GET", "/cases/{id}/members"): CURSOR,
    ("GET", "/cases/{id}/actions"): CURSOR,
    ("GET", "/cases/{id}/items"): CURSOR,
    ("POST", "/inbound-referrals"): Rule("BSN elfproef; date of birth from 1900 up to today", "400",
                                         ("subject.bsn", "subject.date_of_birth")),
    ("PATCH", "/meetings/{id}"): Rule("If-Match must carry the meeting's current ETag; the chair and attendees must "
                                      "be of the municipality", "400, 412, 428",
                                      ("chair_id", "attending_organisation_ids")),
    ("PATCH", "/actions/{id}"): Rule("If-Match must carry the action's current ETag", "412, 428"),
    ("POST", "/meetings/{id}/agenda/build"): Rule("If-Match, when sent, must carry the meeting's current ETag; the "
                                                  "meeting starts within AGENDA_HORIZON_DAYS", "412, 409"),
    ("POST", "/meetings/{id}/agenda/items"): Rule("case_id must name a case of the meeting's municipality; If-Match, "
                                                  "when sent, must carry the meeting's current ETag", "400, 412",
                                                  ("case_id",)),
    ("PATCH", "/meetings/{id}/agenda/items/{item_id}"): Rule("If-Match must carry the meeting's current ETag; a "
                                                             "decision to close the case needs a closure_reason",
                                                             "400, 412, 428", ("closure_reason",)),
    ("DELETE", "/meetings/{id}/agenda/items/{item_id}"): Rule("If-Match must carry the meeting's current ETag",
                                                              "412, 428"),
}
CONFIG = SchemathesisConfig.from_str("[checks]\nenabled = true\n" + "".join(
    f'[[operations]]\ninclude-name = "{method} {path}"\n'
    f'checks.positive_data_acceptance.expected-statuses = ["2xx", {", ".join(map(repr, rule.statuses.split(", ")))}, '
    f'"401", "403", "404", "409", "429"]\n'
    for (method, path), rule in SEMANTIC_RULES.items()))
DOCUMENT = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item]
# One account per role: melder, partner, coordinator, chair, expert, privacy_officer, admin.
USERS = ["teacher", "care", "coordinator", "chair", "expert", "privacy", "admin"]
CI_EXAMPLES = 4
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or (CI_EXAMPLES if os.environ.get("CI") == "true" else 3))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))


def real_records(client, auth) -> dict[str, str]:
    """Path parameters naming real records: the record kind is the path's first segment (an `item_id`
    under meetings is an agenda item)."""
    subscription = client.post(f"{API}/subscriptions", headers=auth("admin"), json={
        "callback_url": "https://127.0.0.1:9/hook", "events": ["signal.received"]}).json()["id"]
    case = new_case(client, auth)  # its signal is the subscription's delivery
    add_member(client, auth, case["id"], "POL")
    item = client.post(f"{API}/cases/{case['id']}/items", headers=auth("police"), json={
        "kind": "other", "text": "Gesprek.", "source": "Wijkagent", "date": "2025-01-10"}).json()["id"]
    access = client.post(f"{API}/cases/{case['id']}/emergency-access", headers=auth("care"), json={
        "reason": "Acute dreiging; informatie is vandaag nodig voor het veiligheidsoverleg."}).json()["id"]
    police = organisation_id(client, auth("coordinator"), "POL")
    meeting = plan(client, auth, client.app)["id"]
    agenda = client.post(f"{API}/meetings/{meeting}/agenda/items", headers=auth("chair"),
                         json={"case_id": case["id"]}).json()
    action = client.post(f"{API}/cases/{case['id']}/actions", headers=auth("coordinator"), json={
        "description": "Huisbezoek", "owner_organisation_id": police, "due_date": "2099-01-01"}).json()["id"]
    referral = client.post(f"{API}/cases/{case['id']}/referrals", headers=auth("coordinator"), json={
        "recipient_organisation_id": organisation_id(client, auth("coordinator"), "GGZ"), "purpose": "Begeleiding.",
        "legal_basis": "consent", "shared_fields": ["name"]}).json()["id"]
    [delivery] = client.get(f"{API}/subscriptions/{subscription}/deliveries", headers=auth("admin")).json()["items"]
    return {"signals": case["signal_id"], "cases": case["id"], "persons": case["person"]["id"],
            "emergency-accesses": access, "item_id": item, "organisation_id": police, "meetings": meeting,
            "meetings/item_id": agenda["items"][0]["id"], "actions": action, "referrals": referral,
            "subscriptions": subscription, "delivery_id": delivery["id"], "key": "signal-intake"}


def path_parameters(path: str, records: dict[str, str]) -> dict[str, str]:
    segment = path.split("/")[1]
    names = [part.strip("{}") for part in path.split("/") if part.startswith("{")]
    return {name: records[segment] if name == "id" else records.get(f"{segment}/{name}", records[name])
            for name in names}


def parameter_names(method: str, path: str) -> set[str]:
    return {parameter["name"] for parameter in DOCUMENT["paths"][path][method.lower()].get("parameters", [])}


def assert_names_its_rule(method: str, path: str, response) -> None:
    """A 400 to data the schema allows is accepted only for a rule of SEMANTIC_RULES, and must name it."""
    if response.status_code != 400 or (method, path) not in SEMANTIC_RULES:
        return
    problem = response.json()
    named = {error["name"] for error in problem.get("errors") or []} or {problem.get("error")}
    allowed = SEMANTIC_RULES[method, path].names
    assert named <= set(allowed), (f"{method} {path}: a 400 names {sorted(map(str, named))}, not among the fields "
                                   f"of its rule {allowed}: {problem}")


def test_semantic_rules_name_documented_operations():
    assert set(SEMANTIC_RULES) <= set(OPERATIONS)
    assert set(RECIPES) <= set(OPERATIONS)
    assert all(hasattr(Records, recipe.records) for recipe in RECIPES.values() if recipe.records)


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def run_examples(operation, mode, parameters, callers, method: str, path: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=parameters))
    @SETTINGS
    def every_caller_gets_a_conforming_answer(case):
        for headers in callers:
            response = case.call_and_validate(headers=headers)
            if mode == GenerationMode.POSITIVE:
                assert_names_its_rule(method, path, response)

    every_caller_gets_a_conforming_answer()


def make_valid(case, patch: dict, recipe: Recipe, records: Records) -> None:
    """The drawn case with the example's fresh records in its path and the patch over it."""
    fresh = getattr(records, recipe.records)() if recipe.records else {}
    case.path_parameters = {name: fresh.get(name, value) for name, value in case.path_parameters.items()}
    case.path_parameters |= patch.get("path", {})
    etag_path = recipe.etag.format(**case.path_parameters) if recipe.etag else None
    apply(case, patch, Example(records, case.formatted_path, recipe.caller, fresh, etag_path))


def valid_statuses(operation, records: Records, method: str, path: str) -> list[int]:
    """The statuses of the valid examples, each sent by the operation's entitled caller."""
    recipe = RECIPES.get((method, path), DEFAULT)
    shared = path_parameters(path, records.shared) if "{" in path else None
    drawn = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=shared)
    statuses: list[int] = []

    @given(st.tuples(drawn, patches(recipe, parameter_names(method, path))))
    @SETTINGS
    def valid_example(example):
        case, patch = example
        make_valid(case, patch, recipe, records)
        assert case.meta.generation.mode.is_positive, f"the valid data of {method} {path} breaks the schema"
        response = case.call_and_validate(headers=records.headers(recipe.caller))
        assert_names_its_rule(method, path, response)
        statuses.append(response.status_code)

    valid_example()
    return statuses


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_document(api_schema, app, client, auth, monkeypatch, method, path):
    operation = api_schema[path][method]
    records = Records(app, client, auth, real_records(client, auth), monkeypatch)
    # Every role, an API client of another municipality, and no token at all. Invalid input is
    # checked before or after access depending on the caller, so it goes to one caller of each kind.
    everyone = [auth(user) for user in USERS] + [auth.client("arnhem-system"), {}]
    kinds = [auth("coordinator"), auth("care"), auth.client("arnhem-system"), {}]
    runs = [(GenerationMode.POSITIVE, None, everyone), (GenerationMode.NEGATIVE, None, kinds)]
    if "{" in path:
        runs.append((GenerationMode.POSITIVE, path_parameters(path, records.shared), everyone))
    for mode, parameters, callers in runs:
        run_examples(operation, mode, parameters, callers, method, path)

    statuses = valid_statuses(operation, records, method, path)
    caller = RECIPES.get((method, path), DEFAULT).caller or "no token"
    assert statuses and all(200 <= status < 300 for status in statuses), (
        f"{method} {path}: valid examples sent by {caller} answered {statuses}, not 2xx every time")
