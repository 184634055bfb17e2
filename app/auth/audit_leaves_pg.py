"""The leaf hashes of `audit_leaves` on PostgreSQL: the same documents, filled into a template per row shape.

The reference encoder (`audit_leaves.leaf`) converts, escapes and joins every value in Python, one call
per column, which cost more than reading the rows and hashing together. Here the database formats
what it formats exactly as Python does (UUIDs as text; timestamps with to_char in isoformat's shape,
the `.000000` of a whole second dropped; the persons by a join, in the reference's ORDER BY), and
Python fills a template, one per shape of row (which values are NULL, how many persons), with a
single `%` operation, then hashes.

Values go into the template unescaped. That is exact only when no value holds a character JSON
escapes (a quote, a backslash, a control character), so every document is checked: its template and
its canonical JSON columns hold a known number of such bytes, and a document with more is built again
with every value escaped as `json.encoder.encode_basestring` does. Values can only add such bytes,
never hide one, so the check cannot pass a document that differs from the reference.
`tests/test_audit_leaves.py` holds this path to json.dumps on awkward values, on both backends.

The database formats but does not hash. Whether to_char or a cast could be subverted does not widen
what verification trusts: it already trusts the database to hand over what it stores, and whoever can
replace pg_catalog functions (a superuser) can as well put a view with the original rows in front of
the table. Sealing elsewhere, not the choice of who formats, is what guards against that.
"""

import hashlib
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring
from typing import NamedTuple

from psycopg.types.string import ByteaBinaryLoader
from sqlalchemy import Column, Connection, Table, Text, and_, cast, func, select

FETCH = 10000
# What JSON escapes; a document's count of these bytes tells whether a value needed escaping.
_SPECIAL = bytes(range(0x20)) + b'"\\'
# Placeholders by kind: a value as json.dumps writes it, when it needs no escaping.
_MARKER = b"\x01"
_PLACE = {"string": '"%s"', "uuid": '"%s"', "datetime": '"%s+00:00"', "integer": "%d", "json": "%.0s\x01"}


def stream(connection: Connection, query, raw: bool = False) -> Iterator[tuple]:
    """psycopg's chunked streaming of plain binary tuples: several times faster than a server-side
    cursor through SQLAlchemy's result rows. It runs in the connection's own transaction. `raw`: text
    as the UTF-8 bytes it arrives in, for a document that is hashed as bytes anyway."""
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    with connection.connection.driver_connection.cursor(binary=True) as cursor:
        if raw:
            for name in ("text", "varchar"):
                cursor.adapters.register_loader(name, ByteaBinaryLoader)
        yield from cursor.stream(str(compiled), compiled.params, size=FETCH)


def _specials(data: bytes) -> int:
    return len(data) - len(data.translate(None, _SPECIAL))


def _escaped(value):
    return encode_basestring(value.decode())[1:-1].encode() if isinstance(value, bytes) else value


class Template(NamedTuple):
    """The %-template of one shape of row (which values are NULL, how many persons)."""

    text: bytes
    special: int  # special bytes in its literal text, markers included
    json: tuple[int, ...]  # the JSON columns that are not NULL, whose markers are replaced in order


class Leaves:
    """Computes leaves for one table layout; `kind` and `canonical_json` are the reference's own."""

    def __init__(self, events: Table, persons: Table, columns: list[Column], kind: Callable[[Column], str],
                 canonical_json: Callable[[str], str]):
        self.events, self.persons, self.canonical_json = events, persons, canonical_json
        fields = sorted([(c.name, kind(c), c) for c in columns] + [("persons", "persons", persons.c.pseudonym)],
                        key=lambda field: field[0])
        self.names = [name for name, _, _ in fields]
        self.kinds = [kind_ for _, kind_, _ in fields]
        self.selected = [self._expression(kind_, column) for _, kind_, column in fields]
        self.seq, self.person = self.names.index("seq"), self.names.index("persons")
        self.json = [i for i, kind_ in enumerate(self.kinds) if kind_ == "json"]
        self.templates: dict = {}

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
        query = select(p.event_seq, p.pseudonym).where(p.event_seq.in_(seqs)).order_by(p.event_seq, p.pseudonym)
        persons: dict[int, list[bytes]] = {seq: [] for seq in seqs}
        for seq, name in stream(connection, query, raw=True):
            persons[seq].append(name)
        return persons

    def _template(self, nulls: tuple[int, ...], persons: int) -> Template:
        parts = []
        for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            if i in nulls:  # %.0a consumes the None and writes nothing
                value = ("[]" if kind == "persons" else "null") + "%.0a"
            elif kind == "persons":
                value = "[" + ",".join(['"%s"'] * persons) + "]"
            else:
                value = _PLACE[kind]
            parts.append(("{" if i == 0 else ",") + encode_basestring(name).replace("%", "%%") + ":" + value)
        text = ("\x00" + "".join(parts) + "}").encode()  # with the leaf prefix: one concatenation less per row
        return Template(text, _specials(text), tuple(i for i in self.json if i not in nulls))

    def _shape(self, row: tuple, persons: int) -> Template:
        nulls = row.count(None)  # most rows have none or one NULL: find those without a Python loop
        if nulls == 0:
            where: tuple[int, ...] = ()
        elif nulls == 1:
            where = (row.index(None),)
        else:
            where = tuple(i for i, v in enumerate(row) if v is None)
        template = self.templates.get((where, persons))
        if template is None:
            template = self.templates[where, persons] = self._template(where, persons)
        return template

    def _json(self, raw: bytes, cache: dict) -> tuple[bytes, int]:
        """A JSON column canonicalised, once per distinct text in a range (events repeat their details)."""
        found = cache.get(raw)
        if found is None:
            text = self.canonical_json(raw.decode()).encode()
            found = cache[raw] = (text, _specials(text))
        return found

    def _document(self, template: Template, values: tuple, row: tuple, cache: dict) -> tuple[bytes, int]:
        """The document from `values`, and the special bytes it holds if no value holds one.

        The template drops each JSON column's stored text (%.0s) and writes a marker, which is then
        replaced by the canonical text. The marker is a special byte itself, so a value holding one
        can only make the count wrong, whichever marker is replaced."""
        document, special = template.text % values, template.special
        for i in template.json:
            text, count = self._json(row[i], cache)
            document = document.replace(_MARKER, text, 1)
            special += count - 1
        return document, special

    def leaf(self, row: tuple, names: list[bytes] | None, cache: dict) -> bytes:
        """The leaf of one row; `names` are all its persons when there are several (one row each)."""
        template = self._shape(row, len(names) if names else 1)
        if names:
            row = row[:self.person] + tuple(names) + row[self.person + 1:]
        document, special = self._document(template, row, row, cache)
        if _specials(document) != special:
            document = self._document(template, tuple(map(_escaped, row)), row, cache)[0]
        return hashlib.sha256(document).digest()

    def leaves(self, connection: Connection, after: int, until: int) -> list[bytes]:
        """The leaf hashes of the events with after < seq <= until, in order."""
        hashes: list[bytes] = []
        cache: dict = {}
        several: dict[int, tuple] = {}  # an event with several persons (a row each): its index and first row
        last = None
        for row in stream(connection, self._query(after, until), raw=True):
            if row[self.seq] == last:
                several[len(hashes) - 1] = previous
                continue
            last, previous = row[self.seq], row
            hashes.append(self.leaf(row, None, cache))
        if several:
            persons = self._persons_of(connection, [row[self.seq] for row in several.values()])
            for index, row in several.items():
                hashes[index] = self.leaf(row, persons[row[self.seq]], cache)
        return hashes
