"""partner payout details: method, entity, postal address and encrypted bank details

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COLUMNS = (
    ('payout_method', sa.String(16)),
    ('entity', sa.String(16)),
    ('address_line1', sa.String(200)),
    ('city', sa.String(100)),
    ('state', sa.String(100)),
    ('postcode', sa.String(20)),
    ('country', sa.String(2)),
    ('bank_details', sa.Text()),
    ('bank_mask', sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table('partner', schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partner', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
