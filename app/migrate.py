"""Running the Alembic migrations from the application (CLI, tests, demo), then granting the
application's database role what it needs."""

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from app.auth import guard, tenancy
from app.config import Settings
from app.privacy import register

# The audit log is append-only for the application: it reads and adds, never changes or removes
# (the audit log's own retention runs as the owner); so is the register of processing activities the
# events name (a change is a new version). Every other table it may change.
APPEND_ONLY = ("audit_events", "audit_event_persons", "audit_seals", "audit_anchors", "processing_activities")


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(settings.migrations_dir))
    return config


# Replicas starting at once each run `casusregister migrate`: on PostgreSQL the first takes this lock
# for its transaction, the others wait and then find nothing left to do.
MIGRATION_LOCK = 0x63617375  # "casu"


def upgrade(settings: Settings, engine: Engine, revision: str = "head") -> None:
    config = alembic_config(settings)
    with engine.begin() as connection, guard.access("migration"):
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        tenancy.apply(connection, tenancy.ALL)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if revision == "head":  # the shipped register's activities the database does not hold yet
            register.sync(connection, register.read(), only_new=True)
        if settings.database_app_role and connection.dialect.name == "postgresql":
            grant(connection, settings.database_app_role)


def grant(connection: Connection, role: str) -> None:
    """What the application's role (which owns no table) may do, on every table there is now."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                     "AND tablename <> 'alembic_version'")).scalars()
    for table in tables:
        rights = "SELECT, INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE, DELETE"
        connection.execute(text(f'GRANT {rights} ON TABLE "{table}" TO {quoted}'))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
