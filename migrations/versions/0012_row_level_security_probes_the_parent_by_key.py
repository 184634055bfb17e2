"""Row-level security on a table that hangs on another: the parent probed by its key, row by row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:19:45.000000

Migration 0009 shows a row of such a table (an action, an information item, an agenda item...) where
`EXISTS (SELECT 1 FROM <parent> ...)` finds its parent in sight. PostgreSQL may run an EXISTS as a hashed
subplan: it reads every parent row in scope once, for each statement, whenever it expects the scan to
check more than a few rows. A page of ten actions then read every case of the tenant
(tests/test_query_plans.py). A scalar subquery is never hashed: it costs one probe of the parent's
index per row the scan checks, and a page checks few. The condition is the same: the row is seen, and
may be written, only where its parent is, as that parent's own policy decides.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (its parent as migration 0009 names it, the parent's key, the table's column that holds it)
PARENTS = {
    "case_members": ("cases c", "c.id", "case_id"),
    "case_history": ("cases c", "c.id", "case_id"),
    "information_items": ("cases c", "c.id", "case_id"),
    "item_shares": ("information_items i", "i.item_id", "item_id"),
    "closure_proposals": ("cases c", "c.id", "case_id"),
    "actions": ("cases c", "c.id", "case_id"),
    "emergency_accesses": ("cases c", "c.id", "case_id"),
    "meeting_attendees": ("meetings m", "m.id", "meeting_id"),
    "agenda_items": ("meetings m", "m.id", "meeting_id"),
    "agenda_addenda": ("agenda_items a", "a.id", "agenda_item_id"),
    "referral_items": ("referrals r", "r.id", "referral_id"),
}
AUDIT_PARENTS = {"audit_event_persons": ("audit_events e", "e.seq", "event_seq")}


def _probe(table: str, parent: str, key: str, column: str) -> str:
    # LIMIT 1: an item's versions share its item_id; one in sight is enough, as for the EXISTS.
    return f"coalesce((SELECT true FROM {parent} WHERE {key} = {table}.{column} LIMIT 1), false)"


def _exists(table: str, parent: str, key: str, column: str) -> str:
    return f"EXISTS (SELECT 1 FROM {parent} WHERE {key} = {table}.{column})"


def _set(condition) -> None:
    for table, parent in PARENTS.items():
        visible = condition(table, *parent)
        op.execute(f"ALTER POLICY tenant ON {table} USING ({visible}) WITH CHECK ({visible})")
    for table, parent in AUDIT_PARENTS.items():
        visible = condition(table, *parent)
        op.execute(f"ALTER POLICY tenant_reads ON {table} USING ({visible})")
        op.execute(f"ALTER POLICY tenant_retention ON {table} USING ({visible})")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set(_probe)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set(_exists)
