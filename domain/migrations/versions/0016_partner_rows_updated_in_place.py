"""On PostgreSQL, partner rows leave room for the trigger's updates, and the checkpoints refer to
partners through their entries only

Revision ID: 0016
Revises: 0015

Every statement that adds entries updates their partners' balances and adds to their checkpoints
(the statement trigger of 0011). Posting 100,000 payments updated 100,000 partner rows on full
pages, so each new row version went to another page and into all three of the table's indexes
(1.5–1.7 s in `psql`): with half of each page left free (fillfactor 50) the versions stay on their
page and no index changes (0.5–0.7 s). The table is rewritten so that its pages have that room;
100,000 partners take 26 MB instead of 13.

A new month's checkpoint row was checked against `partner` like any foreign key, one lookup and
one row lock per row (0.7–1.7 s of 100,000). Checkpoints are written by the trigger alone, from
entries whose own foreign key names the partner, and a partner with entries can never be deleted,
so the constraint could never fail. SQLite keeps it: dropping it there rebuilds the table, and its
check is one lookup without a lock.
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CHECKPOINT_PARTNER = "partner_period_partner_id_fkey"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(CHECKPOINT_PARTNER, "partner_period", type_="foreignkey")
        op.execute("ALTER TABLE partner SET (fillfactor = 50)")
        op.execute("CLUSTER partner USING partner_pkey")  # rewritten with the room; CLUSTER may run in a transaction
        op.execute("ANALYZE partner")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE partner RESET (fillfactor)")
        op.execute("ALTER TABLE partner SET WITHOUT CLUSTER")
        op.create_foreign_key(CHECKPOINT_PARTNER, "partner_period", "partner", ["partner_id"], ["id"])
