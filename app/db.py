"""Engine and the one dependency that owns each request's transaction."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.config import Settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL + NORMAL is durable against application crashes; FULL also survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(settings: Settings) -> Engine:
    """SQL parameters are hidden from error messages: they are personal data."""
    if settings.is_sqlite:
        path = settings.database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(settings.database_url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         hide_parameters=True)


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
