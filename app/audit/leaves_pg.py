"""The leaf hashes of `audit_leaves` on PostgreSQL: the same documents, filled into a template per row shape.

The reference encoder (`audit_leaves.leaf`) converts, escapes and joins every value in Python, one call
per column, which cost more than reading the rows and hashing together. Here the database formats
what it formats exactly as Python does (UUIDs as text; timestamps with to_char in isoformat's shape,
the `.000000` of a whole second dropped; the persons by a join), text arrives as the UTF-8 bytes that
are hashed, and each row fills a template with one bytes `%` operation. There is a template per shape
of row (which values are NULL, how many persons) and, within a range of events, per canonical text
of its JSON columns, which events repeat. Formatting, checking and hashing run as map() over a slice
of rows, so that Python's own per-row work is the choice of template.

Values go into the template unescaped. That is exact only when no value holds a byte JSON escapes
(a quote, a backslash, a control character), so every document is checked: its template holds a
known number of such bytes, and values can only add to it, never hide one. One sum over a slice
tells whether any row holds one; those rows are built again with every value escaped as
`json.encoder.encode_basestring` does. So no document can differ from the reference.
`tests/test_audit_leaves.py` holds this path to json.dumps on awkward values, on both backends.

The database formats but does not hash. Whether to_char or a cast could be subverted does not widen
what verification trusts: it already trusts the database to hand over what it stores, and whoever can
replace pg_catalog functions (a superuser) can as well put a view with the original rows in front of
the table. Keeping seal hashes outside the database, not the choice of who formats, guards against that.
"""
import hashlib
from collections.abc import Callable, Iterator
from itertools import islice
from json.encoder import encode_basestring
from operator import attrgetter, eq, itemgetter, methodcaller
from typing import NamedTuple

from psycopg.types.string import ByteaBinaryLoader
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

FETCH = 10000
SLICE = 500
# What JSON escapes; a document's count of these bytes tells whether a value needed escaping.
_SPECIAL = bytes(range(0x20)) + b'"\\'
# Where a JSON column's canonical text goes; a special byte itself, and one canonical JSON never holds.
_MARKER = b"\x01"
# Placeholders by kind: a value as json.dumps writes it, when it needs no escaping. A JSON column's
# stored text is dropped (%.0s): the template holds its canonical text instead.
_PLACE = {"string": '"%s"', "uuid": '"%s"', "datetime": '"%s+00:00"', "integer": "%d", "json": "%.0s\x01"}
_stripped = methodcaller("translate", None, _SPECIAL)
_digest = methodcaller("digest")
_text, _special = attrgetter("text"), attrgetter("special")


def stream(connection: Connection, query) -> Iterator[tuple]:
    """psycopg's chunked streaming of plain binary tuples: several times faster than a server-side
    cursor through SQLAlchemy's result rows. It runs in the connection's own transaction."""
    compiled = query.compile(dialect=connection.dialect)
    with connection.connection.driver_connection.cursor(binary=True) as cursor:
        yield from cursor.stream(str(compiled), compiled.params, size=FETCH)


def rows(connection: Connection, query) -> list[tuple]:
    """All rows of a query, text as the UTF-8 bytes it arrives in (the document is hashed as bytes).
    Fetched at once rather than streamed: psycopg then converts them in one C loop, not one
    generator step per row."""
    compiled = query.compile(dialect=connection.dialect)
    with connection.connection.driver_connection.cursor(binary=True) as cursor:
        for name in ("text", "varchar"):
            cursor.adapters.register_loader(name, ByteaBinaryLoader)
        return cursor.execute(str(compiled), compiled.params).fetchall()


def usable(connection: Connection) -> bool:
    """Whether text arrives as UTF-8, the bytes the documents are hashed as (a client encoding set
    otherwise, or a SQL_ASCII database, leaves the reference encoder to decode it)."""
    return connection.connection.driver_connection.info.encoding == "utf-8"


def _specials(data: bytes) -> int:
    return len(data) - len(data.translate(None, _SPECIAL))


def _escaped(value):
    return encode_basestring(value.decode())[1:-1].encode() if isinstance(value, bytes) else value


class Template(NamedTuple):
    """The %-template of one shape of row: which values are NULL, how many persons, the JSON texts."""

    text: bytes
    special: int  # special bytes in its literal text


class Leaves:
    """Computes leaves for one table layout; `kind` and `canonical_json` are the reference's own."""

    def __init__(self, events: Table, persons: Table, columns: list[Column], kind: Callable[[Column], str],
                 canonical_json: Callable[[str], str], later: frozenset[str]):
        self.events, self.persons, self.canonical_json, self.later = events, persons, canonical_json, later
        fields = sorted([(c.name, kind(c), c) for c in columns] + [("persons", "persons", persons.c.pseudonym)],
                        key=lambda field: field[0])
        self.names = [name for name, _, _ in fields]
        self.kinds = [kind_ for _, kind_, _ in fields]
        self.selected = [self._expression(kind_, column) for _, kind_, column in fields]
        self.seq, self.person = self.names.index("seq"), self.names.index("persons")
        self.json = [i for i, kind_ in enumerate(self.kinds) if kind_ == "json"]
        self.json_of = itemgetter(*self.json) if self.json else lambda row: None
        self.shapes: dict[tuple, Template] = {}

    @staticmethod
    def _expression(kind: str, column: Column):
        if kind in ("uuid", "json"):
            return cast(column, Text)
        if kind == "datetime":  # isoformat's shape; the fraction only when there is one, as isoformat does
            return func.replace(func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US'), ".000000", "")
        return column

    def _query(self, after: int, until: int):
        e, p = self.events.c, self.persons.c
        joined = self.events.outerjoin(self.persons, and_(p.event_seq == e.seq, p.event_seq > after, p.event_seq <= until))
        # Not ordered by pseudonym too: that sort cost the database as much again, for the few events
        # with several persons, whose persons are read again in order (_persons_of).
        return select(*self.selected).select_from(joined).where(e.seq > after, e.seq <= until).order_by(e.seq)

    def _persons_of(self, connection: Connection, seqs: list[int]) -> dict[int, list[bytes]]:
        """The persons of these events, ordered as the reference orders them."""
        p = self.persons.c
        wanted = any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger)))  # one parameter, however many
        query = select(p.event_seq, p.pseudonym).where(p.event_seq == wanted).order_by(p.event_seq, p.pseudonym)
        persons: dict[int, list[bytes]] = {seq: [] for seq in seqs}
        for seq, name in rows(connection, query):
            persons[seq].append(name)
        return persons

    def _shape(self, nulls: tuple[int, ...], persons: int) -> Template:
        """The template with a marker for each JSON column, built once per shape."""
        parts = []
        for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            if i in nulls and name in self.later:  # a later column is left out when NULL, key and all
                parts.append("%.0a")
                continue
            if i in nulls:  # %.0a consumes the None and writes nothing
                value = ("[]" if kind == "persons" else "null") + "%.0a"
            elif kind == "persons":
                value = "[" + ",".join(['"%s"'] * persons) + "]"
            else:
                value = _PLACE[kind]
            parts.append(("{" if i == 0 else ",") + encode_basestring(name).replace("%", "%%") + ":" + value)
        text = ("\x00" + "".join(parts) + "}").encode()  # with the leaf prefix: one concatenation less per row
        return Template(text, _specials(text))

    def _filled(self, row: tuple, nulls: tuple[int, ...], persons: int) -> Template:
        """The shape's template with the row's JSON columns in canonical form in place of the markers."""
        shape = self.shapes.get((nulls, persons))
        if shape is None:
            shape = self.shapes[nulls, persons] = self._shape(nulls, persons)
        text, special = shape
        for i in self.json:
            if i not in nulls:
                canonical = self.canonical_json(row[i].decode()).encode()
                text = text.replace(_MARKER, canonical.replace(b"%", b"%%"), 1)
                special += _specials(canonical) - 1
        return Template(text, special)

    def _template(self, row: tuple, persons: int, cache: dict) -> Template:
        nulls = row.count(None)  # most rows have none or one NULL: find those without a Python loop
        if nulls == 0:
            where: tuple[int, ...] = ()
        elif nulls == 1:
            where = (row.index(None),)
        else:
            where = tuple(i for i, v in enumerate(row) if v is None)
        key = (where, persons, self.json_of(row))  # events repeat their details: few templates per range
        template = cache.get(key)
        if template is None:
            template = cache[key] = self._filled(row, where, persons)
        return template

    @staticmethod
    def _checked(template: Template, values: tuple, document: bytes) -> bytes:
        """The document, or, where a value holds a byte JSON escapes, the document with every value escaped."""
        if _specials(document) == template.special:
            return document
        return template.text % tuple(map(_escaped, values))

    def _chunk(self, rows: list[tuple], cache: dict) -> list[bytes]:
        """The leaves of rows of one event each, a slice at a time: a few hundred documents stay in the
        CPU's cache from one map() stage to the next (5% less time than 10,000 at once)."""
        hashes: list[bytes] = []
        for start in range(0, len(rows), SLICE):
            hashes += self._slice(rows[start:start + SLICE], cache)
        return hashes

    def _slice(self, rows: list[tuple], cache: dict) -> list[bytes]:
        """The leaves of rows of one event each: a template chosen per row, the rest in C loops."""
        templates = [self._template(row, 1, cache) for row in rows]
        documents = list(map(bytes.__mod__, map(_text, templates), rows))
        # Values only add special bytes, so one sum over the slice tells whether any row needs a look.
        if sum(map(len, documents)) - sum(map(len, map(_stripped, documents))) != sum(map(_special, templates)):
            documents = list(map(self._checked, templates, rows, documents))
        return list(map(_digest, map(hashlib.sha256, documents)))

    def _several(self, row: tuple, names: list[bytes], cache: dict) -> bytes:
        """The leaf of an event with several persons, from its first row."""
        template = self._template(row, len(names), cache)
        values = row[:self.person] + tuple(names) + row[self.person + 1:]
        return hashlib.sha256(self._checked(template, values, template.text % values)).digest()

    def _firsts(self, rows: list[tuple], done: int, several: dict[int, tuple]) -> list[tuple]:
        """The rows that start an event (the join gives an event with several persons a row each);
        the others are noted in `several` by the index of their event's leaf, after `done` leaves."""
        seqs = list(map(itemgetter(self.seq), rows))
        if not any(map(eq, seqs, islice(seqs, 1, None))):
            return rows
        firsts: list[tuple] = []
        last = None
        for seq, row in zip(seqs, rows, strict=True):
            if seq == last:
                several.setdefault(done + len(firsts) - 1, row)
            else:
                firsts.append(row)
            last = seq
        return firsts

    def _skip(self, connection: Connection, end: int, until: int) -> int:
        """Where to read on after an empty stretch: just before the next event (a sequence moved on
        by hand must not cost a query per FETCH numbers)."""
        seq = self.events.c.seq
        following = connection.execute(select(func.min(seq)).where(seq > end, seq <= until)).scalar()
        return until if following is None else following - 1

    def leaves(self, connection: Connection, after: int, until: int) -> list[bytes]:
        """The leaf hashes of the events with after < seq <= until, in order, read FETCH sequence
        numbers at a time (an event's persons never straddle two reads)."""
        hashes: list[bytes] = []
        cache: dict = {}
        several: dict[int, tuple] = {}  # events with several persons: the index of their leaf, and a row
        start = after
        while start < until:
            if len(cache) > FETCH:  # a range of all different details: keep memory bounded
                cache.clear()
            end = min(start + FETCH, until)
            found = rows(connection, self._query(start, end))
            hashes += self._chunk(self._firsts(found, len(hashes), several), cache)
            start = end if found else self._skip(connection, end, until)
        if several:
            persons = self._persons_of(connection, [row[self.seq] for row in several.values()])
            for index, row in several.items():
                hashes[index] = self._several(row, persons[row[self.seq]], cache)
        return hashes
