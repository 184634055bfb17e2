"""The schema comes only from migrations: they must match the models exactly, run in the order their
files are named, and upgrade a database at any released revision."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import text

from app.auth import tenancy
from app.config import Settings
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

MIGRATIONS = Settings.model_fields["migrations_dir"].default
# Every released migration's revision id, by file. Databases record the id (alembic_version), so it
# never changes: 0005-0007 were renumbered to their place in the chain and keep the ids they were
# released with (migrations/README.md). A migration added later has its file's number as id.
RELEASED = {
    "0001_initial_schema.py": "0001",
    "0002_cases.py": "0002",
    "0003_audit_seals.py": "0003",
    "0004_meetings_agenda_actions.py": "0004",
    "0005_webhook_subscriptions_and_the_outbox.py": "0006",
    "0006_audit_anchors.py": "0007",
    "0007_referrals_and_links_to_other_registries.py": "0005",
    "0008_tenancy.py": "0008",
    "0009_row_level_security.py": "0009",
    "0010_processing_register_and_trace_context.py": "0010",
    "0011_index_actions_agreed_at_an_agenda_item.py": "0011",
    "0012_row_level_security_probes_the_parent_by_key.py": "0012",
    "0013_index_meetings_by_status_and_start.py": "0013",
    "0014_index_cases_by_status_and_creation.py": "0014",
    "0015_index_emergency_accesses_by_grant.py": "0015",
    "0016_index_cases_by_creation.py": "0016",
    "0017_row_level_security_reads_the_scope_once.py": "0017",
    "0018_statistics_read_from_the_indexes.py": "0018",
}
OLD_HEAD = "0010"  # the head when the files were renumbered: databases in use were at it
SCRIPTS = ScriptDirectory(str(MIGRATIONS))


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


def _scripts() -> dict[str, Script]:
    """Each migration file's Alembic script, by file name."""
    return {Path(script.path).name: script for script in SCRIPTS.walk_revisions()}


def test_files_in_name_order_are_the_upgrade_chain():
    scripts = _scripts()
    files = sorted(path.name for path in (MIGRATIONS / "versions").glob("*.py"))
    assert sorted(scripts) == files  # every file is a migration, every migration a file
    assert [name[:5] for name in files] == [f"{number:04d}_" for number in range(1, len(files) + 1)]
    assert scripts[files[0]].down_revision is None
    for previous, current in zip(files, files[1:]):
        assert scripts[current].down_revision == scripts[previous].revision, f"{current} does not follow {previous}"
        assert not scripts[current].branch_labels and not scripts[current].dependencies
    assert SCRIPTS.get_heads() == [scripts[files[-1]].revision]


def test_released_revision_ids_never_change():
    revisions = {name: script.revision for name, script in _scripts().items()}
    assert {name: revisions.get(name) for name in RELEASED} == RELEASED
    assert all(revision == name[:4] for name, revision in revisions.items() if name not in RELEASED)


def _upgrade_from(backend: str, directory, start: str) -> None:
    """A database migrated to `start` (as one at that revision before the renumbering: the files kept
    their contents and revision ids), then to the head: it ends at the head, matching the models."""
    database = new_database(backend, directory)
    settings = make_settings(database.url, directory, **database_settings(database))
    engine = make_engine(settings, owner=True)
    try:
        upgrade(settings, engine, start)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == start
        upgrade(settings, engine)
        with engine.connect() as connection, tenancy.maintenance("test inspection", connection):
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            head = SCRIPTS.get_current_head()
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
            assert compare_metadata(context, metadata) == []
            activities = connection.execute(text("SELECT count(*) FROM processing_activities")).scalar()
            assert activities == len(register.read())
    finally:
        engine.dispose()
        if database.name:
            _drop_pg_database(database.name)


def test_a_database_at_the_old_head_upgrades(backend, tmp_path):
    _upgrade_from(backend, tmp_path, OLD_HEAD)


@pytest.mark.parametrize("start", [revision for revision in RELEASED.values() if revision != OLD_HEAD])
def test_a_database_at_an_earlier_revision_upgrades(backend, tmp_path, start):
    """0006, 0007 and 0005 above all: the three whose files were renumbered."""
    _upgrade_from(backend, tmp_path, start)
