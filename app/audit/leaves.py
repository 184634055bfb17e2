"""Leaf hashes of audit events, fast enough to seal and verify millions of events.

A leaf is sha256(0x00 || document) (RFC 6962 leaf prefix), the document being

    json.dumps({every column of the event} | {"persons": sorted pseudonyms}, sort_keys=True,
               separators=(",", ":"), ensure_ascii=False)

with datetimes as UTC ISO 8601 and UUIDs as text. A column added after events were first sealed
(LATER_COLUMNS) is in the document only when set: the events sealed before it existed keep their
leaves, and setting or clearing it on any event changes that event's leaf. Going through a dict and json.dumps per event
costs several times more than reading the row, so the encoder is generated once from the table's
columns: one string join per event, with the same C string escaper json.dumps uses. Generated from the
columns, a column added later is hashed too; a column of a type it does not know stops the import
rather than being left out. `tests/test_audit_leaves.py` holds it to json.dumps byte for byte.

That encoder is the reference, and SQLite's path. On PostgreSQL `leaves` has the database build and
hash the same documents (`audit_leaves_pg.py`), held to the same tests.
"""

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from json.encoder import encode_basestring

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Integer,
    String,
    Text,
    Uuid,
    cast,
    create_engine,
    func,
    select,
)

from app.audit import leaves_pg as audit_leaves_pg
from app.auth import tenancy
from app.models import AuditEvent, AuditEventPerson

EVENTS = AuditEvent.__table__
PERSONS = AuditEventPerson.__table__
COLUMNS = sorted(EVENTS.columns, key=lambda column: column.name)
SEQ = [column.name for column in COLUMNS].index("seq")
# Columns added to audit_events after events were first sealed, in the order they were added.
LATER_COLUMNS = frozenset({"municipality_id", "processing_activity_version", "span_id", "parent_span_id",
                           "foreign_processor"})
# Below this many sealed events one connection does: opening one per core would weigh more than it saves.
PARALLEL_MIN_EVENTS = 200_000

_sorted_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _json(text: str) -> str:
    """A JSON column, as stored text: canonical key order and separators."""
    return text if text == "{}" else _sorted_json(json.loads(text))


def _kind(column) -> str:
    kind = column.type.impl if hasattr(column.type, "impl") else column.type
    if isinstance(kind, DateTime) and kind.timezone:
        return "datetime"
    for sql_type, name in ((Uuid, "uuid"), (String, "string"), (Integer, "integer"), (JSON, "json")):
        if isinstance(kind, sql_type):
            return name
    raise TypeError(f"audit_events.{column.name}: no canonical encoding for {column.type!r}")


# Each kind, given the row value as _rows() yields it, in the encoding json.dumps would give.
_VALUE = {"string": "_string({v})", "integer": "str({v})", "uuid": "'\"' + {v} + '\"'",
          "datetime": "'\"' + {v}.isoformat() + '+00:00\"'", "json": "({v} if {v} == '{{}}' else _json({v}))"}


def _generate_leaf():
    fields = [(column.name, _kind(column), index) for index, column in enumerate(COLUMNS)] + [("persons", "", None)]
    parts = []
    for position, (name, kind, index) in enumerate(sorted(fields)):
        key = repr(("{" if position == 0 else ",") + encode_basestring(name) + ":")
        if name == "persons":
            parts += [key, "'[' + ','.join(map(_string, persons)) + ']'"]
        elif name in LATER_COLUMNS:  # never the first key: "actor_id" sorts before every later column
            parts.append(f"('' if v{index} is None else {key} + {_VALUE[kind].format(v=f'v{index}')})")
        else:  # every column may be null here: a NOT NULL the database does not enforce must not crash verify
            parts += [key, f"('null' if v{index} is None else {_VALUE[kind].format(v=f'v{index}')})"]
    unpack = ", ".join(f"v{index}" for index in range(len(COLUMNS)))
    source = (f"def leaf(row, persons):\n    {unpack}, = row\n"
              f"    return _sha256(b'\\x00' + ''.join(({', '.join(parts)}, '}}')).encode()).digest()\n")
    namespace = {"_string": encode_basestring, "_json": _json, "_sha256": hashlib.sha256}
    # The source is built from column names and the fixed templates above, nothing from the data.
    exec(compile(source, "<audit leaf encoder>", "exec"), namespace)
    return namespace["leaf"]


leaf = _generate_leaf()
_postgresql = audit_leaves_pg.Leaves(EVENTS, PERSONS, COLUMNS, _kind, _json, LATER_COLUMNS)


def _raw(column):
    """On PostgreSQL the database hands over text where Python would convert anyway."""
    kind = _kind(column)
    if kind in ("uuid", "json"):
        return cast(column, Text)
    if kind == "datetime":
        return func.timezone("UTC", column)
    return column


def _normalise(column):
    kind = _kind(column)
    if kind == "uuid":
        return lambda v: None if v is None else str(v)
    if kind == "datetime":
        return lambda v: None if v is None else v.astimezone(UTC).replace(tzinfo=None)
    if kind == "json":
        return json.dumps
    return lambda v: v


def _tuples(connection: Connection, query) -> Iterator[tuple]:
    if connection.dialect.name == "postgresql":
        yield from audit_leaves_pg.stream(connection, query)
    else:
        yield from connection.execute(query)


def _rows(connection: Connection, after: int, until: int) -> Iterator[tuple]:
    """Event rows with after < seq <= until, in order, columns sorted by name: strings, ints, naive UTC
    datetimes, UUIDs and JSON as text."""
    where = (EVENTS.c.seq > after, EVENTS.c.seq <= until)
    if connection.dialect.name == "postgresql":
        yield from _tuples(connection, select(*map(_raw, COLUMNS)).where(*where).order_by(EVENTS.c.seq))
        return
    normalise = [_normalise(column) for column in COLUMNS]
    for row in connection.execute(select(*COLUMNS).where(*where).order_by(EVENTS.c.seq)):
        yield tuple(f(v) for f, v in zip(normalise, row, strict=True))


def _persons(connection: Connection, after: int, until: int) -> dict[int, list[str]]:
    query = select(PERSONS.c.event_seq, PERSONS.c.pseudonym).where(
        PERSONS.c.event_seq > after, PERSONS.c.event_seq <= until).order_by(PERSONS.c.event_seq, PERSONS.c.pseudonym)
    persons: dict[int, list[str]] = {}
    for seq, name in _tuples(connection, query):
        names = persons.get(seq)
        if names is None:
            persons[seq] = [name]
        else:
            names.append(name)
    return persons


def leaves(connection: Connection, after: int, until: int) -> list[bytes]:
    """The leaf hashes of the events with after < seq <= until, in order."""
    if connection.dialect.name == "postgresql" and audit_leaves_pg.usable(connection):
        hashes = _postgresql.leaves(connection, after, until)
        if hashes is not None:
            return hashes
    return reference_leaves(connection, after, until)


def reference_leaves(connection: Connection, after: int, until: int) -> list[bytes]:
    """`leaves` by the generated encoder, on any database: SQLite's path, and PostgreSQL's reference."""
    persons, nobody = _persons(connection, after, until), ()
    return [leaf(row, persons.get(row[SEQ], nobody)) for row in _rows(connection, after, until)]


def merkle_root(hashes: list[bytes]) -> str:
    level = hashes or [hashlib.sha256(b"").digest()]
    while len(level) > 1:
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


@dataclass(frozen=True)
class Batch:
    """What the events of one sealed range add up to now."""

    count: int
    root: str
    first: int | None


def batch(connection: Connection, after: int, until: int) -> Batch:
    hashes = leaves(connection, after, until)
    first = connection.execute(select(func.min(EVENTS.c.seq)).where(EVENTS.c.seq > after, EVENTS.c.seq <= until))
    return Batch(len(hashes), merkle_root(hashes), first.scalar())


def batches(connection: Connection, spans: list[tuple[int, int]], events: int) -> Iterator[Batch]:
    """The batch of each (after, until) span, in order.

    On PostgreSQL, with enough events to be worth it, one connection per core computes them: the
    database builds and hashes the leaves, so each is a server process of its own, busy on a core,
    while its thread here waits for it with the GIL released.
    """
    workers = min(os.cpu_count() or 1, len(spans))
    if connection.dialect.name != "postgresql" or workers < 2 or events < PARALLEL_MIN_EVENTS:
        for span in spans:
            yield batch(connection, *span)
        return
    # An engine of its own: the caller's pool may be too small to lend a connection per core.
    engine = create_engine(connection.engine.url, hide_parameters=True, pool_size=workers, max_overflow=0)
    local, opened = threading.local(), []

    def in_thread(span: tuple[int, int]) -> Batch:
        if not hasattr(local, "connection"):  # one per thread, for all of its spans
            local.connection = engine.connect()
            opened.append(local.connection)
            tenancy.apply(local.connection, tenancy.ALL)
        return batch(local.connection, *span)

    pool = ThreadPoolExecutor(workers)
    try:
        yield from pool.map(in_thread, spans)
    finally:
        pool.shutdown(cancel_futures=True)
        for each in opened:  # after the threads ended: no statement of theirs is still under way
            each.close()
        engine.dispose()
