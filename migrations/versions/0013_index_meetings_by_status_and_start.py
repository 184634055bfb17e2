"""Indexes that page meetings by their start with a status filter, and the meetings a partner attends.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:20:00.000000

GET /meetings?status=planned read every meeting: the index on (municipality, start) gives the page's
order, but PostgreSQL, expecting few planned meetings among thousands, read and sorted them all
rather than walk it. A partner's meetings (those its organisation attends) were read the same way,
with or without the filter: nothing ordered meetings by start across municipalities, where the
attendee rule walks them probing the organisation's attendance (tests/test_query_plans.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    'ix_meetings_municipality_status_starts': ['municipality_id', 'status', 'starts_at', 'id'],
    'ix_meetings_status_starts': ['status', 'starts_at', 'id'],
    'ix_meetings_starts': ['starts_at', 'id'],
}


def upgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
