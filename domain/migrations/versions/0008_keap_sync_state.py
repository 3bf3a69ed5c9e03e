"""Keap sync state: the last successful sync and the checkpoints of one under way

Revision ID: 0008
Revises: 0007

`sync_state`, one row per source (`keap`): when the last sync succeeded and up to which instant it
read (the next sync starts there, less the overlap), and, while a sync is under way or was
interrupted, its window and the last affiliate whose entries were written. `sync_page`: the pages
that sync has read of the lists it needs whole (affiliates, contacts, commissions), each with
where the next page starts, so a rerun continues after the last page read. Both are cleared when
the sync succeeds.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False, unique=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_until", sa.DateTime(timezone=True)),
        sa.Column("run_since", sa.DateTime(timezone=True)),
        sa.Column("run_until", sa.DateTime(timezone=True)),
        sa.Column("run_started_at", sa.DateTime(timezone=True)),
        sa.Column("run_done_through", sa.String(64)),
        sa.Column("run_counts", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


    op.create_table(
        "sync_page",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("next_token", sa.String(500)),
        sa.Column("records", sa.Text(), nullable=False),
        sa.UniqueConstraint("source", "phase", "number", name="uq_sync_page_source_phase_number"),
    )


def downgrade() -> None:
    op.drop_table("sync_page")
    op.drop_table("sync_state")
