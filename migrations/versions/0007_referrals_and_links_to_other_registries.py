"""Referrals, the items they share, and links to other municipalities' registries

Revision ID: 0005
Revises: 0007 (file 0006_audit_anchors.py)
Create Date: 2026-11-23 10:43:08.689148

File 0007 holds revision 0005: files are numbered by their place in the upgrade chain, revision
ids stay those the migrations were released with, which databases record (see
migrations/README.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('external_endpoints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('token_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('client_secret_encrypted', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_external_endpoints_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_external_endpoints_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_endpoints')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_external_endpoints_organisation_id'))
    )
    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=True),
    sa.Column('sender_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('recipient_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('sender_reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('external_reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('legal_basis_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('shared_fields', sa.JSON(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('assessment_item_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_referrals_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons')),
    sa.ForeignKeyConstraint(['recipient_organisation_id'], ['organisations.id'], name=op.f('fk_referrals_recipient_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['sender_organisation_id'], ['organisations.id'], name=op.f('fk_referrals_sender_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_referrals_signal_id_signals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('sender_organisation_id', 'sender_reference', name=op.f('uq_referrals_sender_organisation_id_sender_reference'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_referrals_municipality_created', ['municipality_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_referrals_recipient_created', ['recipient_organisation_id', 'created_at', 'id'], unique=False)

    op.create_table('referral_items',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_items_referral_id_referrals')),
    sa.PrimaryKeyConstraint('referral_id', 'item_id', name=op.f('pk_referral_items'))
    )


def downgrade() -> None:
    op.drop_table('referral_items')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_recipient_created')
        batch_op.drop_index(batch_op.f('ix_referrals_person_id'))
        batch_op.drop_index('ix_referrals_municipality_created')
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
    op.drop_table('external_endpoints')
