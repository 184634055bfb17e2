"""Row-level security reads the transaction's scope once per statement, not once per row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 18:45:00.000000

Migration 0009's condition `casusregister_in_scope(municipality_id)` is inlined into every policy and
evaluated per row checked: it reads the setting, splits it and casts it to uuids each time. A statement
over a whole municipality paid that on every row: the year of statistics at the scale bench's full size
(170,749 signals) took 615 ms as the application's role, 398 ms without row-level security. The scope
and whether it is everything now come from uncorrelated scalar subqueries, which PostgreSQL evaluates
once per statement (InitPlans); per row is left a comparison with an array: 390-413 ms. A function
cannot hold them (a function with a subquery is not inlined, and then runs per row: 1.3 s), so every
policy names them itself. What is visible is unchanged: `*` everything, an empty or missing setting
nothing, else the listed municipalities.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION casusregister_everywhere() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('casusregister.municipalities', true) = '*', false)
$$;
CREATE FUNCTION casusregister_scope() RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT CASE current_setting('casusregister.municipalities', true)
        WHEN '*' THEN NULL
        WHEN '' THEN '{}'::uuid[]
        ELSE string_to_array(current_setting('casusregister.municipalities', true), ',')::uuid[]
    END
$$
"""
IN_SCOPE = """
CREATE FUNCTION casusregister_in_scope(municipality uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE current_setting('casusregister.municipalities', true)
        WHEN '*' THEN true
        WHEN '' THEN false
        ELSE municipality = ANY (string_to_array(current_setting('casusregister.municipalities', true), ',')::uuid[])
    END
$$
"""
ONCE = ("((SELECT casusregister_everywhere()) "
        "OR municipality_id = ANY ((SELECT casusregister_scope())::uuid[]))")
PER_ROW = "casusregister_in_scope(municipality_id)"
TABLES = {"persons": "{}", "signals": "{}", "cases": "{}", "meetings": "{}", "referrals": "{}",
          "idempotency_records": "municipality_id IS NULL OR {}"}
AUDIT = ("audit_events",)


def _set(tenant: str) -> None:
    for table, condition in TABLES.items():
        visible = condition.format(tenant)
        op.execute(f"ALTER POLICY tenant ON {table} USING ({visible}) WITH CHECK ({visible})")
    for table in AUDIT:
        op.execute(f"ALTER POLICY tenant_reads ON {table} USING ({tenant})")
        op.execute(f"ALTER POLICY tenant_retention ON {table} USING ({tenant})")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)
        _set(ONCE)
        op.execute("DROP FUNCTION casusregister_in_scope(uuid)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(IN_SCOPE)
        _set(PER_ROW)
        op.execute("DROP FUNCTION casusregister_everywhere()")
        op.execute("DROP FUNCTION casusregister_scope()")
