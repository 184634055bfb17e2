"""Valid requests for every operation of the document, for the schemathesis test's valid run.

Schemathesis draws data that the JSON Schema allows; the registry also holds rules the schema cannot
state (the BSN elfproef, dates not in the future, existing records, the current ETag, either-or
fields, the state a record must be in). A RECIPES entry says, per operation, who may call it (a demo
user, `client:<id>` for an API client, or "" for no token), which records one example needs fresh
(a method of tests/valid_records.Records, called before every example, so a change of state does not
turn the next example into a 409), and a hypothesis strategy for a patch that overwrites the constrained parts of
the drawn request with valid values. A patch is {"body" | "query" | "headers": {name: value}}; a value
may be DROP (leave the field out) or a function of the example (`Example`), resolved just before the
call: a record's id, the ETag read a moment before, a cursor the API issued.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from app.privacy import register
from tests.conftest import PASSWORD
from tests.valid_records import DROP, Example

NETWORK = ("POL", "OM", "BTU", "JOU", "GGZ", "SOU", "DPO")  # Utrecht's partners in the demo data
ISO = "%Y-%m-%d"
ACTIVITIES = [activity.key for activity in register.read()]  # the register of processing activities


# Values that pass the registry's own rules.

def bsns() -> st.SearchStrategy[str]:
    """Nine digits that pass the elfproef: eight drawn, the ninth computed so that the weighted sum
    (9, 8, ..., 2 for the first eight, -1 for the ninth) is divisible by 11; rejected where no digit fits."""
    def complete(digits: list[int]) -> list[int]:
        return digits + [sum(d * (9 - i) for i, d in enumerate(digits)) % 11]

    numbers = st.lists(st.integers(0, 9), min_size=8, max_size=8).map(complete)
    return numbers.filter(lambda d: d[8] <= 9 and any(d)).map(lambda d: "".join(map(str, d)))


def offsets() -> st.SearchStrategy[timezone]:
    return st.integers(-12 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def instants(start: datetime, end: datetime) -> st.SearchStrategy[str]:
    """An ISO 8601 moment between two (UTC) moments, written with a drawn UTC offset."""
    naive = st.datetimes(min_value=start.replace(tzinfo=None), max_value=end.replace(tzinfo=None))
    return st.builds(lambda moment, offset: moment.replace(tzinfo=UTC).astimezone(offset).isoformat(), naive, offsets())


def past_instants() -> st.SearchStrategy[str]:
    return instants(datetime(1900, 1, 1, tzinfo=UTC), datetime.now(UTC))


def dates(start: date, end: date) -> st.SearchStrategy[str]:
    return st.dates(min_value=start, max_value=end).map(lambda day: day.strftime(ISO))


def birth_dates() -> st.SearchStrategy[str]:
    return dates(date(1900, 1, 1), date.today())


def past_dates() -> st.SearchStrategy[str]:
    return dates(date(1900, 1, 1), date.today())


def due_dates() -> st.SearchStrategy[str]:
    return dates(date.today(), date(2100, 12, 31))


def texts(min_size: int = 1, max_size: int = 200) -> st.SearchStrategy[str]:
    """Text that keeps its length when trimmed: visible characters at both ends, spaces only inside."""
    visible = st.characters(categories=("L", "N", "P", "S"))
    inside = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=max(min_size - 2, 0),
                     max_size=max_size - 2)
    return st.one_of(visible.filter(lambda _: min_size <= 1),
                     st.builds(lambda first, middle, last: first + middle + last, visible, inside, visible))


def callback_urls() -> st.SearchStrategy[str]:
    """https URLs of public-looking hosts (resolved to PUBLIC_ADDRESS in the valid run)."""
    host = st.from_regex(r"\A[a-z][a-z0-9]{0,9}(\.[a-z][a-z0-9]{0,9}){0,2}\.(nl|com|org)\Z")
    port = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
    path = st.from_regex(r"\A(/[A-Za-z0-9._~-]{0,12}){0,3}\Z")
    return st.builds(lambda h, p, q: f"https://{h}{p}{q}", host, port, path)


def unique_subsets(values, min_size: int = 0) -> st.SearchStrategy[list]:
    return st.lists(st.sampled_from(values), unique=True, min_size=min_size, max_size=len(values))


# References into the example's records, resolved just before the call.

def org(code: str) -> Callable:
    return lambda example: example.records.orgs[code]


def user(name: str) -> Callable:
    return lambda example: example.records.user(name)


def fresh(key: str) -> Callable:
    return lambda example: example.fresh[key]


def shared(key: str) -> Callable:
    return lambda example: example.records.shared[key]


def current_etag(example: Example) -> str:
    return example.etag()


def issued_cursor(example: Example) -> Any:
    return example.cursor()


def fresh_key(example: Example) -> str:
    return uuid.uuid4().hex


def reference(example: Example) -> str:
    return f"ARN-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Recipe:
    """How an entitled caller makes a valid request: who calls, the fresh records of one example (a
    Records method's name), the patch, and the path whose ETag goes into If-Match (required, or drawn)."""

    caller: str = "coordinator"
    records: str | None = None
    patch: st.SearchStrategy[dict] = st.just({})
    etag: str | None = None
    etag_required: bool = True


def body(**fields: Any) -> st.SearchStrategy[dict]:
    """A patch of body fields: each a strategy, or a fixed value (a reference, DROP)."""
    return st.fixed_dictionaries({"body": st.fixed_dictionaries(
        {name: value if isinstance(value, st.SearchStrategy) else st.just(value) for name, value in fields.items()})})


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value, mostly, or the field left out or null (the simplest example has the value)."""
    return st.one_of(strategy, st.just(DROP), st.none())


@st.composite
def token_requests(draw) -> dict:
    if draw(st.booleans()):
        username = draw(st.sampled_from(["teacher", "coordinator", "admin"]))
        return {"body": {"grant_type": "password", "username": username, "password": PASSWORD}}
    scopes = draw(unique_subsets(["referrals:send", "referrals:receive", "signals:create", "webhooks:manage"]))
    return {"body": {"grant_type": "client_credentials", "client_id": "arnhem-system", "client_secret": PASSWORD,
                     "scope": " ".join(scopes) if scopes else DROP}}


def subjects() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"bsn": optional(bsns()), "date_of_birth": birth_dates()})


@st.composite
def triage_requests(draw) -> dict:
    outcome = draw(st.sampled_from(["new_case", "link_to_case", "no_further_action"]))
    case_id = fresh("case") if outcome == "link_to_case" else draw(st.sampled_from([DROP, None]))
    reason = texts(10) if outcome == "no_further_action" else optional(texts(10))
    return {"body": {"outcome": outcome, "case_id": case_id, "reason": draw(reason)}}


def person_searches() -> st.SearchStrategy[dict]:
    by_bsn = body(bsn=bsns())
    by_name = body(bsn=st.sampled_from([DROP, None]), name=texts(1, 50), date_of_birth=birth_dates())
    return st.one_of(by_bsn, by_name)


@st.composite
def case_updates(draw) -> dict:
    """Changes to a case in intake: a step forward, or closing it with a reason."""
    status = draw(st.sampled_from([DROP, None, "intake", "investigation", "closed"]))
    closure = texts(10) if status == "closed" else optional(texts(10))
    owner = draw(st.sampled_from([DROP, None, user("coordinator")]))
    return {"body": {"status": status, "closure_reason": draw(closure), "reason": draw(optional(texts(10))),
                     "owner_user_id": owner}}


def meetings() -> dict[str, st.SearchStrategy]:
    """A chair or coordinator of the municipality in the chair, and organisations of its network."""
    return {"starts_at": instants(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)),
            "chair_id": st.sampled_from([user("chair"), user("coordinator")]),
            "attending_organisation_ids": unique_subsets(NETWORK).map(lambda codes: [org(code) for code in codes])}


def meeting_updates() -> st.SearchStrategy[dict]:
    """Of a planned meeting (closing comes after it ran); a field left out stays as it is."""
    fields = {name: st.one_of(st.just(DROP), strategy) for name, strategy in meetings().items()}
    fields["attending_organisation_ids"] = st.one_of(fields["attending_organisation_ids"], st.none())
    return body(**fields, status=st.sampled_from([DROP, None, "planned", "in_progress"]))


@st.composite
def agenda_item_updates(draw) -> dict:
    """Of an item of a meeting in progress; closing the case needs a closure_reason."""
    decision = draw(st.sampled_from([DROP, None, "continue_approach", "start_referral", "request_assessment",
                                     "close_case", "no_change"]))
    closure = texts(10) if decision == "close_case" else optional(texts(10))
    return {"body": {"decision": decision, "closure_reason": draw(closure)}}


def action_owners() -> st.SearchStrategy[dict]:
    """An organisation that takes part in the shared case (the municipality, the police) and, or not,
    one of its users."""
    return st.sampled_from([(org("UTR"), DROP), (org("UTR"), None), (org("UTR"), user("coordinator")),
                            (org("POL"), None), (org("POL"), user("police"))])


@st.composite
def new_actions(draw) -> dict:
    owner, owner_user = draw(action_owners())
    return {"body": {"owner_organisation_id": owner, "owner_user_id": owner_user, "due_date": draw(due_dates()),
                     "agenda_item_id": draw(st.sampled_from([DROP, None, shared("meetings/item_id")]))}}


@st.composite
def new_referrals(draw) -> dict:
    """To a partner of the network (or the expert pool) with any person fields, or to Arnhem's linked
    registry with the name, the date of birth and perhaps the BSN; sharing current items of the case."""
    recipient = draw(st.sampled_from(["GGZ", "POL", "SOU", "BTU", "JOU", "OM", "DPO", "ARN"]))
    if recipient == "ARN":
        fields = ["name", "date_of_birth"] + draw(st.sampled_from([[], ["bsn"]]))
    else:
        fields = draw(unique_subsets(["name", "date_of_birth", "bsn", "address", "district"]))
    return {"body": {"recipient_organisation_id": org(recipient), "shared_fields": fields,
                     "shared_item_ids": draw(st.sampled_from([[], [shared("item_id")]])),
                     "due_date": draw(optional(due_dates()))}}


@st.composite
def periods(draw, longest: timedelta | None = None) -> tuple[str, str]:
    """since before until, at most `longest` apart."""
    start = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
    length = draw(st.timedeltas(min_value=timedelta(seconds=1), max_value=longest or timedelta(days=36500)))
    since, until = (moment.replace(tzinfo=UTC).astimezone(draw(offsets())) for moment in (start, start + length))
    return since.isoformat(), until.isoformat()


def audit_queries() -> st.SearchStrategy[dict]:
    """The read rule: a trace, a processing activity, a data subject, or a period of at most 31 days."""
    period = periods(timedelta(days=31)).map(lambda p: {"since": p[0], "until": p[1]})
    narrowed = st.one_of(st.fixed_dictionaries({"traceId": st.from_regex(r"\A[0-9a-f]{32}\Z")}),
                         st.fixed_dictionaries({"processingActivity": st.sampled_from(ACTIVITIES)}),
                         st.fixed_dictionaries({"pseudonym": st.text("0123456789abcdef", min_size=1, max_size=20)}),
                         period)
    return narrowed.map(lambda query: {"query": query})


def inbound_referrals() -> st.SearchStrategy[dict]:
    return body(sender_reference=reference, subject=subjects())


PAGE = st.fixed_dictionaries({"query": st.fixed_dictionaries({"cursor": st.sampled_from([DROP, issued_cursor])})})
IDEMPOTENT = st.fixed_dictionaries({"headers": st.fixed_dictionaries(
    {"Idempotency-Key": st.sampled_from([DROP, fresh_key])})})

RECIPES: dict[tuple[str, str], Recipe] = {
    ("POST", "/auth/token"): Recipe("", "no_failed_logins", token_requests()),
    ("POST", "/signals"): Recipe("teacher", patch=body(
        subject=subjects(), observed_at=past_instants(), municipality_id=st.sampled_from([DROP, None, org("UTR")]))),
    ("POST", "/signals/{id}/triage"): Recipe(records="untriaged_signal", patch=triage_requests()),
    ("POST", "/signals/{id}/reopen"): Recipe(records="closed_signal", patch=body(reason=texts(10))),
    ("POST", "/persons/search"): Recipe(patch=person_searches()),
    ("POST", "/cases"): Recipe(patch=body(person_id=shared("persons"),
                                          owner_user_id=st.sampled_from([DROP, None, user("coordinator")]))),
    ("PATCH", "/cases/{id}"): Recipe(records="case", patch=case_updates(), etag="/cases/{id}"),
    ("POST", "/cases/{id}/members"): Recipe(records="case", patch=body(
        organisation_id=st.sampled_from(NETWORK).map(org))),
    ("DELETE", "/cases/{id}/members/{organisation_id}"): Recipe(records="member"),
    ("POST", "/cases/{id}/emergency-access"): Recipe("care", "case", body(reason=texts(30))),
    ("POST", "/cases/{id}/items"): Recipe(patch=body(date=past_dates(), shared_with=optional(
        unique_subsets(["UTR", "POL"]).map(lambda codes: [org(code) for code in codes])))),
    ("POST", "/cases/{id}/items/{item_id}/corrections"): Recipe("police", patch=body(date=optional(past_dates()))),
    ("GET", "/emergency-accesses"): Recipe("privacy"),
    ("POST", "/emergency-accesses/{id}/review"): Recipe("privacy", "emergency_access"),
    ("GET", "/audit-events"): Recipe("privacy", patch=audit_queries()),
    ("GET", "/persons/{id}/access-report"): Recipe("privacy"),
    ("GET", "/statistics"): Recipe(patch=periods().map(lambda p: {"query": {"since": p[0], "until": p[1]}})),
    ("POST", "/meetings"): Recipe(patch=body(**meetings())),
    ("PATCH", "/meetings/{id}"): Recipe(records="meeting", patch=meeting_updates(), etag="/meetings/{id}"),
    ("POST", "/meetings/{id}/agenda/build"): Recipe(etag="/meetings/{id}", etag_required=False),
    ("POST", "/meetings/{id}/agenda/items"): Recipe(records="agenda_case", patch=body(case_id=fresh("case")),
                                                    etag="/meetings/{id}", etag_required=False),
    ("PATCH", "/meetings/{id}/agenda/items/{item_id}"): Recipe(records="running_meeting", patch=agenda_item_updates(),
                                                               etag="/meetings/{id}"),
    ("DELETE", "/meetings/{id}/agenda/items/{item_id}"): Recipe(records="meeting", etag="/meetings/{id}"),
    ("POST", "/meetings/{id}/agenda/items/{item_id}/addenda"): Recipe(records="closed_meeting"),
    ("POST", "/cases/{id}/closure-proposals"): Recipe(records="case"),
    ("POST", "/cases/{id}/actions"): Recipe(patch=new_actions()),
    ("PATCH", "/actions/{id}"): Recipe(records="action", etag="/actions/{id}"),
    ("POST", "/subscriptions"): Recipe("admin", "production_targets", body(
        callback_url=callback_urls(), events=unique_subsets(
            ["signal.received", "referral.received", "referral.status_changed", "action.assigned"], min_size=1))),
    ("GET", "/subscriptions"): Recipe("admin"),
    ("GET", "/subscriptions/{id}"): Recipe("admin"),
    ("DELETE", "/subscriptions/{id}"): Recipe("admin", "subscription"),
    ("GET", "/subscriptions/{id}/deliveries"): Recipe("admin"),
    ("POST", "/subscriptions/{id}/deliveries/{delivery_id}/redeliver"): Recipe("admin", "dead_delivery"),
    ("POST", "/cases/{id}/referrals"): Recipe(records="arnhem_link", patch=new_referrals()),
    ("POST", "/referrals/{id}/accept"): Recipe("care", "referral"),
    ("POST", "/referrals/{id}/decline"): Recipe("care", "referral"),
    ("POST", "/referrals/{id}/complete"): Recipe("care", "accepted_referral", body(assessment=DROP)),
    ("POST", "/referrals/{id}/withdraw"): Recipe(records="referral"),
    ("POST", "/inbound-referrals"): Recipe("client:arnhem-system", "arnhem_link", inbound_referrals()),
    ("GET", "/processing-activities/{key}"): Recipe(patch=st.sampled_from(ACTIVITIES).map(
        lambda key: {"path": {"key": key}})),
    ("GET", "/processing-activities/{key}/versions"): Recipe(patch=st.sampled_from(ACTIVITIES).map(
        lambda key: {"path": {"key": key}})),
}
DEFAULT = Recipe()  # the coordinator, on the shared records: every other operation


def patches(recipe: Recipe, parameters: set[str]) -> st.SearchStrategy[dict]:
    """The recipe's patch, with a cursor the API issued (or none), a new Idempotency-Key (or none) and
    the current ETag, where the operation takes them."""
    parts = [recipe.patch]
    if "cursor" in parameters:
        parts.append(PAGE)
    if "Idempotency-Key" in parameters:
        parts.append(IDEMPOTENT)
    if recipe.etag:
        etag = st.just(current_etag) if recipe.etag_required else st.sampled_from([DROP, current_etag])
        parts.append(st.fixed_dictionaries({"headers": st.fixed_dictionaries({"If-Match": etag})}))
    return st.tuples(*parts).map(combined)


def combined(parts: tuple[dict, ...]) -> dict:
    result: dict[str, dict] = {}
    for part in parts:
        for location, fields in part.items():
            result[location] = result.get(location, {}) | fields
    return result
