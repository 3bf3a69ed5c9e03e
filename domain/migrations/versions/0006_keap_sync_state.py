"""Keap sync state: the last successful sync and the checkpoint of one under way

Revision ID: 0006
Revises: 0003

One row per source (`keap`): when the last sync succeeded and up to which instant it read (the
next sync starts there, less the overlap), and, while a sync is under way or was interrupted, its
window and the last affiliate whose entries were written, so a rerun continues after it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0003'
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


def downgrade() -> None:
    op.drop_table("sync_state")
