"""The schema comes only from migrations: they must match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models import metadata
from tests.db import inspect_connection


def test_migrations_match_models(app):
    with inspect_connection(app) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
