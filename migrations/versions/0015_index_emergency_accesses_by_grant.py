"""Indexes that page emergency accesses in the order they were granted, with or without a review status.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:20:03.000000

The privacy officer's list (GET /emergency-accesses) is paged newest grant first: with no index on
granted_at, PostgreSQL read every emergency access of the registry and sorted them. The one on the
review status alone becomes the first columns of one in the list's order (tests/test_query_plans.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_accesses_granted', ['granted_at', 'id'], unique=False)
        batch_op.create_index('ix_emergency_accesses_review_status_granted', ['review_status', 'granted_at', 'id'],
                              unique=False)
        batch_op.drop_index('ix_emergency_accesses_review_status')


def downgrade() -> None:
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_accesses_review_status', ['review_status'], unique=False)
        batch_op.drop_index('ix_emergency_accesses_review_status_granted')
        batch_op.drop_index('ix_emergency_accesses_granted')
