"""The big registry of tests/test_query_plans.py, bulk-loaded in SQL, and the records each caller reads.

Utrecht gets a few years of work: persons and their signals, a case for every second person with its
members, history, information items, actions, referrals and emergency accesses, thousands of meetings
with their attendees and agendas, and an audit log. Arnhem (the other tenant) gets persons, signals
and cases, so that every scope has rows of another municipality to pass over. The spread follows the
real registry where it matters to the planner: many chairs, each chairing a meeting now and then;
partners taking part in some of the cases; most referrals and emergency accesses long finished.
"""

from sqlalchemy import Connection, text

PERSONS, CHAIRS, MEETINGS, AGENDA_ITEMS = 12000, 60, 6000, 5
PARTNERS = ("POL", "GGZ", "JOU", "BTU", "OM")
RECIPIENTS = ("GGZ", "DPO", "ARN", "POL", "JOU")
REPORTERS = ("teacher", "police", "youthworker")
BULK_CHAIR = "bulk-chair-"

# Each statement runs once per municipality; Arnhem gets only persons, cases and signals.
PERSONS_SQL = """
INSERT INTO persons (id, municipality_id, pseudonym, name, date_of_birth, name_dob_key, created_at)
SELECT gen_random_uuid(), :mun, :prefix || g, 'Bulk ' || g, DATE '2000-01-01', md5(:prefix || g),
       now() - g * interval '1 minute' FROM generate_series(1, :n) g"""
CASES_SQL = """
INSERT INTO cases (id, number, municipality_id, person_id, status, version, created_at, updated_at)
SELECT gen_random_uuid(), :prefix || '-' || g, :mun, p.id,
       (ARRAY['intake', 'investigation', 'approach', 'monitoring', 'closed'])[1 + g % 5], 1,
       p.created_at + interval '1 minute', p.created_at + interval '1 minute'
FROM persons p, LATERAL (SELECT substr(p.pseudonym, length(:prefix) + 1)::int AS g) n
WHERE p.municipality_id = :mun AND g % 2 = 0"""
# Three signals a person; those of a person with a case are linked to it.
SIGNALS_SQL = """
INSERT INTO signals (id, municipality_id, person_id, subject_name, subject_date_of_birth, reporter_kind, reporter_id,
    reporter_organisation_id, categories, description, observed_at, urgency, channel, status, case_id, triaged_at,
    created_at, updated_at)
SELECT gen_random_uuid(), p.municipality_id, p.id, p.name, p.date_of_birth, :reporter_kind,
       (:reporters)[1 + (s + length(p.pseudonym)) % cardinality(:reporters)],
       (:reporter_orgs)[1 + (s + length(p.pseudonym)) % cardinality(:reporters)], '["other"]', 'Bulk.',
       p.created_at, 'normal', 'in_person', CASE WHEN c.id IS NULL THEN 'received' ELSE 'linked_to_case' END,
       c.id, CASE WHEN c.id IS NOT NULL THEN p.created_at + interval '1 hour' END,
       p.created_at - s * interval '1 second', p.created_at
FROM persons p CROSS JOIN generate_series(1, 3) s LEFT JOIN cases c ON c.person_id = p.id
WHERE p.municipality_id = :mun"""
# The cases of the municipality numbered 1.., for the tables that hang on them.
NUMBERED_SQL = """
CREATE TEMP TABLE bulk_cases ON COMMIT DROP AS
SELECT id, person_id, created_at, row_number() OVER (ORDER BY created_at) AS n,
       (:partners)[1 + (row_number() OVER (ORDER BY created_at)) % cardinality(:partners)] AS partner
FROM cases WHERE municipality_id = :mun"""
FULL_SQL = [
    """INSERT INTO case_members (case_id, organisation_id, added_by, added_at)
       SELECT id, :mun, :coordinator, created_at FROM bulk_cases
       UNION ALL SELECT id, partner, :coordinator, created_at FROM bulk_cases""",
    """INSERT INTO case_history (id, case_id, at, actor_kind, actor_id, actor_name, organisation_id, change, details)
       SELECT gen_random_uuid(), id, created_at, 'user', :coordinator, 'Bulk', :mun, 'opened', '{}' FROM bulk_cases""",
    """INSERT INTO information_items (id, item_id, version, case_id, kind, text, source, date,
           contributor_organisation_id, contributor_id, contributor_name, created_at)
       SELECT gen_random_uuid(), gen_random_uuid(), 1, id, 'other', 'Bulk.', 'Bulk', DATE '2025-01-01',
              CASE WHEN n % 2 = 0 THEN :mun ELSE partner END, :coordinator, 'Bulk', created_at FROM bulk_cases""",
    """INSERT INTO item_shares (item_id, organisation_id)
       SELECT item_id, :mun FROM information_items i JOIN bulk_cases c ON c.id = i.case_id
       UNION SELECT item_id, contributor_organisation_id FROM information_items i JOIN bulk_cases c ON c.id = i.case_id""",
    """INSERT INTO actions (id, case_id, description, owner_organisation_id, due_date, status, created_by, created_at,
           version)
       SELECT gen_random_uuid(), id, 'Bulk.', CASE WHEN n % 3 = 0 THEN :mun ELSE partner END,
              (created_at + interval '30 days')::date, CASE WHEN n % 4 = 0 THEN 'done' ELSE 'open' END,
              :coordinator, created_at + interval '1 day', 1 FROM bulk_cases""",
    """INSERT INTO referrals (id, kind, direction, municipality_id, case_id, person_id, sender_organisation_id,
           recipient_organisation_id, purpose, legal_basis, shared_fields, status, created_by, created_at, updated_at)
       SELECT gen_random_uuid(), CASE WHEN r = :expert_pool THEN 'assessment_request' ELSE 'referral' END,
              'outgoing', :mun, id, person_id, :mun, r, 'Bulk.', 'consent', '["name"]',
              (ARRAY['completed', 'declined', 'withdrawn', 'completed', 'sent', 'accepted'])[1 + (n / 5) % 6],
              'coordinator', created_at + interval '2 days', created_at + interval '2 days'
       FROM bulk_cases, LATERAL (SELECT (:recipients)[1 + n % cardinality(:recipients)] AS r) x""",
    """INSERT INTO referral_items (referral_id, item_id)
       SELECT r.id, i.item_id FROM referrals r JOIN information_items i ON i.case_id = r.case_id
       WHERE r.municipality_id = :mun""",
    # A few of them by the demo's partners, the rest by partners' colleagues; most expired and reviewed.
    """INSERT INTO emergency_accesses (id, case_id, actor_id, actor_name, organisation_id, reason, granted_at,
           expires_at, review_status)
       SELECT gen_random_uuid(), id, CASE n % 100 WHEN 0 THEN :care WHEN 1 THEN :police ELSE gen_random_uuid() END,
              'Bulk', partner, 'Bulk.', created_at + interval '3 days', created_at + interval '3 days 8 hours',
              CASE WHEN n % 10 = 0 THEN 'pending' ELSE 'approved' END FROM bulk_cases""",
]
# Meetings every six hours, back from the day after tomorrow; the chairs take turns (the demo chair
# chairs the first, the coordinator-chair the second), so each chairs one now and then.
MEETINGS_SQL = [
    """CREATE TEMP TABLE bulk_meetings ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, g AS n, (:chairs)[1 + (g - 1) % cardinality(:chairs)] AS chair,
              now() + interval '2 days' - g * interval '6 hours' AS starts_at FROM generate_series(1, :meetings) g""",
    """INSERT INTO meetings (id, municipality_id, starts_at, chair_id, status, closed_at, created_by, created_at,
           version)
       SELECT id, :mun, starts_at, chair, CASE WHEN starts_at < now() THEN 'closed' ELSE 'planned' END,
              CASE WHEN starts_at < now() THEN starts_at + interval '3 hours' END, :coordinator,
              starts_at - interval '7 days', 1 FROM bulk_meetings""",
    """INSERT INTO meeting_attendees (meeting_id, organisation_id)
       SELECT id, :police_org FROM bulk_meetings
       UNION SELECT id, (:partners)[1 + n % cardinality(:partners)] FROM bulk_meetings""",
    """INSERT INTO agenda_items (id, meeting_id, case_id, position, kind, reason, urgent, added_by, added_at,
           decision)
       SELECT gen_random_uuid(), m.id, c.id, j, 'case_discussion', 'Bulk.', false, :coordinator,
              m.starts_at - interval '2 days', CASE WHEN m.starts_at < now() THEN 'continue_approach' END
       FROM bulk_meetings m CROSS JOIN generate_series(1, :agenda) j
       JOIN bulk_cases c ON c.n = 1 + (m.n * :agenda + j) % :cases""",
]
AUDIT_SQL = [
    """CREATE TEMP TABLE bulk_events ON COMMIT DROP AS
       SELECT gen_random_uuid() AS event_id, p.pseudonym, p.created_at + s * interval '1 second' AS occurred_at, s
       FROM persons p, generate_series(1, 3) s WHERE p.municipality_id = :mun""",
    """INSERT INTO audit_events (event_id, occurred_at, trace_id, actor_kind, actor_id, organisation_id,
           municipality_id, operation, resource_type, outcome, processing_activity, detail)
       SELECT event_id, occurred_at, md5(event_id::text), 'user', :coordinator, :mun, :mun, 'read', 'case',
              'allowed', (ARRAY['case-management', 'signal-triage', 'casusoverleg'])[s], '{}' FROM bulk_events""",
    """INSERT INTO audit_event_persons (event_seq, pseudonym)
       SELECT e.seq, b.pseudonym FROM bulk_events b JOIN audit_events e ON e.event_id = b.event_id""",
]
ANALYZED = ("persons", "signals", "cases", "case_members", "case_history", "information_items", "item_shares",
            "meetings", "meeting_attendees", "agenda_items", "actions", "referrals", "referral_items",
            "emergency_accesses", "audit_events", "audit_event_persons")


def _ids(connection: Connection, sql: str) -> dict[str, object]:
    return dict(connection.execute(text(sql)).all())


def add_chairs(connection: Connection, municipality) -> None:
    """The municipality's other chairs, who chair the bulk meetings with the demo's."""
    connection.execute(text(
        "INSERT INTO users (id, username, display_name, organisation_id, roles, password_hash, is_active, created_at) "
        "SELECT gen_random_uuid(), :prefix || g, 'Voorzitter ' || g, :mun, '[\"chair\"]', 'x', true, now() "
        "FROM generate_series(1, :n) g"), {"prefix": BULK_CHAIR, "mun": municipality, "n": CHAIRS - 2})


def remove_chairs(connection: Connection) -> None:
    connection.execute(text("DELETE FROM users WHERE username LIKE :prefix || '%'"), {"prefix": BULK_CHAIR})


def empty(connection: Connection, tables: list[str]) -> None:
    """TRUNCATE, not the suite's DELETE: row by row, the bulk would take longer than the test (the audit
    tables allow it inside the retention operation, as the suite's emptying does)."""
    connection.execute(text("SET LOCAL casusregister.audit_retention = 'on'"))
    connection.execute(text(f"TRUNCATE {', '.join(tables)}"))


def load(connection: Connection) -> None:
    """The whole registry (run as the tables' owner, in one transaction)."""
    orgs = _ids(connection, "SELECT code, id FROM organisations")
    users = _ids(connection, "SELECT username, id FROM users")
    client = connection.execute(text("SELECT id FROM api_clients WHERE client_id = 'arnhem-system'")).scalar_one()
    add_chairs(connection, orgs["UTR"])
    chairs = [users["chair"], users["coordinator-chair"]] + list(connection.execute(text(
        "SELECT id FROM users WHERE username LIKE :p || '%' ORDER BY username"), {"p": BULK_CHAIR}).scalars())
    utrecht = {"mun": orgs["UTR"], "prefix": "bUTR", "reporter_kind": "user",
               "reporters": [users[u] for u in REPORTERS],
               "reporter_orgs": [orgs[c] for c in ("SOU", "POL", "JOU")], "partners": [orgs[c] for c in PARTNERS]}
    arnhem = {"mun": orgs["ARN"], "prefix": "bARN", "reporter_kind": "client", "reporters": [client],
              "reporter_orgs": [orgs["ARN"]], "partners": [orgs["ARN"]]}
    common = {"n": PERSONS, "coordinator": users["coordinator"], "care": users["care"], "police": users["police"],
              "police_org": orgs["POL"], "expert_pool": orgs["DPO"], "recipients": [orgs[c] for c in RECIPIENTS],
              "chairs": chairs, "meetings": MEETINGS, "agenda": AGENDA_ITEMS, "cases": PERSONS // 2}
    _municipality(connection, common | arnhem, full=False)
    _municipality(connection, common | utrecht, full=True)
    connection.execute(text("; ".join(f"ANALYZE {table}" for table in ANALYZED)))


def _municipality(connection: Connection, values: dict, full: bool) -> None:
    for sql in (PERSONS_SQL, CASES_SQL, SIGNALS_SQL, NUMBERED_SQL):
        connection.execute(text(sql), values)
    for sql in (FULL_SQL + MEETINGS_SQL + AUDIT_SQL) if full else ():
        connection.execute(text(sql), values)
    connection.execute(text("DROP TABLE IF EXISTS bulk_cases, bulk_meetings, bulk_events"))


# A record of each kind a caller reads through one relationship: `municipality` (one of the caller's
# municipality where it has one: the coordinator's, and what others are refused), `chair` (of the open meeting the caller
# chairs), or the partner's own (its organisation takes part, attends, owns, receives or reported it).
CHAIRED = ("SELECT a.case_id FROM agenda_items a JOIN meetings m ON m.id = a.meeting_id "
           "WHERE m.chair_id = :user AND m.status <> 'closed'")
RECORD_SQL = {
    "signal": {"municipality": "SELECT id FROM signals WHERE case_id IS NOT NULL ORDER BY municipality_id = :mun DESC",
               "chair": f"SELECT id FROM signals WHERE case_id IN ({CHAIRED})",
               "own": "SELECT id FROM signals WHERE reporter_id = :user"},
    "case": {"municipality": "SELECT id FROM cases ORDER BY municipality_id = :mun DESC",
             "chair": CHAIRED,
             "own": "SELECT case_id FROM case_members WHERE organisation_id = :org"},
    "meeting": {"municipality": "SELECT id FROM meetings ORDER BY municipality_id = :mun DESC",
                "chair": "SELECT id FROM meetings WHERE chair_id = :user AND status <> 'closed'",
                "own": "SELECT meeting_id FROM meeting_attendees WHERE organisation_id = :org"},
    "action": {"municipality": "SELECT a.id FROM actions a JOIN cases c ON c.id = a.case_id "
                                   "ORDER BY c.municipality_id = :mun DESC",
               "chair": f"SELECT id FROM actions WHERE case_id IN ({CHAIRED})",
               "own": "SELECT id FROM actions WHERE owner_organisation_id = :org"},
    "referral": {"municipality": "SELECT id FROM referrals ORDER BY municipality_id = :mun DESC",
                 "chair": f"SELECT id FROM referrals WHERE case_id IN ({CHAIRED})",
                 "own": "SELECT id FROM referrals WHERE recipient_organisation_id = :org "
                        "AND status IN ('sent', 'accepted')"},
    "person": {"municipality": "SELECT id FROM persons ORDER BY municipality_id = :mun DESC"},
}


def account(connection: Connection, name: str) -> dict:
    """The caller's id, organisation and that organisation's municipality (itself, for a municipality)."""
    row = connection.execute(text(
        "SELECT a.id, a.organisation_id AS org, coalesce(o.municipality_id, o.id) AS mun FROM "
        "(SELECT id, organisation_id, username AS name FROM users UNION ALL "
        " SELECT id, organisation_id, client_id FROM api_clients) a "
        "JOIN organisations o ON o.id = a.organisation_id WHERE a.name = :name"), {"name": name}).one()
    return {"user": row.id, "org": row.org, "mun": row.mun}


def records(connection: Connection, caller: dict, relations: dict[str, str]) -> dict[str, str]:
    """One record of each kind, through the caller's relationship with it (`relations`; else the municipality's),
    and the pseudonym of the person record."""
    found = {}
    for kind, sql in RECORD_SQL.items():
        relation = relations.get(kind, "municipality")
        found[kind] = str(connection.execute(text(sql[relation] + " LIMIT 1"), caller).scalar_one())
    found["pseudonym"] = connection.execute(text("SELECT pseudonym FROM persons WHERE id = :id"),
                                            {"id": found["person"]}).scalar_one()
    return found
