"""Meetings (casusoverleg): attendees, agenda items with minutes and decisions, addenda, closure proposals, actions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:41:31.155185
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('meetings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('series_id', sa.Uuid(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chair_id', sa.Uuid(), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['chair_id'], ['users.id'], name=op.f('fk_meetings_chair_id_users')),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_meetings_municipality_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_chair_id'), ['chair_id'], unique=False)
        batch_op.create_index('ix_meetings_municipality_starts', ['municipality_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_series_id'), ['series_id'], unique=False)

    op.create_table('agenda_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('added_by', sa.Uuid(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('closure_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agenda_items_case_id_cases')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_items_meeting_id_meetings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('meeting_id', 'case_id', name=op.f('uq_agenda_items_meeting_id_case_id'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_case_id'), ['case_id'], unique=False)

    op.create_table('closure_proposals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_meeting_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_closure_proposals_case_id_cases')),
    sa.ForeignKeyConstraint(['resolved_meeting_id'], ['meetings.id'], name=op.f('fk_closure_proposals_resolved_meeting_id_meetings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_proposals'))
    )
    with op.batch_alter_table('closure_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closure_proposals_case_id'), ['case_id'], unique=False)

    op.create_table('meeting_attendees',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_attendees_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_meeting_attendees_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('meeting_id', 'organisation_id', name=op.f('pk_meeting_attendees'))
    )
    with op.batch_alter_table('meeting_attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_attendees_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('agenda_item_id', sa.Uuid(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('owner_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('owner_user_id', sa.Uuid(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('result_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.Uuid(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_actions_agenda_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_actions_case_id_cases')),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_actions_owner_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_actions_owner_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_case_status', ['case_id', 'status'], unique=False)
        batch_op.create_index('ix_actions_owner_created', ['owner_organisation_id', 'created_at', 'id'], unique=False)

    op.create_table('agenda_addenda',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agenda_item_id', sa.Uuid(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_agenda_addenda_agenda_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_agenda_addenda_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_addenda'))
    )
    with op.batch_alter_table('agenda_addenda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_addenda_agenda_item_id'), ['agenda_item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('agenda_addenda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_addenda_agenda_item_id'))

    op.drop_table('agenda_addenda')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_owner_created')
        batch_op.drop_index('ix_actions_case_status')

    op.drop_table('actions')
    with op.batch_alter_table('meeting_attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_attendees_organisation_id'))

    op.drop_table('meeting_attendees')
    with op.batch_alter_table('closure_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closure_proposals_case_id'))

    op.drop_table('closure_proposals')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_items_case_id'))

    op.drop_table('agenda_items')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_series_id'))
        batch_op.drop_index('ix_meetings_municipality_starts')
        batch_op.drop_index(batch_op.f('ix_meetings_chair_id'))

    op.drop_table('meetings')
