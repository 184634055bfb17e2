"""Statistics read the signals and cases of a period from the indexes, not from the tables.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 19:00:00.000000

GET /statistics counts a municipality's signals of a period by category, district, urgency and outcome,
takes the median time to triage, and counts its cases by status. The indexes on (municipality,
creation) found the rows, then every row was fetched from the table: 170,749 signals spread over 430 MB
at the scale bench's full size. The same indexes now carry the columns the statistics read (PostgreSQL's
INCLUDE), so an index-only scan serves them where the visibility map is current (autovacuum): counts
446 -> 118 ms, median 410 -> 100 ms, cases by status 70 -> 5 ms. Paging by the index is unchanged; the
signals index grows from 73 to 134 MB at that size. Triage changes a signal's status, and a case's
status changes, but both are in other indexes already, so no update that was HOT stops being so.
SQLite has no INCLUDE: there the indexes stay as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ['municipality_id', 'created_at', 'id']
# table: (index, the columns statistics read besides the key)
INDEXES = {'signals': ('ix_signals_municipality_created', ['status', 'urgency', 'district', 'triaged_at', 'categories']),
           'cases': ('ix_cases_municipality_created', ['status'])}


def _replace(include: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, (name, columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, KEY, postgresql_include=columns if include else [])


def upgrade() -> None:
    _replace(include=True)


def downgrade() -> None:
    _replace(include=False)
