"""The reads of the scale bench: every GET of the API that reads case data, as each role that may call it
(tests/test_route_authorization.py), with records of the small registry each caller may see."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from bench.scale_callers import Layout

# The measured caller of each role (bench/deployment.py's accounts and bench/scale_callers.py's).
CALLERS = {"melder": "bench-melder", "coordinator": "bench-coordinator", "chair": "bench-chair",
           "partner": "scale-partner", "expert": "scale-expert", "privacy": "bench-privacy"}
CASE_READS = {"partner": "member_cases", "coordinator": "cases", "chair": "chaired_cases"}
MEETING_READS = {"partner": "attended_meetings", "coordinator": "meetings", "chair": "chaired_meetings"}
LISTS = ("partner", "coordinator", "chair")

# route, path ({} takes the record id), role -> the query of its ids (None: a list, no record named)
READS = [
    ("GET /signals", "/signals", dict.fromkeys(("melder", "coordinator", "chair"))),
    ("GET /signals/{id}", "/signals/{}", {"melder": "own_signals", "coordinator": "signals", "chair": "chaired_signals"}),
    ("GET /cases", "/cases", dict.fromkeys(LISTS)),
    ("GET /cases/{id}", "/cases/{}", CASE_READS),
    ("GET /cases/{id}/history", "/cases/{}/history", CASE_READS),
    ("GET /cases/{id}/members", "/cases/{}/members", CASE_READS),
    ("GET /cases/{id}/items", "/cases/{}/items", CASE_READS),
    ("GET /cases/{id}/actions", "/cases/{}/actions", CASE_READS),
    ("GET /meetings", "/meetings", dict.fromkeys(LISTS)),
    ("GET /meetings/{id}", "/meetings/{}", MEETING_READS),
    ("GET /meetings/{id}/agenda", "/meetings/{}/agenda", MEETING_READS),
    ("GET /actions?assignee=me", "/actions?assignee=me", dict.fromkeys(("partner", "coordinator"))),
    ("GET /actions/{id}", "/actions/{}", {"partner": "owned_actions", "coordinator": "actions", "chair": "chaired_actions"}),
    ("GET /referrals", "/referrals", dict.fromkeys((*LISTS, "expert"))),
    ("GET /referrals/{id}", "/referrals/{}", {"partner": "received_referrals", "coordinator": "referrals",
                                              "chair": "chaired_referrals", "expert": "pool_referrals"}),
    ("GET /emergency-accesses", "/emergency-accesses", {"privacy": None}),
    ("GET /audit-events?pseudonym=…", "/audit-events?pseudonym={}", {"privacy": "pseudonyms"}),
    ("GET /audit-events?processingActivity=case-management", "/audit-events?processingActivity=case-management",
     {"privacy": None}),
    ("GET /audit-events?since=…&until=… (30 days)", "/audit-events?{period30}", {"privacy": None}),
    ("GET /persons/{id}/access-report", "/persons/{}/access-report", {"privacy": "persons"}),
    ("GET /statistics?since=…&until=… (a year)", "/statistics?{period365}", dict.fromkeys(("coordinator", "privacy"))),
]

CHAIRED = """(SELECT a.case_id FROM agenda_items AS a JOIN meetings AS m ON m.id = a.meeting_id
              WHERE m.chair_id = %(chair)s AND a.removed_at IS NULL AND m.starts_at <= now() + interval '21 days'
                AND (m.closed_at IS NULL OR m.closed_at > now() - interval '7 days'))"""
OPEN = "status IN ('sent', 'accepted') AND direction = 'outgoing'"
# Records each caller may see (bench/scale_data*.py; the policies in app/auth/policies), by id.
IDS = {
    "own_signals": "SELECT id FROM signals WHERE reporter_id = %(melder)s",
    "signals": "SELECT id FROM signals WHERE municipality_id = %(home)s",
    "chaired_signals": f"SELECT id FROM signals WHERE case_id IN {CHAIRED}",
    "cases": "SELECT id FROM cases WHERE municipality_id = %(home)s",
    "member_cases": "SELECT case_id FROM case_members WHERE organisation_id = %(police)s",
    "chaired_cases": f"SELECT id FROM cases WHERE id IN {CHAIRED}",
    "meetings": "SELECT id FROM meetings WHERE municipality_id = %(home)s",
    "attended_meetings": "SELECT meeting_id FROM meeting_attendees WHERE organisation_id = %(police)s",
    "chaired_meetings": "SELECT id FROM meetings WHERE chair_id = %(chair)s",
    "owned_actions": "SELECT id FROM actions WHERE owner_organisation_id = %(police)s",
    "actions": "SELECT a.id FROM actions AS a JOIN cases AS k ON k.id = a.case_id WHERE k.municipality_id = %(home)s",
    "chaired_actions": f"SELECT id FROM actions WHERE case_id IN {CHAIRED}",
    "referrals": "SELECT id FROM referrals WHERE municipality_id = %(home)s",
    "received_referrals": f"SELECT id FROM referrals WHERE recipient_organisation_id = %(police)s AND {OPEN}",
    "pool_referrals": f"SELECT id FROM referrals WHERE recipient_organisation_id = %(pool)s AND {OPEN}",
    "chaired_referrals": f"SELECT id FROM referrals WHERE direction = 'outgoing' AND case_id IN {CHAIRED}",
    "persons": "SELECT person_id FROM cases WHERE municipality_id = %(home)s",
    "pseudonyms": "SELECT p.pseudonym FROM cases AS k JOIN persons AS p ON p.id = k.person_id "
                  "WHERE k.municipality_id = %(home)s",
}
IDS_PER_READ = 8


@dataclass(frozen=True)
class Read:
    route: str
    role: str
    paths: tuple[str, ...]  # under /api/v1; wrk takes turns over them

    @property
    def name(self) -> str:
        return f"{self.route} as {self.role}"


def _periods() -> dict[str, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    def period(days: int) -> str:
        return f"since={(now - timedelta(days=days)).isoformat().replace('+00:00', 'Z')}&until=" \
               f"{(now + timedelta(days=1)).isoformat().replace('+00:00', 'Z')}"
    return {"period30": period(30), "period365": period(365)}


def _ids(dsn: str, layout: Layout) -> dict[str, list[str]]:
    params = {"home": layout.municipalities[0], "police": layout.orgs[0][1], "pool": layout.expert_pool,
              "chair": layout.user("bench-chair"), "melder": layout.user("bench-melder")}
    with psycopg.connect(dsn) as db:
        # Ordered by id: a spread over the records, since ids are random.
        return {key: [str(row[0]) for row in db.execute(f"SELECT * FROM ({sql}) AS ids ORDER BY 1 LIMIT "
                                                        f"{IDS_PER_READ}", params)]
                for key, sql in IDS.items()}


def reads(dsn: str, layout: Layout, only: list[str] | None = None) -> list[Read]:
    """The reads, with ids chosen now: chosen on the small registry, the same requests are measured on both."""
    ids, periods = _ids(dsn, layout), _periods()
    found = []
    for route, path, roles in READS:
        for role, key in roles.items():
            paths = tuple(path.format(i) for i in ids[key]) if key else (path.format(**periods),)
            read = Read(route, role, paths or (path.format("no-record-found"),))
            if not only or any(word in read.name for word in only):
                found.append(read)
    return found
