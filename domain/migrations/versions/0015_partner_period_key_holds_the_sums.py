"""partner_period's key index carries the sums on PostgreSQL (INCLUDE)

Revision ID: 0015
Revises: 0014

A report reads one month's or year's checkpoint of every partner. On PostgreSQL the heap rows of a
month lie scattered over the whole table (upserts put each new version wherever there is room), so
the lookup read most of the table's pages: 0.74 s of a 100,000-partner month report's query. With
the sums in the key index's leaves the same rows come from an index-only scan of a few hundred
pages: the query took 0.25 s. Updates of the sums already moved each row version off its full page,
so the wider index cost posting nothing measurable. SQLite's table is its key's tree already (0014).
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

KEY = "PRIMARY KEY (months, start, partner_id)"


def _key(definition: str) -> None:
    op.execute(f"ALTER TABLE partner_period DROP CONSTRAINT partner_period_pkey, "
               f"ADD CONSTRAINT partner_period_pkey {definition}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _key(f"{KEY} INCLUDE (commissions, clawbacks, payments)")
        op.execute("ANALYZE partner_period")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _key(KEY)
