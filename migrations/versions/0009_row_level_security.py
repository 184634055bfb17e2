"""Row-level security on every table with personal data (PostgreSQL): the second wall behind the policies.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000

Each transaction acts for the municipalities in `casusregister.municipalities` (set by the application,
`app/auth/tenancy.py`; `*` for maintenance over the whole registry). A row of a table with a
municipality is visible, and may be written, only in scope; a row of a table that hangs on another
(a case's members, an agenda's items) only where its parent is. The policies are forced, so they hold
for the tables' owner too. The audit log may be added to in any scope (a denial is recorded whatever it
aimed at), read only in scope. SQLite has no row-level security: there the policies are the only wall.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_SCOPE = """
CREATE FUNCTION casusregister_in_scope(municipality uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE current_setting('casusregister.municipalities', true)
        WHEN '*' THEN true
        WHEN '' THEN false
        ELSE municipality = ANY (string_to_array(current_setting('casusregister.municipalities', true), ',')::uuid[])
    END
$$
"""
# table: the condition a row is visible and writable under
TENANT = "casusregister_in_scope(municipality_id)"
TABLES = {
    "persons": TENANT, "signals": TENANT, "cases": TENANT, "meetings": TENANT, "referrals": TENANT,
    "case_members": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "case_history": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "information_items": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "item_shares": "EXISTS (SELECT 1 FROM information_items i WHERE i.item_id = item_shares.item_id)",
    "closure_proposals": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "actions": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "emergency_accesses": "EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id)",
    "meeting_attendees": "EXISTS (SELECT 1 FROM meetings m WHERE m.id = meeting_id)",
    "agenda_items": "EXISTS (SELECT 1 FROM meetings m WHERE m.id = meeting_id)",
    "agenda_addenda": "EXISTS (SELECT 1 FROM agenda_items a WHERE a.id = agenda_item_id)",
    "referral_items": "EXISTS (SELECT 1 FROM referrals r WHERE r.id = referral_id)",
    # Records written before they carried a municipality (and claims in progress) hold no one's answer.
    "idempotency_records": f"municipality_id IS NULL OR {TENANT}",
}
# Appended to in any scope, read (and removed, by the owner's retention) only in scope.
AUDIT = {"audit_events": TENANT,
         "audit_event_persons": "EXISTS (SELECT 1 FROM audit_events e WHERE e.seq = event_seq)"}
# The tenant of an idempotency record written before 0008: that of the record its answer created.
BACKFILL = """
UPDATE idempotency_records r SET municipality_id = coalesce(
    (SELECT municipality_id FROM signals WHERE id = r.resource_id),
    (SELECT municipality_id FROM meetings WHERE id = r.resource_id),
    (SELECT municipality_id FROM referrals WHERE id = r.resource_id),
    (SELECT c.municipality_id FROM actions a JOIN cases c ON c.id = a.case_id WHERE a.id = r.resource_id))
WHERE municipality_id IS NULL AND resource_id IS NOT NULL
"""


def _secure(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(IN_SCOPE)
    op.execute(BACKFILL)
    for table, visible in TABLES.items():
        _secure(table)
        op.execute(f"CREATE POLICY tenant ON {table} USING ({visible}) WITH CHECK ({visible})")
    for table, visible in AUDIT.items():
        _secure(table)
        op.execute(f"CREATE POLICY tenant_reads ON {table} FOR SELECT USING ({visible})")
        op.execute(f"CREATE POLICY tenant_retention ON {table} FOR DELETE USING ({visible})")
        op.execute(f"CREATE POLICY any_adds ON {table} FOR INSERT WITH CHECK (true)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in AUDIT:
        for policy in ("tenant_reads", "tenant_retention", "any_adds"):
            op.execute(f"DROP POLICY {policy} ON {table}")
    for table in TABLES:
        op.execute(f"DROP POLICY tenant ON {table}")
    for table in [*TABLES, *AUDIT]:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION casusregister_in_scope(uuid)")
