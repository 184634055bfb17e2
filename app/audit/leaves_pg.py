"""The leaf hashes of `audit_leaves` on PostgreSQL, computed by the database: the same documents.

Reading twenty columns of every event into Python and building its document there cost more than
everything else verification does. Here PostgreSQL builds the same bytes with one concat() per
event, hashes them with sha256(), and hands over all leaves of a range as one value, 32 bytes each.

Each value is written as the reference writes it: UUIDs as text, integers in decimal, timestamps by
to_char in isoformat's shape (the `.000000` of a whole second dropped), NULL as null, a later column
left out when NULL. A string goes in between quotes as it is when nothing in the row needs escaping,
else through to_json, whose escaper escapes exactly what json.dumps does (the quote, the backslash,
the control characters; PostgreSQL text holds no NUL). Which rows need it is told by one to_json over
all of a row's strings: it escapes each of those characters with a backslash, so a result without a
backslash proves there was none to escape. A JSON column's canonical text is the reference's own
(`canonical_json`, in Python), computed once per distinct stored text of the range and joined in.
Persons: one pseudonym comes from a grouped join, several from a sorted sub-select per event.
`tests/test_audit_leaves.py` holds every branch to json.dumps byte for byte, on both backends.

Whether the database can be trusted to hash does not widen what verification trusts: it already
trusts the database to hand over what it stores, and the seals it compares with are in the same
database. Functions are named with their schema all the same: a concat(text, …) a user created in
another schema would otherwise outrank PostgreSQL's concat(VARIADIC "any") by matching better.
"""
from collections.abc import Callable, Iterator
from typing import NamedTuple

from sqlalchemy import Column, Connection, Table

FETCH = 10000
DIGEST = 32
_QUOTED = {"uuid": "{c}::text", "datetime": ("pg_catalog.replace(pg_catalog.to_char(pg_catalog.timezone('UTC', {c}), "
                                             "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')")}
_CLOSE = {"string": '"', "uuid": '"', "datetime": '+00:00"'}


def stream(connection: Connection, query) -> Iterator[tuple]:
    """psycopg's chunked streaming of plain binary tuples: several times faster than a server-side
    cursor through SQLAlchemy's result rows. It runs in the connection's own transaction."""
    compiled = query.compile(dialect=connection.dialect)
    with connection.connection.driver_connection.cursor(binary=True) as cursor:
        yield from cursor.stream(str(compiled), compiled.params, size=FETCH)


def usable(connection: Connection) -> bool:
    """Whether the database stores text as UTF-8, the bytes a document is hashed as (in a SQL_ASCII
    database convert_to would hash whatever bytes were stored; the reference decodes them)."""
    return connection.connection.driver_connection.info.parameter_status("server_encoding") == "UTF8"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(column: str | None, when_set: str, when_null: str) -> str:
    if column is None or when_set == when_null:
        return when_set
    return f"CASE WHEN {column} IS NULL THEN {when_null} ELSE {when_set} END"


class _Field(NamedTuple):
    """One key and its value in the document; `head` and `tail` are the texts before and after the
    value, (when set, when NULL), as the reference writes them."""

    column: str | None  # the column whose NULL chooses between them; None: the same either way
    value: str  # SQL; NULL adds nothing to concat()
    head: tuple[str, str]
    tail: tuple[str, str]


def _glue(before: _Field | None, after: _Field | None) -> str:
    """One argument for all the text between two values: concat() costs per argument, not per byte."""
    def between(before_null: int, after_null: int) -> str:
        return _literal((before.tail[before_null] if before else "") + (after.head[after_null] if after else "}"))

    column = after.column if after else None
    return _case(before.column if before else None, _case(column, between(0, 0), between(0, 1)),
                 _case(column, between(1, 0), between(1, 1)))


class Leaves:
    """Computes leaves for one table layout; `kind` and `canonical_json` are the reference's own."""

    def __init__(self, events: Table, persons: Table, columns: list[Column], kind: Callable[[Column], str],
                 canonical_json: Callable[[str], str], later: frozenset[str]):
        self.canonical_json, self.persons = canonical_json, persons.name
        names = sorted([(c.name, kind(c)) for c in columns] + [("persons", "persons")])
        self.strings = [f"e.{name}" for name, kind_ in names if kind_ == "string"] + ["p.first"]
        fast, exact = [], []
        for i, (name, kind_) in enumerate(names):
            key = ("{" if i == 0 else ",") + '"' + name + '":'
            fast.append(self._field(name, kind_, key, name in later, escaped=False))
            exact.append(self._field(name, kind_, key, name in later, escaped=True))
        self.sql = self._query(events.name, self._arguments(fast), self._arguments(exact))
        self.details = (f"SELECT DISTINCT pg_catalog.convert_to(e.detail::text, 'UTF8') FROM {events.name} e "
                        "WHERE e.seq > %(after)s AND e.seq <= %(until)s")

    @staticmethod
    def _arguments(fields: list[_Field]) -> str:
        glued = [_glue(None, fields[0])]
        for before, after in zip(fields, fields[1:] + [None], strict=True):
            glued += [before.value, _glue(before, after)]
        return ", ".join(glued)

    def _field(self, name: str, kind: str, key: str, later: bool, escaped: bool) -> _Field:
        if kind == "persons":
            one = "pg_catalog.to_json(p.first)::text" if escaped else "pg_catalog.concat('\"', p.first, '\"')"
            value = f"CASE WHEN p.n = 1 THEN {one} WHEN p.n > 1 THEN {self._several()} END"
            return _Field(None, value, (key + "[", key + "["), ("]", "]"))
        if kind == "json":  # NULL in a NOT NULL column must not crash: the reference writes null too
            return _Field(None, "coalesce(d.canon, 'null')", (key, key), ("", ""))
        column = f"e.{name}"
        if kind == "string" and escaped:  # to_json writes the quotes
            value, close = f"pg_catalog.to_json({column})::text", ""
        elif kind == "integer":
            value, close = f"{column}::text", ""
        else:
            value, close = _QUOTED.get(kind, "{c}").format(c=column), _CLOSE[kind]
        opening = key + '"' if close else key
        # A later column is left out when NULL, key and all.
        return _Field(column, value, (opening, "" if later else key + "null"), (close, ""))

    def _several(self) -> str:
        return ("(SELECT pg_catalog.string_agg(pg_catalog.to_json(x.pseudonym)::text, ',' ORDER BY x.pseudonym) "
                f"FROM {self.persons} x WHERE x.event_seq = e.seq)")

    def _query(self, events: str, fast: str, exact: str) -> str:
        clean = f"pg_catalog.strpos(pg_catalog.to_json(pg_catalog.concat({', '.join(self.strings)}))::text, E'\\\\') = 0"
        document = f"CASE WHEN {clean} THEN pg_catalog.concat({fast}) ELSE pg_catalog.concat({exact}) END"
        return f"""
WITH d AS MATERIALIZED (SELECT pg_catalog.convert_from(raw, 'UTF8') AS raw, pg_catalog.convert_from(canon, 'UTF8') AS canon
                        FROM ROWS FROM (pg_catalog.unnest(%(raw)s::bytea[]), pg_catalog.unnest(%(canon)s::bytea[])) AS d(raw, canon)),
     p AS (SELECT event_seq, pg_catalog.count(*) AS n, pg_catalog.min(pseudonym) AS first FROM {self.persons}
           WHERE event_seq > %(after)s AND event_seq <= %(until)s GROUP BY event_seq)
SELECT pg_catalog.string_agg(leaf, ''::bytea ORDER BY seq), pg_catalog.bool_or(unknown)
FROM (SELECT e.seq, e.detail IS NOT NULL AND d.canon IS NULL AS unknown,
             pg_catalog.sha256(pg_catalog.byteacat(pg_catalog.decode('00', 'hex'), pg_catalog.convert_to({document}, 'UTF8'))) AS leaf
      FROM {events} e LEFT JOIN p ON p.event_seq = e.seq LEFT JOIN d ON d.raw = e.detail::text
      WHERE e.seq > %(after)s AND e.seq <= %(until)s) AS leaves"""

    def leaves(self, connection: Connection, after: int, until: int) -> list[bytes] | None:
        """The leaf hashes of the events with after < seq <= until, in order; None when an event's
        JSON text was not among the range's a moment before (written meanwhile: the reference decides)."""
        bounds = {"after": after, "until": until}
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            raw = [text for text, in cursor.execute(self.details, bounds)]
            canon = [self.canonical_json(text.decode()).encode() for text in raw]
            # The planner prices the rare sub-select for several persons as if every event ran it, and
            # compiling the statement (JIT) then takes longer than running it.
            jit, _ = cursor.execute("SELECT pg_catalog.current_setting('jit'), "
                                    "pg_catalog.set_config('jit', 'off', true)").fetchone()
            hashes, unknown = cursor.execute(self.sql, bounds | {"raw": raw, "canon": canon}).fetchone()
            cursor.execute("SELECT pg_catalog.set_config('jit', %s, true)", (jit,))
        if unknown:
            return None
        return [hashes[i:i + DIGEST] for i in range(0, len(hashes), DIGEST)] if hashes else []
