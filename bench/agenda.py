"""A municipality with many open cases, generated in the database, for the agenda-build row."""

import uuid
from datetime import date

import psycopg

PERSONS = """
INSERT INTO persons (id, municipality_id, pseudonym, name, date_of_birth, name_dob_key, created_at)
SELECT gen_random_uuid(), %(municipality)s, 'P-AGENDA' || lpad(g::text, 6, '0'), 'Agenda Persoon ' || g,
       date '1990-01-01' + g %% 3000, md5('agenda' || g) || md5(g::text), now()
FROM generate_series(1, %(n)s) AS g
"""
# Open cases in every open status; review dates spread over the next 1,400 days, so that some tens
# fall due before a meeting a week from now and the build still has to consider all of them.
CASES = """
INSERT INTO cases (id, number, municipality_id, person_id, status, next_review_date, version, created_at, updated_at)
SELECT gen_random_uuid(), 'BEN-2025-' || lpad(g::text, 5, '0'), %(municipality)s, id,
       (ARRAY['intake', 'investigation', 'approach', 'monitoring'])[1 + g %% 4], current_date + (g %% 1400)::int,
       1, now() - interval '30 days', now()
FROM (SELECT id, row_number() OVER (ORDER BY pseudonym) AS g FROM persons WHERE pseudonym LIKE 'P-AGENDA%%') AS p
"""


def seed_open_cases(dsn: str, municipality: uuid.UUID, n: int, meeting_day: date) -> int:
    """Adds `n` open cases with their persons; returns how many are due for review by `meeting_day`."""
    with psycopg.connect(dsn) as db:
        db.execute(PERSONS, {"municipality": municipality, "n": n})
        db.execute(CASES, {"municipality": municipality})
        db.execute("ANALYZE persons")
        db.execute("ANALYZE cases")
        return db.execute("SELECT count(*) FROM cases WHERE number LIKE 'BEN-2025-%%' AND next_review_date <= %s",
                          (meeting_day,)).fetchone()[0]
