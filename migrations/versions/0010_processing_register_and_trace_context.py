"""The register of processing activities, and trace context on audit events and outgoing messages.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000

The default register (app/privacy/processing_activities.json) is loaded by `casusregister migrate`
after the migrations (app/migrate.py), not here: a migration must not depend on today's code. Events
already written keep no activity version, span or parent span: they were written before the register
and the trace context existed, and the sealed ones must keep their leaves (a column added later is in
a leaf only when set, app/audit/leaves.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processing_activities',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=1000), nullable=False),
    sa.Column('legal_basis', sa.String(length=500), nullable=False),
    sa.Column('legal_basis_articles', sa.JSON(), nullable=False),
    sa.Column('data_subject_categories', sa.JSON(), nullable=False),
    sa.Column('personal_data_categories', sa.JSON(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('retention', sa.String(length=500), nullable=False),
    sa.Column('log_confidentiality', sa.String(length=20), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', 'version', name=op.f('pk_processing_activities'))
    )
    op.add_column('audit_events', sa.Column('processing_activity_version', sa.Integer(), nullable=True))
    op.add_column('audit_events', sa.Column('span_id', sa.String(length=16), nullable=True))
    op.add_column('audit_events', sa.Column('parent_span_id', sa.String(length=16), nullable=True))
    op.add_column('audit_events', sa.Column('foreign_processor', sa.String(length=500), nullable=True))
    op.add_column('outbox_messages', sa.Column('traceparent', sa.String(length=55), nullable=True))


def downgrade() -> None:
    op.drop_column('outbox_messages', 'traceparent')
    op.drop_column('audit_events', 'foreign_processor')
    op.drop_column('audit_events', 'parent_span_id')
    op.drop_column('audit_events', 'span_id')
    op.drop_column('audit_events', 'processing_activity_version')
    op.drop_table('processing_activities')
