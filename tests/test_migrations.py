"""The schema comes only from migrations: they must match the models exactly."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.db import make_engine
from app.migrate import upgrade
from app.models import metadata
from app.privacy import register
from tests.conftest import (
    _drop_pg_database,
    database_settings,
    make_settings,
    new_database,
)
from tests.db import inspect_connection


def test_migrations_match_models(app):
    with inspect_connection(app) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_replicas_migrating_at_once_take_turns(backend, tmp_path):
    """Each replica runs `casusregister migrate` on start: on PostgreSQL an advisory lock makes the
    others wait for the first, then find nothing left to do (without it, one fails on CREATE TABLE)."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer; replicas share no SQLite file")
    database = new_database(backend, tmp_path)
    # Without the lock the replicas wait on each other's DDL for ever: a minute's wait fails instead.
    owner = database_settings(database)["owner_database_url"] + "?options=-c%20lock_timeout%3D60000"
    settings = make_settings(database.url, tmp_path, **database_settings(database) | {"owner_database_url": owner})
    engines = [make_engine(settings, owner=True) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(lambda engine: upgrade(settings, engine), engines))  # re-raises a failure
        with engines[0].connect() as connection:
            versions = connection.execute(text("SELECT key, version FROM processing_activities")).all()
        assert len(versions) == len(register.read()) and {v for _, v in versions} == {1}
    finally:
        for engine in engines:
            engine.dispose()
        _drop_pg_database(database.name)
