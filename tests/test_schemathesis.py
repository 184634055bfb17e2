"""Schemathesis against the registry's own OpenAPI document: every operation, in process (ASGI), as
every kind of caller, with every check schemathesis has.

Generation is bounded and derandomized (a few positive and a few negative examples per operation,
the same ones every run), so CI stays fast and a failure reproduces.

Rules that JSON Schema cannot state (the BSN elfproef, dates not in the future, either-or fields,
references to existing records, opaque cursors) answer 400 to data the schema allows. Only for the
operations listed in SEMANTIC_RULES, and with the rule named, does the positive-data check accept
that 400; every other check stays as strict as schemathesis makes it.
"""

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.factories import arnhem_coordinator

SEMANTIC_RULES = {
    ("POST", "/auth/token"): "the fields each grant_type needs",
    ("POST", "/signals"): "BSN elfproef; date of birth from 1900 up to today; observed_at not in the future",
    ("GET", "/signals"): "the cursor must be one this API issued",
    ("POST", "/persons/search"): "a bsn, or a name and a date_of_birth",
    ("POST", "/cases"): "person_id must name an existing person",
    ("GET", "/cases"): "the cursor must be one this API issued",
    ("GET", "/emergency-accesses"): "the cursor must be one this API issued",
    ("GET", "/audit-events"): "the cursor must be one this API issued; since before until",
    ("GET", "/statistics"): "until after since",
    ("POST", "/cases/{id}/items"): "the item's date not in the future",
}
ACCEPTED = '["2xx", "400", "401", "403", "404", "409", "429"]'
CONFIG = SchemathesisConfig.from_str("[checks]\nenabled = true\n" + "".join(
    f'[[operations]]\ninclude-method = "{method}"\ninclude-path = "{path}"\n'
    f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED}\n"
    for method, path in SEMANTIC_RULES))
DOCUMENT = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item]
# One account per role: melder, partner, coordinator, chair, expert, privacy_officer, admin.
USERS = ["teacher", "care", "coordinator", "chair", "expert", "privacy", "admin"]
EXAMPLES = 3


def test_semantic_rules_name_documented_operations():
    assert set(SEMANTIC_RULES) <= set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_document(app, client, auth, method, path):
    operation = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)[path][method]
    # Besides the roles: an API client, a coordinator of another municipality, and no token at all.
    callers = [auth(user) for user in USERS] + [auth.client("arnhem-system"), arnhem_coordinator(app, auth), {}]

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        def every_caller_gets_a_conforming_answer(case):
            for headers in callers:
                case.call_and_validate(headers=headers)

        every_caller_gets_a_conforming_answer()
