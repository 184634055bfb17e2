"""Loading the scale bench's registry: the statements of bench/scale_data*.py in order, timed, then VACUUM ANALYZE."""

import time

import psycopg

from bench import scale_data as d
from bench import scale_data_cases as k
from bench import scale_data_events as e
from bench.deployment import Deployment
from bench.scale_callers import Layout
from bench.scale_data import Sizes

# In the order foreign keys need; the audit log last, on its own (its indexes are rebuilt around it).
STEPS = [("persons", d.PERSONS), ("cases", d.CASES), ("signals", d.SIGNALS), ("case members", k.MEMBERS),
         ("information items", k.ITEMS), ("actions", k.ACTIONS), ("referrals", k.REFERRALS),
         ("emergency accesses", k.EMERGENCIES), ("meetings", k.MEETINGS), ("attendees", k.ATTENDEES),
         ("agenda items", k.AGENDA)]
TABLES = ["persons", "cases", "case_history", "signals", "case_members", "information_items", "item_shares",
          "actions", "referrals", "referral_items", "emergency_accesses", "meetings", "meeting_attendees",
          "agenda_items", "audit_events", "audit_event_persons"]


def _parameters(deployment: Deployment, layout: Layout, lo: Sizes, hi: Sizes) -> dict:
    return {"slots": d.SLOTS, "mun": layout.municipalities, "orgs": layout.orgs, "codes": layout.codes,
            "chairs": layout.chairs, "coordinators": layout.coordinators, "pool": layout.expert_pool,
            "melder": layout.user("bench-melder"), "partner": layout.user("scale-partner"),
            "privacy": layout.user("bench-privacy"), "secret": deployment.settings.person_match_key,
            "shares": d.MEMBER_SHARE, "per": d.AGENDA_ITEMS,
            "p_lo": lo.persons, "p_hi": hi.persons, "s_lo": lo.signals, "s_hi": hi.signals,
            "c_lo": lo.cases, "c_hi": hi.cases, "m_lo": lo.meetings, "m_hi": hi.meetings,
            "e_lo": lo.events, "e_hi": hi.events}


def _timed(timings: list[tuple[str, float]], name: str, db: psycopg.Connection, sql: str, params=None) -> None:
    started = time.perf_counter()
    db.execute(sql, params)
    timings.append((name, time.perf_counter() - started))


def _case_data(db: psycopg.Connection, params: dict, timings: list) -> None:
    # pgcrypto for the persons' HMAC matching keys, only while loading: the application does not use it.
    db.execute("CREATE EXTENSION pgcrypto")
    for name, sql in STEPS:
        _timed(timings, name, db, sql, params)
    db.execute("DROP EXTENSION pgcrypto")


def _audit_log(db: psycopg.Connection, params: dict, timings: list) -> None:
    """As bench/auditlog.py: secondary indexes dropped and built again afterwards (a sort instead of
    millions of random index insertions), from the catalogue's own definitions; the persons' foreign key
    likewise (one validating join instead of a look-up per row)."""
    indexes = db.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                         "('audit_events', 'audit_event_persons') AND indexname LIKE 'ix\\_%%'").fetchall()
    keys = db.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = 'audit_event_persons'::regclass AND contype = 'f'").fetchall()
    for name, _ in keys:
        db.execute(f'ALTER TABLE audit_event_persons DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    after = db.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0]
    _timed(timings, "audit events", db, e.EVENTS, params)
    _timed(timings, "audit event persons", db, e.EVENT_PERSONS, {"after": after})
    started = time.perf_counter()
    for _, definition in indexes:
        db.execute(definition)
    for name, definition in keys:
        db.execute(f'ALTER TABLE audit_event_persons ADD CONSTRAINT "{name}" {definition}')
    timings.append(("audit indexes and key", time.perf_counter() - started))


def load(deployment: Deployment, layout: Layout, lo: Sizes, hi: Sizes) -> list[tuple[str, float]]:
    """Adds what a registry of size `hi` has beyond one of size `lo`; returns the seconds per step."""
    params, timings = _parameters(deployment, layout, lo, hi), []
    with psycopg.connect(deployment.dsn) as db:
        db.execute("SET synchronous_commit = off")
        db.execute("SET maintenance_work_mem = '256MB'")
        _case_data(db, params, timings)
        db.commit()
        _audit_log(db, params, timings)
    with psycopg.connect(deployment.dsn, autocommit=True) as db:
        # Vacuumed as well as analysed: autovacuum would otherwise start on these tables during the measuring.
        _timed(timings, "VACUUM ANALYZE", db, f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    return timings
