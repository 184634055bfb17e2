"""Alembic environment: the schema comes only from these migrations, on SQLite and PostgreSQL."""

from alembic import context
from sqlalchemy import Connection

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import Settings
from app.db import make_engine
from app.models.base import metadata


def _configure(connection: Connection) -> None:
    # Batch mode lets ALTER work on SQLite by rebuilding the table.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(Settings())
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
