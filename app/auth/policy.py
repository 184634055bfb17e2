"""Access policies: who may know which rows of a kind of personal data, in which view, and the audit of it.

A policy is a list of rules. A rule is one relationship a caller can have with a row (the municipality
runs the case; the caller's organisation takes part in it; the caller broke the glass): which callers
can have it, the SQL that tells whether a row stands in it, and the view it grants. From that one list
come, for single reads and lists alike:

- the scope: the rules that apply to the caller, or'ed into the WHERE clause; a caller to whom no rule
  applies sees nothing and is refused;
- the view: per row, the view of the first rule in the list's order that the row stands in;
- the audit: a load writes one event naming the persons of exactly the rows it returns, with the
  outcome `emergency` where a rule marks break-the-glass. What the caller may not know of answers 404,
  audited as denied with the persons it aimed at, as far as the caller's own tenant holds them.

Every statement a policy runs is inside its guard context (app.auth.guard). Each resource's policy is
one module in app/auth/policies/.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select, union, update
from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth import guard
from app.auth.principal import Principal, forbidden
from app.config import Settings
from app.errors import ApiError, not_found
from app.models.audit import Operation
from app.models.base import utcnow
from app.pagination import PageParams, keyset, split


@dataclass(frozen=True)
class Viewer:
    """Who asks, under which settings, and when: what a rule's SQL depends on."""

    principal: Principal
    settings: Settings
    now: datetime

    @classmethod
    def of(cls, auditor: Auditor) -> "Viewer":
        return cls(auditor.principal, auditor.settings, utcnow())


@dataclass(frozen=True)
class Rule:
    name: str
    view: str
    applies: Callable[[Principal], bool]
    where: Callable[[Viewer], ColumnElement[bool]]
    emergency: bool = False  # accesses through it are marked for the privacy officer's review
    reads: bool = True  # False: the relationship lets the caller change the row, never read it
    activity: str | None = None  # the processing activity of accesses through it, if not the policy's


@dataclass(frozen=True)
class Found:
    """A row the caller may know of, and the rules that let it through, the first deciding the view."""

    row: Row
    rules: tuple[Rule, ...]

    @property
    def rule(self) -> Rule:
        return self.rules[0]

    @property
    def view(self) -> str:
        return self.rule.view

    def through(self, names: Iterable[str]) -> bool:
        """Whether the caller stands in one of these relationships with the row."""
        return any(rule.name in set(names) for rule in self.rules)


def _first_id(row: Row) -> Any:
    return row[0].id


class Policy:
    """`query` selects the resource's entity first (then what its views need); `pseudonyms` and
    `municipality` read a row's persons and tenant, `key` its id; `id` and `order` are the columns
    single reads and keyset pages select on."""

    def __init__(self, resource: str, activity: str, rules: Sequence[Rule], query: Select, *, id: Any,
                 order: tuple[Any, Any], pseudonyms: Callable[[Row], list[str]],
                 municipality: Callable[[Row], uuid.UUID], key: Callable[[Row], Any] = _first_id,
                 activity_of: Callable[[Row], str] | None = None) -> None:
        self.resource, self.activity, self.rules, self.query = resource, activity, tuple(rules), query
        self.activity_of = activity_of  # where the row, not the relationship, decides the processing activity
        self.id, self.order, self.pseudonyms, self.municipality, self.key = id, order, pseudonyms, municipality, key
        self.entity = query.column_descriptions[0]["entity"]

    @contextmanager
    def context(self) -> Iterator[None]:
        with guard.access(f"{self.resource} policy"):
            yield

    def rules_for(self, principal: Principal, reading: bool = True, only: Iterable[str] | None = None) -> list[Rule]:
        """The rules that apply to the caller (`only`: of these relationships)."""
        return [r for r in self.rules if r.applies(principal) and (r.reads or not reading)
                and (only is None or r.name in only)]

    def scoped(self, viewer: Viewer, reading: bool = True,
               only: Iterable[str] | None = None) -> tuple[Select, list[Rule]] | None:
        """The query of the rows the viewer may know of, with a flag per rule; None if no rule applies."""
        rules = self.rules_for(viewer.principal, reading, only)
        if not rules:
            return None
        return self._flagged(viewer, rules).where(or_(*(rule.where(viewer) for rule in rules))), rules

    def _flagged(self, viewer: Viewer, rules: list[Rule]) -> Select:
        """The query with, where more than one rule applies, a column per rule: whether the row stands in it."""
        if len(rules) == 1:
            return self.query
        return self.query.add_columns(*(rule.where(viewer).label(f"rule_{i}") for i, rule in enumerate(rules)))

    def _found(self, row: Row, rules: list[Rule]) -> Found:
        if len(rules) == 1:
            return Found(row, (rules[0],))
        flags = row[-len(rules):]
        return Found(row, tuple(rule for rule, flag in zip(rules, flags, strict=True) if flag))

    def find(self, session: Session, viewer: Viewer, *conditions, reading: bool = True, lock: bool = False,
             only: Iterable[str] | None = None) -> list[Found]:
        """Every visible row that meets `conditions` (no paging: for the few rows of one parent); `only`:
        through these relationships."""
        scoped = self.scoped(viewer, reading, only)
        if scoped is None:
            return []
        query, rules = scoped
        query = query.where(*conditions)
        with self.context():
            rows = session.execute(query.with_for_update(of=self.entity) if lock else query).all()
        return [self._found(row, rules) for row in rows]

    def aimed_at(self, session: Session, principal: Principal, id: Any) -> tuple[list[str], uuid.UUID | None]:
        """For a denial: whose data the attempt aimed at and its tenant, if the caller's own tenant holds
        the row; nothing of another municipality (row-level security would hide it on PostgreSQL too)."""
        with self.context():
            row = session.execute(self.query.where(self.id == id)).first()
        if row is None or self.municipality(row) not in principal.municipalities:
            return [], None
        return self.pseudonyms(row), self.municipality(row)

    def deny(self, auditor: Auditor, operation: Operation, id: Any, detail: dict | None = None) -> None:
        persons, municipality = ([], None) if id is None else self.aimed_at(auditor.session, auditor.principal, id)
        auditor.denied(operation, self.resource, id, persons, self.activity, detail, municipality_id=municipality)

    def load(self, auditor: Auditor, id: Any, operation: Operation = Operation.read, *, reading: bool = True,
             lock: bool = False, detail: dict | None = None) -> Found:
        """The row, audited as read; 404 (the `operation` audited as denied) when the caller may not know of it."""
        found = self.find(auditor.session, Viewer.of(auditor), self.id == id, reading=reading, lock=lock)
        if not found:
            self.deny(auditor, operation, id)
            raise not_found()
        self.allow(auditor, Operation.read, id, found, detail)
        return found[0]

    def load_to_change(self, auditor: Auditor, id: Any, rules: Iterable[str], refusal: str,
                       operation: Operation = Operation.update) -> Found:
        """The row, locked until the transaction ends (PostgreSQL), for a caller whose relationship to it
        allows the change; 403 for one who may know of it otherwise, 404 for the rest."""
        found = self.load(auditor, id, operation, lock=True)
        self.require(auditor, found, rules, operation, refusal)
        return found

    def activity_for(self, found: Found) -> str:
        """The processing activity an access to the row is part of."""
        if self.activity_of is not None:
            return self.activity_of(found.row)
        return found.rule.activity or self.activity

    def allow(self, auditor: Auditor, operation: Operation, id: Any, found: list[Found],
              detail: dict | None = None) -> None:
        """One event per municipality the rows belong to and processing activity (most requests: one),
        with their persons; a list's event names its own rows."""
        for (municipality, activity), rows in _grouped(self, found).items():
            auditor.acting_for = municipality
            views = sorted({f.view for f in rows})
            listed = {} if operation != Operation.list else {"count": len(rows),
                                                               "ids": [str(self.key(f.row)) for f in rows]}
            auditor.allowed(operation, self.resource, id, [p for f in rows for p in self.pseudonyms(f.row)], activity,
                            {"view": views[0] if len(views) == 1 else views} | listed | (detail or {}),
                            emergency=any(f.rule.emergency for f in rows), municipality_id=municipality)

    def page(self, auditor: Auditor, page: PageParams, *conditions, detail: dict | None = None,
             refusal: str = "Your role gives no access to these records.") -> tuple[list[Found], bool]:
        """One page of the visible rows, newest first, and whether more follow; audited as one list."""
        if not self.rules_for(auditor.principal):
            auditor.denied(Operation.list, self.resource, None, [], self.activity, detail)
            raise forbidden(refusal)
        found, more = self.find_page(auditor.session, Viewer.of(auditor), page, *conditions)
        if found:
            self.allow(auditor, Operation.list, None, found, detail)
        else:
            auditor.allowed(Operation.list, self.resource, None, [], self.activity,
                            {"count": 0, "ids": []} | (detail or {}))
        return found, more

    def find_page(self, session: Session, viewer: Viewer, page: PageParams, *conditions,
                  newest_first: bool = True) -> tuple[list[Found], bool]:
        """One page of the visible rows that meet `conditions` (in `order`), and whether more follow; not
        audited: the caller audits what it shows."""
        rules = self.rules_for(viewer.principal)
        if not rules:
            return [], False
        if len(rules) == 1:
            query = self.query.where(rules[0].where(viewer))
        else:
            # Only the ids of the branches: each met its rule already, and an OR of the rules here again
            # would have PostgreSQL check every row of the table against it (a sequential scan) before
            # joining them.
            query = self._flagged(viewer, rules).where(
                self.id.in_(self._page_ids(viewer, rules, page, conditions, newest_first)))
        with self.context():
            rows = session.execute(keyset(query.where(*conditions), page, *self.order, newest_first)).all()
        found, more = split(rows, page)
        return [self._found(row, rules) for row in found], more

    def _page_ids(self, viewer: Viewer, rules: list[Rule], page: PageParams, conditions: tuple,
                  newest_first: bool) -> Select:
        """The ids a page can hold: one branch per relationship, each a page long in the page's order. An OR
        of the relationships defeats the indexes (PostgreSQL then reads and sorts every row of the table);
        each branch alone is served by its own index, and the union is at most a page per branch."""
        ids = self.query.with_only_columns(self.id)
        branches = [keyset(ids.where(rule.where(viewer), *conditions), page, *self.order, newest_first).subquery()
                    for rule in rules]
        return union(*(select(branch.c[0]) for branch in branches))

    def save(self, session: Session, id: Any, version: int, values: dict[str, Any], stale: str) -> None:
        """The change, only if the row is still at `version`: If-Match is compared in the statement that
        writes, so of two writers holding the same ETag exactly one wins (the other: 412)."""
        statement = (update(self.entity).where(self.id == id, self.entity.version == version)
                     .values(**values, version=version + 1).execution_options(synchronize_session="evaluate"))
        with self.context():
            if session.execute(statement).rowcount != 1:
                raise ApiError(412, stale)

    def require(self, auditor: Auditor, found: Found, rules: Iterable[str], operation: Operation,
                refusal: str) -> None:
        """403 for a caller who may know of the row but whose relationships to it do not allow this."""
        if not found.through(rules):
            auditor.denied(operation, self.resource, self.key(found.row), self.pseudonyms(found.row), self.activity,
                           {"view": found.view}, municipality_id=self.municipality(found.row))
            raise forbidden(refusal)


def _grouped(policy: Policy, found: list[Found]) -> dict[tuple[uuid.UUID, str], list[Found]]:
    grouped: dict[tuple[uuid.UUID, str], list[Found]] = {}
    for f in found:
        grouped.setdefault((policy.municipality(f.row), policy.activity_for(f)), []).append(f)
    return grouped
