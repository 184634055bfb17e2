"""Cases, members, history, information items, emergency access; signals link to their case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:28:02.837345
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_number_sequences',
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_case_number_sequences_municipality_id_organisations')),
    sa.PrimaryKeyConstraint('municipality_id', 'year', name=op.f('pk_case_number_sequences'))
    )
    op.create_table('item_shares',
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_item_shares_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('item_id', 'organisation_id', name=op.f('pk_item_shares'))
    )
    with op.batch_alter_table('item_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_shares_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('risk_level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('risk_summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('risk_assessed_by', sa.Uuid(), nullable=True),
    sa.Column('risk_assessed_on', sa.Date(), nullable=True),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('closure_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_cases_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_cases_owner_user_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_cases_person_id_persons')),
    sa.ForeignKeyConstraint(['risk_assessed_by'], ['users.id'], name=op.f('fk_cases_risk_assessed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_municipality_created', ['municipality_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_person_id'), ['person_id'], unique=False)

    op.create_table('case_history',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('change', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_history_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_history'))
    )
    with op.batch_alter_table('case_history', schema=None) as batch_op:
        batch_op.create_index('ix_case_history_case_at', ['case_id', 'at'], unique=False)

    op.create_table('case_members',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('added_by', sa.Uuid(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_members_case_id_cases')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_case_members_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('case_id', 'organisation_id', name=op.f('pk_case_members'))
    )
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_members_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('emergency_accesses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('review_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_emergency_accesses_case_id_cases')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_emergency_accesses_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_accesses'))
    )
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_accesses_actor_case', ['actor_id', 'case_id', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_accesses_review_status'), ['review_status'], unique=False)

    op.create_table('information_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('contributor_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('contributor_id', sa.Uuid(), nullable=False),
    sa.Column('contributor_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('correction_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_information_items_case_id_cases')),
    sa.ForeignKeyConstraint(['contributor_organisation_id'], ['organisations.id'], name=op.f('fk_information_items_contributor_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_information_items')),
    sa.UniqueConstraint('item_id', 'version', name=op.f('uq_information_items_item_id_version'))
    )
    with op.batch_alter_table('information_items', schema=None) as batch_op:
        batch_op.create_index('ix_information_items_case', ['case_id', 'item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_information_items_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('triage_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column('triaged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('triaged_by', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signals_case_id_cases'), 'cases', ['case_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signals_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signals_case_id'))
        batch_op.drop_column('triaged_by')
        batch_op.drop_column('triaged_at')
        batch_op.drop_column('triage_reason')
        batch_op.drop_column('case_id')

    with op.batch_alter_table('information_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_information_items_item_id'))
        batch_op.drop_index('ix_information_items_case')

    op.drop_table('information_items')
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_accesses_review_status'))
        batch_op.drop_index('ix_emergency_accesses_actor_case')

    op.drop_table('emergency_accesses')
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_members_organisation_id'))

    op.drop_table('case_members')
    with op.batch_alter_table('case_history', schema=None) as batch_op:
        batch_op.drop_index('ix_case_history_case_at')

    op.drop_table('case_history')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_person_id'))
        batch_op.drop_index('ix_cases_municipality_created')

    op.drop_table('cases')
    with op.batch_alter_table('item_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_shares_organisation_id'))

    op.drop_table('item_shares')
    op.drop_table('case_number_sequences')
