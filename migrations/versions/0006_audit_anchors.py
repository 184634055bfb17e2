"""Audit anchors: where verification starts after the audit log's own retention; append-only on PostgreSQL.

Revision ID: 0007
Revises: 0006 (file 0005_webhook_subscriptions_and_the_outbox.py)
Create Date: 2026-11-23 10:40:37.112707

File 0006 holds revision 0007: files are numbered by their place in the upgrade chain, revision
ids stay those the migrations were released with, which databases record (see
migrations/README.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_anchors',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('seal_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_event_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seal_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seals', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('anchor_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_anchors')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_anchors_prev_hash'))
    )
    if op.get_bind().dialect.name == "postgresql":
        # The same guard as the other audit tables (audit_append_only() from migration 0003).
        op.execute("CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors "
                   "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        op.execute("CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_anchors_append_only ON audit_anchors")
        op.execute("DROP TRIGGER audit_anchors_no_truncate ON audit_anchors")
    op.drop_table('audit_anchors')
