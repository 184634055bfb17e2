"""Engine and the one dependency that owns each request's transaction."""

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session as SQLModelSession

from app.auth import guard
from app.config import Settings
from app.models.base import utcnow


class Session(SQLModelSession):
    """A session whose unit of work may write the objects it holds to the tables with personal data:
    flushing writes back what a policy loaded or a service built, and reads nothing (app.auth.guard)."""

    def flush(self, objects=None) -> None:
        with guard.access("unit of work"):
            super().flush(objects)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL + NORMAL is durable against application crashes; FULL also survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


# A pooled connection idle this long is checked before use: a database restart or a firewall may have
# dropped it meanwhile. One in steady use is not, which saves a round trip per request (what
# `pool_pre_ping` costs); if such a connection was dropped after all, its request answers 503 with
# Retry-After (a client retries) and SQLAlchemy discards every connection the pool held before.
PING_AFTER_IDLE_SECONDS = 2.0


def _without_jit(dbapi_connection, _record) -> None:
    """PostgreSQL compiles a plan to machine code (JIT) once its estimated cost passes jit_above_cost. This
    application runs each statement once per request and none for long, so the compilation costs more than
    it saves: the statistics of a year at the scale bench's full size spent 13.6 of 41 ms of its days to
    first meeting compiling, and the request took 195 against 230 ms (and 172 against 181) with it off.
    Set per connection, not in the URL, so an operator's own `options` there stay as they are."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_after_idle(engine: Engine):
    def ping(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the pooled connection was dropped") from error  # the pool connects anew
    return ping


def make_engine(settings: Settings, owner: bool = False) -> Engine:
    """SQL parameters are hidden from error messages: they are personal data. `owner`: connect as the
    role that owns the tables (OWNER_DATABASE_URL), for migrations and the audit log's own retention."""
    url = (settings.owner_database_url or settings.database_url) if owner else settings.database_url
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=settings.database_pool_size,
                               max_overflow=settings.database_max_overflow, hide_parameters=True)
        event.listen(engine, "connect", _without_jit)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_after_idle(engine))
    guard.install(engine)
    return engine


DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: Session, model):
    """INSERT with ON CONFLICT support, for the dialect the session is bound to. On the table, not the
    ORM class: a plain statement, without the ORM's bulk-insert machinery around it."""
    return DIALECT_INSERTS[dialect_name(session)](getattr(model, "__table__", model))


def _commit(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _roll_back(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Commit on success, roll back on error.

    Declared with scope="function" so the commit happens before the response is sent: an audit
    event that cannot be written fails the request instead of being lost after the data went out.
    Async, because opening a session does no I/O: the thread pool is needed only for the commit or
    rollback, not also for the start (a trip through it costs about as much CPU as a simple query).
    """
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_roll_back, session)
        raise
    await run_in_threadpool(_commit, session)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def database_now(connection: Connection) -> datetime:
    """The database server's clock: one clock for every replica and worker (PostgreSQL). SQLite runs in
    this process, so there the process's clock is the database's."""
    if connection.dialect.name == "postgresql":
        return connection.execute(text("SELECT clock_timestamp()")).scalar_one()
    return utcnow()


@contextmanager
def singleton(engine: Engine, key: int) -> Iterator[bool]:
    """Whether this process may run the job that `key` names, among every process on the database: a
    PostgreSQL advisory lock held on a connection of its own while the job runs (it is released when
    that connection ends, also when the process dies). SQLite has one writer: run one worker there."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
