"""A test's own look at the database, outside any request.

The runtime guard (app.auth.guard) refuses statements on tables with personal data outside an access
context, and on PostgreSQL row-level security hides every municipality's rows outside a scope. A test
that arranges or inspects rows directly opens a context of its own for that, over the whole registry.
Application code a test calls opens its own contexts: call it with a plain `app.db.Session`.

On PostgreSQL the application connects as a role that owns no table and may only add to the audit log;
`owner=True` connects as the tables' owner, for what only it may do (emptying or tampering with the
audit log).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from app.auth import tenancy
from app.db import Session, make_engine

_owner_engines: dict[int, Engine] = {}


def owner_engine(app) -> Engine:
    if id(app) not in _owner_engines:
        _owner_engines[id(app)] = make_engine(app.state.settings, owner=True)
    return _owner_engines[id(app)]


def dispose_owner_engine(app) -> None:
    engine = _owner_engines.pop(id(app), None)
    if engine is not None:
        engine.dispose()


@contextmanager
def inspect_db(app, owner: bool = False) -> Iterator[Session]:
    with (Session(owner_engine(app) if owner else app.state.engine) as session,
          tenancy.maintenance("test inspection", session)):
        yield session


@contextmanager
def inspect_connection(app, write: bool = False, owner: bool = False) -> Iterator[Connection]:
    """`write`: in a transaction committed at the end (else rolled back)."""
    engine = owner_engine(app) if owner else app.state.engine
    with engine.begin() if write else engine.connect() as connection, tenancy.maintenance("test inspection", connection):
        yield connection
