"""An index on the agenda item an action was agreed at.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:58:20.000000

The agenda (app/auth/policies/agendas.py) shows per item the actions agreed at it: without the index,
reading the agenda of one meeting read every action of the registry (tests/test_query_plans.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_agenda_item_id', ['agenda_item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_agenda_item_id')
