"""An index that pages all cases newest first, for the partner's member rule without a status filter.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:20:00.000000

GET /cases for a partner (the cases its organisation takes part in) had no index to walk in the page's
order: the member rule holds no column of the case, the index on (municipality, creation) is not the
partner's and the one on (status, creation) needs a status. PostgreSQL then joined every membership of
the organisation to every case and sorted them: 778 ms at the scale bench's full size (24,160 of
100,000 cases), 2.1 s per request under load. Walking the cases newest first and probing the
membership by key stops after a page: 3 ms. An organisation that takes part in few cases still gets the
join from its memberships, which is then small.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_created')
