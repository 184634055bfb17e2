"""The tenant of a transaction: the municipalities it acts for, for PostgreSQL's row-level security.

Every table with personal data has row-level security, forced, keyed on this setting (migration
0009): a query that forgets its scope returns nothing of another municipality. A request acts for
the municipalities its caller works in (`Principal.municipalities`), set as soon as the caller is
known; maintenance (sealing, retention, delivery) acts for all. The setting is transaction-local
(`set_config(…, true)`), so it is applied again at the start of every transaction of the session.
SQLite has no row-level security: there the policies are the only wall.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, event, text
from sqlmodel import Session

from app.auth import guard

SETTING = "casusregister.municipalities"
ALL = "*"
_APPLY = text(f"SELECT set_config('{SETTING}', :value, true)")


def _value(municipalities: Iterable[uuid.UUID] | str) -> str:
    return municipalities if isinstance(municipalities, str) else ",".join(sorted(map(str, municipalities)))


def apply(connection: Connection, municipalities: Iterable[uuid.UUID] | str) -> None:
    """For the transaction under way on a Core connection."""
    if connection.dialect.name == "postgresql":
        connection.execute(_APPLY, {"value": _value(municipalities)})


def act_for(session: Session, municipalities: Iterable[uuid.UUID] | str) -> None:
    """For this transaction of the session and every later one."""
    value = session.info[SETTING] = _value(municipalities)
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_APPLY, {"value": value})


@contextmanager
def maintenance(name: str, bind: Session | Connection) -> Iterator[None]:
    """Work on the registry as a whole (sealing, verification, export, retention, delivery): every
    municipality, inside the guard context `name`."""
    if isinstance(bind, Session):
        act_for(bind, ALL)
    else:
        apply(bind, ALL)
    with guard.access(name):
        yield


@contextmanager
def across_municipalities(session: Session) -> Iterator[None]:
    """For one look the registry as a whole, then the session's own tenancy again (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.connection().execute(_APPLY, {"value": ALL})
    try:
        yield
    finally:
        session.connection().execute(_APPLY, {"value": session.info.get(SETTING, "")})


@event.listens_for(Session, "after_begin")
def _reapply(session: Session, transaction, connection: Connection) -> None:
    value = session.info.get(SETTING)
    if value is not None and connection.dialect.name == "postgresql":
        connection.execute(_APPLY, {"value": value})
