"""partner turnover: the sum of the absolute amounts of a partner's entries, bounded

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# domain.limits.DATABASE_PARTNER_LIMIT, written out: a migration must not change when the code does.
LIMIT = 2 * 10**18

SQLITE_UPGRADE = (
    "DROP TRIGGER entry_keeps_partner_balance",
    """CREATE TRIGGER entry_keeps_partner_balance AFTER INSERT ON entry
    BEGIN
        UPDATE partner
        SET balance = balance + CASE NEW.kind WHEN 'commission' THEN NEW.amount ELSE -NEW.amount END,
            turnover = turnover + abs(NEW.amount)
        WHERE id = NEW.partner_id;
    END""",
    f"""CREATE TRIGGER partner_turnover_is_bounded BEFORE UPDATE OF turnover ON partner
    WHEN NEW.turnover > {LIMIT} OR typeof(NEW.turnover) != 'integer' OR typeof(NEW.balance) != 'integer'
    BEGIN SELECT RAISE(ABORT, 'partner turnover out of range'); END""",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER partner_turnover_is_bounded",
    "DROP TRIGGER entry_keeps_partner_balance",
    """CREATE TRIGGER entry_keeps_partner_balance AFTER INSERT ON entry
    BEGIN
        UPDATE partner
        SET balance = balance + CASE NEW.kind WHEN 'commission' THEN NEW.amount ELSE -NEW.amount END
        WHERE id = NEW.partner_id;
    END""",
)

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        UPDATE partner AS p SET balance = p.balance + d.delta, turnover = p.turnover + d.gross
        FROM (
            SELECT partner_id,
                   SUM(CASE kind WHEN 'commission' THEN amount ELSE -amount END) AS delta,
                   SUM(abs(amount)) AS gross
            FROM new_entries GROUP BY partner_id
        ) AS d
        WHERE p.id = d.partner_id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

POSTGRES_DOWNGRADE_FUNCTION = """CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        UPDATE partner AS p SET balance = p.balance + d.delta
        FROM (
            SELECT partner_id,
                   SUM(CASE kind WHEN 'commission' THEN amount ELSE -amount END) AS delta
            FROM new_entries GROUP BY partner_id
        ) AS d
        WHERE p.id = d.partner_id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.add_column('partner', sa.Column('turnover', sa.BigInteger(), server_default='0', nullable=False))
    op.execute(
        "UPDATE partner SET turnover = "
        "(SELECT COALESCE(SUM(abs(amount)), 0) FROM entry WHERE entry.partner_id = partner.id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.create_check_constraint('partner_turnover_is_bounded', 'partner', f'turnover <= {LIMIT}')
    else:
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('partner_turnover_is_bounded', 'partner', type_='check')
        op.execute(POSTGRES_DOWNGRADE_FUNCTION)
    else:
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_column('turnover')
