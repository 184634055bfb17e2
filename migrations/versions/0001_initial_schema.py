"""Initial schema: organisations, users, API clients, persons, signals, audit, idempotency, login failures, match locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:09:41.830516
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trace_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('roles', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('on_behalf_of', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('operation', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('resource_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('processing_activity', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_events_event_id'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_trace_id'), ['trace_id'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Uuid(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('actor', 'key', name=op.f('uq_idempotency_records_actor_key'))
    )
    op.create_table('login_failures',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failures_address'), ['address'], unique=False)

    op.create_table('match_locks',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_match_locks'))
    )
    op.create_table('organisations',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_organisations_municipality_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_organisations_code')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('api_clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_api_clients_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_clients_client_id'))
    )
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_clients_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('audit_event_persons',
    sa.Column('event_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_seq'], ['audit_events.seq'], name=op.f('fk_audit_event_persons_event_seq_audit_events')),
    sa.PrimaryKeyConstraint('event_seq', 'pseudonym', name=op.f('pk_audit_event_persons'))
    )
    with op.batch_alter_table('audit_event_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_persons_pseudonym'), ['pseudonym'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('bsn', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('bsn_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name_dob_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_persons_municipality_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_persons_pseudonym'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_bsn_key'), ['bsn_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_name_dob_key'), ['name_dob_key'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('subject_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subject_date_of_birth', sa.Date(), nullable=False),
    sa.Column('subject_bsn', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('subject_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('reporter_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reporter_id', sa.Uuid(), nullable=False),
    sa.Column('reporter_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('match_reason', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_signals_municipality_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_signals_person_id_persons')),
    sa.ForeignKeyConstraint(['reporter_organisation_id'], ['organisations.id'], name=op.f('fk_signals_reporter_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index('ix_signals_municipality_created', ['municipality_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_signals_reporter_created', ['reporter_id', 'created_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_reporter_created')
        batch_op.drop_index(batch_op.f('ix_signals_person_id'))
        batch_op.drop_index('ix_signals_municipality_created')

    op.drop_table('signals')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_name_dob_key'))
        batch_op.drop_index(batch_op.f('ix_persons_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_persons_bsn_key'))

    op.drop_table('persons')
    with op.batch_alter_table('audit_event_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_persons_pseudonym'))

    op.drop_table('audit_event_persons')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_clients_organisation_id'))

    op.drop_table('api_clients')
    op.drop_table('organisations')
    op.drop_table('match_locks')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_address'))
        batch_op.drop_index(batch_op.f('ix_login_failures_account'))

    op.drop_table('login_failures')
    op.drop_table('idempotency_records')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_trace_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_outcome'))
        batch_op.drop_index(batch_op.f('ix_audit_events_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
