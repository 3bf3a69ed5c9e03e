"""failed payments: a posted batch line can be marked failed, with who, when and why (SPEC §10)

Revision ID: 0010
Revises: 0009

Lines of batches posted before this revision have none of these set: they read as paid.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('batch_line', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('batch_line', sa.Column('failed_by', sa.String(100), nullable=True))
    op.add_column('batch_line', sa.Column('fail_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    """Plain ALTER TABLE DROP COLUMN, as 0005 does; the reversing entries stay in the ledger."""
    op.drop_column('batch_line', 'fail_reason')
    op.drop_column('batch_line', 'failed_by')
    op.drop_column('batch_line', 'failed_at')
