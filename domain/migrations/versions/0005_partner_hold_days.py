"""hold periods: a partner's own hold in days, and what a hold kept out of each batch line

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('partner', sa.Column('hold_days', sa.Integer(), nullable=True))
    op.create_index('ix_partner_hold_days', 'partner', ['hold_days'], unique=False)
    op.add_column('batch_line', sa.Column('held', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('batch_line', sa.Column('held_until', sa.Date(), nullable=True))


def downgrade() -> None:
    """Plain ALTER TABLE DROP COLUMN: a batch copy of `partner` would lose its triggers on SQLite."""
    op.drop_column('batch_line', 'held_until')
    op.drop_column('batch_line', 'held')
    op.drop_index('ix_partner_hold_days', table_name='partner')
    op.drop_column('partner', 'hold_days')
