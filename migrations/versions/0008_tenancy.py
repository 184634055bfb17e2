"""Tenancy: organisations serving several municipalities, the municipality of each audit event and
idempotency record, a version (ETag) on actions; person searches no longer in the audit log.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000

Audit events get a `municipality_id`. Events already sealed keep none: changing them would break
their batch's Merkle root, and the seal hashes the SIEM holds. Their leaf stays the same because a
column added after events were sealed is part of a leaf's document only when it is set
(`app/audit/leaves.py`). Unsealed events (a seal runs every minute, so in production a handful; in a
demo that never sealed, all) are completed: their municipality from the acting organisation's, and a
person search's criteria values replaced by the kind of criteria. Sealed person searches keep the
criteria they recorded until the audit log's own retention removes them.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSEALED = "seq > coalesce((SELECT max(last_event_seq) FROM audit_seals), 0)"


def upgrade() -> None:
    op.create_table('organisation_networks',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'],
                            name=op.f('fk_organisation_networks_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_organisation_networks_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('organisation_id', 'municipality_id', name=op.f('pk_organisation_networks'))
    )
    op.add_column('audit_events', sa.Column('municipality_id', sa.Uuid(), nullable=True))
    op.create_index('ix_audit_events_municipality_occurred', 'audit_events',
                    ['municipality_id', 'occurred_at', 'event_id'], unique=False)
    op.add_column('idempotency_records', sa.Column('municipality_id', sa.Uuid(), nullable=True))
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    _complete_unsealed_events()


def _criteria(detail: dict) -> dict:
    query = detail.pop("query", {})
    kinds = (["bsn"] if "bsn" in query else []) + (["name_and_date_of_birth"] if "name" in query else [])
    return detail | {"criteria": kinds}


def _complete_unsealed_events() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:  # the append-only trigger refuses every UPDATE; the owner lifts it for this step only
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    op.execute(f"UPDATE audit_events SET municipality_id = (SELECT o.municipality_id FROM organisations o "
               f"WHERE o.id = audit_events.organisation_id) WHERE {UNSEALED} AND organisation_id IS NOT NULL")
    searches = bind.execute(sa.text(f"SELECT seq, detail FROM audit_events WHERE {UNSEALED} "
                                    "AND resource_type = 'person' AND operation = 'search'")).all()
    for seq, detail in searches:
        detail = json.loads(detail) if isinstance(detail, str) else detail
        bind.execute(sa.text("UPDATE audit_events SET detail = :detail WHERE seq = :seq"),
                     {"detail": json.dumps(_criteria(detail)), "seq": seq})
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('version')
    op.drop_column('idempotency_records', 'municipality_id')
    op.drop_index('ix_audit_events_municipality_occurred', table_name='audit_events')
    op.drop_column('audit_events', 'municipality_id')
    op.drop_table('organisation_networks')
