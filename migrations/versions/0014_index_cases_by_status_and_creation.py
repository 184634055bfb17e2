"""An index that pages cases with a status filter in their order, for the partner's member rule.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:20:03.000000

GET /cases?status=closed for a partner (the cases its organisation takes part in) read every case of
that status and sorted them: the member rule holds no column of the case to walk an index on, and
the index on (municipality, creation) is not the partner's. Walking the cases of the status newest
first, probing the organisation's membership per case, stops after a page (tests/test_query_plans.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_status_created', ['status', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_created')
