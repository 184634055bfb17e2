"""The callers of the route authorization matrix, and which record of the world (tests/authz_world.py)
each of their relationships reaches.

Callers: anonymous, melder (teacher), partner (care, GGZ), dual (Reclassering, a partner serving
Utrecht and Arnhem), coordinator, chair, lchair (a chair whose window has passed), expert, privacy
(privacy officer), admin, client (Arnhem's system, an API client of another municipality), and
Arnhem's own coordinator, chair, privacy officer and administrator: the same roles in another
municipality of the same registry.

Relationships, seen from the caller's organisation:
  own  case-bound records: its organisation takes part in the case (the municipality: it runs it; the
       chair: it is on the agenda of a meeting they chair); meetings: its organisation attends (the
       chair: chairs it; the municipality: its meeting); signals: the caller reported it (the
       municipality's staff: it was reported to them); actions: its organisation owns the action;
       referrals: it is addressed to its organisation (the municipality's staff: received from
       Arnhem's registry); subscriptions: its organisation's
  org  the same municipality, but another organisation's case, meeting, signal, action, referral or
       subscription (the chair: a case not on their agenda, a meeting they do not chair)
  mun  another municipality's record (Utrecht's callers: Arnhem's; Arnhem's: Utrecht's)
Some kinds have one more:
  case (actions)    another organisation's action in a case the caller's organisation takes part in
  sent (referrals)  its organisation sent the referral (Utrecht's: from case M; Arnhem's: into Utrecht)
Arnhem has no partners to refer to, so no referral is Arnhem's own.
The dual partner's `own` case is Arnhem's A (it takes part in M too); its `mun` is what it has no part
in across the border. The late chair's `own` case is N, which was on the agenda of ML.
"""

from collections.abc import Callable
from dataclasses import dataclass

CALLERS = {"anon": None, "melder": "teacher", "partner": "care", "dual": "probation", "coord": "coordinator",
           "chair": "chair", "lchair": "chair-late", "expert": "expert", "privacy": "privacy", "admin": "admin",
           "client": "arnhem-system", "acoord": "arnhem-coordinator", "achair": "arnhem-chair",
           "apriv": "arnhem-privacy", "aadmin": "arnhem-admin"}
MUNICIPALITY_STAFF = {"coord", "chair", "lchair", "privacy", "admin"}
# Arnhem's staff, and their counterpart in Utrecht: what is `own` to one is `mun` to the other.
ARNHEM_STAFF = {"acoord": "coord", "achair": "chair", "apriv": "privacy", "aadmin": "admin"}
RELATIONS = ("own", "org", "mun")


def case_record(relation: str, caller: str) -> str | None:
    # The municipality runs every case of its own; the chair only sees those on its agendas (M's copies).
    if caller == "dual":
        return {"own": "A", "org": "N", "mun": None}[relation]
    if caller == "lchair":
        return {"own": "N", "org": "M", "mun": "A"}[relation]
    arnhem, runs_all = caller == "client", caller in MUNICIPALITY_STAFF - {"chair"}
    own, other = ("A", "M") if arnhem else ("M", "A")
    return {"own": own, "org": None if arnhem or runs_all else "N", "mun": other}[relation]


def meeting_record(relation: str, caller: str) -> str | None:
    if caller == "dual":  # attends none
        return {"own": None, "org": "MO", "mun": "MA"}[relation]
    if caller == "lchair":
        return {"own": "ML", "org": "MT", "mun": "MA"}[relation]
    key = case_record(relation, caller)
    return None if key is None else {"M": "MT", "N": "MO", "A": "MA"}[key]


def closed_meeting_record(relation: str, caller: str) -> str | None:
    key = meeting_record(relation, caller)
    return None if key is None else key if key == "ML" else "c" + key  # ML is closed


OWNS = {"melder": "xS", "partner": "xG", "expert": "xD"}  # the municipality's staff: xU


def action_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "xA", "case": None, "org": None, "mun": "xM"}[relation]
    if caller == "dual":  # owns none; Arnhem's xA is in its case A
        return {"own": None, "case": "xA", "org": "xN", "mun": None}[relation]
    if caller == "lchair":
        return {"own": "xU", "case": "xN", "org": "xM", "mun": "xA"}[relation]
    own = None if caller == "anon" else OWNS.get(caller, "xU")
    return {"own": own, "case": "xM", "org": case_record("org", caller) and "xN", "mun": "xA"}[relation]


RECEIVES = {"melder": "rS", "partner": "rG", "expert": "rD"}


def referral_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "rX", "sent": "rI", "org": None, "mun": "rG"}[relation]
    if caller == "dual":
        return {"own": None, "sent": None, "org": "rG", "mun": None}[relation]
    if caller == "lchair":  # rN was sent from N, once on its agenda
        return {"own": "rI", "sent": "rN", "org": "rG", "mun": None}[relation]
    staff = caller in MUNICIPALITY_STAFF
    other = {"partner": "rD", "chair": "rN"}.get(caller, None if staff else "rG")
    return {"own": "rI" if staff else RECEIVES.get(caller), "sent": "rG" if staff else None, "org": other,
            "mun": None}[relation]


def accepted_referral_record(relation: str, caller: str) -> str | None:
    key = referral_record(relation, caller)
    return None if key is None else key if key == "rS" else "a" + key  # nobody at the school may accept rS


def subscription_record(relation: str, caller: str) -> str | None:
    if caller == "client":
        return {"own": "sA", "org": None, "mun": "sU"}[relation]
    municipality = caller in MUNICIPALITY_STAFF
    return {"own": "sU" if municipality else None, "org": None if municipality else "sU", "mun": "sA"}[relation]


def emergency_record(relation: str, caller: str) -> str | None:
    key = case_record(relation, caller)
    return None if key == "A" else key  # nobody may break the glass on Arnhem's case


def signal_record(relation: str, caller: str) -> str | None:
    if caller == "dual":
        return {"own": None, "org": "t", "mun": "a"}[relation]
    arnhem, staff = caller == "client", caller in MUNICIPALITY_STAFF
    reporter = {"melder": "t", "client": "a"}.get(caller, "t" if staff else None)
    other = {"melder": "p"}.get(caller, None if arnhem or staff else "t")
    return {"own": reporter, "org": other, "mun": "t" if arnhem else "a"}[relation]


def closed_signal_record(relation: str, caller: str) -> str | None:
    key = signal_record(relation, caller)
    return None if key is None else "c" + key


@dataclass(frozen=True)
class Kind:
    """A kind of record a path names: which world record each relationship reaches for a caller (None:
    the caller cannot have that relationship), and its path parameters."""

    record: Callable[[str, str], str | None]
    params: Callable[[dict[str, str]], dict[str, str]] = lambda record: record
    relations: tuple[str, ...] = RELATIONS


KINDS = {
    "case": Kind(case_record),
    "item": Kind(case_record),
    "member": Kind(case_record),
    "person": Kind(case_record, lambda record: {"id": record["person"]}),
    "ea": Kind(emergency_record, lambda record: {"id": record["ea"]}),
    "signal": Kind(signal_record),
    "closed": Kind(closed_signal_record),
    "meeting": Kind(meeting_record),  # its records name the meeting, its case's agenda item and K
    "closed_meeting": Kind(closed_meeting_record),
    "action": Kind(action_record, relations=("own", "case", "org", "mun")),
    "referral": Kind(referral_record, relations=("own", "sent", "org", "mun")),
    "accepted": Kind(accepted_referral_record, relations=("own", "sent", "org", "mun")),
    "subscription": Kind(subscription_record),  # its records name the subscription and one delivery
}


def relation_key(kind: str, relation: str, caller: str) -> str | None:
    record = KINDS[kind].record
    if caller in ARNHEM_STAFF:
        twin = ARNHEM_STAFF[caller]
        mine = record("own", twin)
        if mine is None and "sent" in KINDS[kind].relations:
            mine = record("sent", twin)
        return {"own": record("mun", twin), "mun": mine}.get(relation)
    return record(relation, caller)
