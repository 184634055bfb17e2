"""The runtime guard: no statement touches a table with personal data outside an access context.

Every statement on its way to the database passes `_check`, however it was written (ORM entities,
Core tables, `__table__`, `text()`): its SQL text is matched against the names of the tables with
personal data, and a match outside an access context raises `UnguardedAccess` before the statement
is sent. A context is opened by

- the access policies (`app.auth.policies`), around every statement they build and run;
- the audit log (`app.audit`), the privacy officer's tools (`app.privacy`), migrations and the demo
  data, each under its own name (`tests/test_guard.py` holds the list of modules that may);
- the unit of work (`app.db.Session.flush`): it writes back the objects the code holds, which a policy
  loaded or a service built, and reads nothing.

PostgreSQL's row-level security is the second wall behind this one (`app.auth.tenancy`).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from sqlalchemy import Engine, event

PERSONAL_TABLES = frozenset({
    "signals", "persons", "cases", "case_members", "case_history", "information_items", "item_shares",
    "meetings", "meeting_attendees", "agenda_items", "agenda_addenda", "closure_proposals", "actions",
    "referrals", "referral_items", "emergency_accesses", "audit_events", "audit_event_persons",
    "idempotency_records",
})
# Every other table, named so that a new table must be put on one list or the other (tests/test_guard.py).
OTHER_TABLES = frozenset({
    "organisations", "organisation_networks", "users", "api_clients", "login_failures", "case_number_sequences",
    "match_locks", "audit_seals", "audit_anchors", "subscriptions", "outbox_messages", "external_endpoints",
    "processing_activities", "alembic_version",
})
# A table name as a whole word: `persons` inside `audit_event_persons` is not `persons`.
_NAMES = re.compile(r"\b(" + "|".join(sorted(PERSONAL_TABLES, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_open: ContextVar[tuple[str, ...]] = ContextVar("access_contexts", default=())


class UnguardedAccess(RuntimeError):
    """A statement on personal data outside every access context: a bug, never a user's error."""


@lru_cache(maxsize=4096)
def personal_tables(statement: str) -> frozenset[str]:
    return frozenset(name.lower() for name in _NAMES.findall(statement))


def open_contexts() -> tuple[str, ...]:
    return _open.get()


@contextmanager
def access(name: str) -> Iterator[None]:
    """Statements on personal data are allowed inside; `name` says who opened it (for errors)."""
    token = _open.set((*_open.get(), name))
    try:
        yield
    finally:
        _open.reset(token)


def _check(conn, cursor, statement: str, parameters, context, executemany) -> None:
    if _open.get():
        return
    touched = personal_tables(statement)
    if touched:
        # Table names only: the statement's parameters may be personal data.
        raise UnguardedAccess(f"a statement on {', '.join(sorted(touched))} outside every access context")


def install(engine: Engine) -> None:
    if not event.contains(engine, "before_cursor_execute", _check):
        event.listen(engine, "before_cursor_execute", _check)
