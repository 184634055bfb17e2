"""A large audit log, loaded in bulk in the shape the application writes, and its sealing and verification."""

import time
import uuid

import psycopg
from sqlalchemy import Engine

from app.audit import chain as audit_chain

# One statement, generated in the database: rows as Auditor writes them for partners reading cases of
# the municipality (organisations[0]): a list every tenth event, a denial every fiftieth, break-the-glass
# every 97th, over the last year; each under the register's current version of case-management, a span of its own.
EVENTS = """
WITH activity AS (SELECT version, legal_basis FROM processing_activities WHERE key = 'case-management'
                  ORDER BY version DESC LIMIT 1)
INSERT INTO audit_events (event_id, occurred_at, trace_id, actor_kind, actor_id, actor_name, organisation_id,
                          municipality_id, roles, operation, resource_type, resource_id, outcome, processing_activity,
                          processing_activity_version, span_id, legal_basis, client_address, detail)
SELECT gen_random_uuid(), now() - (%(n)s - g) * interval '30 seconds', replace(gen_random_uuid()::text, '-', ''), 'user',
       %(actor)s, 'bench-partner', (%(organisations)s::uuid[])[1 + g %% cardinality(%(organisations)s::uuid[])],
       (%(organisations)s::uuid[])[1], 'partner', CASE WHEN g %% 10 = 0 THEN 'list' ELSE 'read' END, 'case', gen_random_uuid()::text,
       CASE WHEN g %% 50 = 0 THEN 'denied' WHEN g %% 97 = 0 THEN 'emergency' ELSE 'allowed' END,
       'case-management', activity.version, left(md5(g::text), 16), activity.legal_basis, '10.0.0.' || (g %% 250),
       '{"view": "partner"}'
FROM generate_series(1, %(n)s) AS g, activity
"""
# One person per event: the report's person on every (n / its events)-th, 20,011 others on the rest.
PERSONS = """
INSERT INTO audit_event_persons (event_seq, pseudonym)
SELECT seq, CASE WHEN seq %% %(every)s = 0 THEN %(pseudonym)s ELSE 'P-BENCH' || lpad((seq %% 20011)::text, 6, '0') END
FROM audit_events WHERE seq > %(after)s
"""


def bulk_load(dsn: str, events: int, pseudonym: str, person_events: int, organisations: list[uuid.UUID]) -> float:
    """Adds `events` events, `person_events` of them about `pseudonym`; returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as db:
        db.execute("SET synchronous_commit = off")
        # Secondary indexes are dropped and built again afterwards (a sort instead of a million random
        # index insertions); the same definitions, read from the catalogue. The bench's database only.
        indexes = db.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                             "('audit_events', 'audit_event_persons') AND indexname LIKE 'ix\\_%%'").fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        after = db.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0]
        db.execute(EVENTS, {"n": events, "actor": str(uuid.uuid4()), "organisations": organisations})
        db.execute(PERSONS, {"every": events // person_events, "pseudonym": pseudonym, "after": after})
        for _, definition in indexes:
            db.execute(definition)
        db.commit()
        db.execute("ANALYZE audit_events")
        db.execute("ANALYZE audit_event_persons")
    return time.perf_counter() - started


def seal(engine: Engine, batch_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    with engine.begin() as connection:
        seals = audit_chain.seal(connection, 0, batch_size)
    return seals, time.perf_counter() - started


def verify(engine: Engine) -> tuple[audit_chain.Verification, float]:
    started = time.perf_counter()
    with engine.connect() as connection:
        result = audit_chain.verify(connection)
    return result, time.perf_counter() - started
