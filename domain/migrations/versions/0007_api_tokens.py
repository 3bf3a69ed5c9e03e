"""API tokens: a name, a scope and the SHA-256 of the token, never the token itself

Revision ID: 0007
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_token',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('scope', sa.String(8), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(100), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(100), nullable=True),
        sa.UniqueConstraint('name', name='uq_api_token_name'),
        sa.UniqueConstraint('token_hash', name='uq_api_token_hash'),
    )


def downgrade() -> None:
    op.drop_table('api_token')
