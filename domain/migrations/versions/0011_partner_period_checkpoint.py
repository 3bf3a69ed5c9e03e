"""partner_period: each partner's sums by kind per calendar month and year, kept by the entry trigger

Revision ID: 0011
Revises: 0009

A report over a long range summed every entry in it. With these checkpoints it reads whole years
and whole months from `partner_period` and only the partial months at the edges from `entry`, so a
range of five years costs about what a month does. The insert trigger that keeps
`partner.balance` keeps the checkpoints in the same statement; the entries already stored are
summed into them here.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SQLITE_MONTH = "substr({0}, 1, 7) || '-01'"
SQLITE_YEAR = "substr({0}, 1, 4) || '-01-01'"
POSTGRES_MONTH = "date_trunc('month', {0})::date"
POSTGRES_YEAR = "date_trunc('year', {0})::date"

SUMS = """SUM(CASE kind WHEN 'commission' THEN amount ELSE 0 END),
          SUM(CASE kind WHEN 'clawback' THEN amount ELSE 0 END),
          SUM(CASE kind WHEN 'payment' THEN amount ELSE 0 END)"""

ADD_EXCLUDED = """commissions = partner_period.commissions + excluded.commissions,
        clawbacks = partner_period.clawbacks + excluded.clawbacks,
        payments = partner_period.payments + excluded.payments"""


def _sqlite_upsert(months: int, start: str) -> str:
    """One row trigger statement: add NEW to the period of `months` that holds its date.

    SQLite needs the WHERE true between a SELECT and ON CONFLICT to parse the upsert.
    """
    return f"""INSERT INTO partner_period (months, start, partner_id, commissions, clawbacks, payments)
        SELECT {months}, {start.format('NEW.effective_date')}, NEW.partner_id,
               CASE NEW.kind WHEN 'commission' THEN NEW.amount ELSE 0 END,
               CASE NEW.kind WHEN 'clawback' THEN NEW.amount ELSE 0 END,
               CASE NEW.kind WHEN 'payment' THEN NEW.amount ELSE 0 END
        WHERE true
        ON CONFLICT (months, start, partner_id) DO UPDATE SET {ADD_EXCLUDED};"""


SQLITE_KEEP_BALANCE = """UPDATE partner
        SET balance = balance + CASE NEW.kind WHEN 'commission' THEN NEW.amount ELSE -NEW.amount END,
            turnover = turnover + abs(NEW.amount)
        WHERE id = NEW.partner_id;"""

SQLITE_BALANCE_TRIGGER_0002 = f"""CREATE TRIGGER entry_keeps_partner_balance AFTER INSERT ON entry
    BEGIN
        {SQLITE_KEEP_BALANCE}
    END"""

SQLITE_BALANCE_TRIGGER = f"""CREATE TRIGGER entry_keeps_partner_balance AFTER INSERT ON entry
    BEGIN
        {SQLITE_KEEP_BALANCE}
        {_sqlite_upsert(1, SQLITE_MONTH)}
        {_sqlite_upsert(12, SQLITE_YEAR)}
    END"""


def _grouped(source: str, month: str, year: str) -> str:
    """The month and year sums of every row of `source`, as partner_period rows."""
    return f"""SELECT 1, {month.format('effective_date')}, partner_id, {SUMS}
        FROM {source} GROUP BY {month.format('effective_date')}, partner_id
        UNION ALL
        SELECT 12, {year.format('effective_date')}, partner_id, {SUMS}
        FROM {source} GROUP BY {year.format('effective_date')}, partner_id"""


POSTGRES_KEEP_BALANCE = """UPDATE partner AS p SET balance = p.balance + d.delta, turnover = p.turnover + d.gross
        FROM (
            SELECT partner_id,
                   SUM(CASE kind WHEN 'commission' THEN amount ELSE -amount END) AS delta,
                   SUM(abs(amount)) AS gross
            FROM new_entries GROUP BY partner_id
        ) AS d
        WHERE p.id = d.partner_id;"""

POSTGRES_FUNCTION_0002 = f"""CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        {POSTGRES_KEEP_BALANCE}
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        {POSTGRES_KEEP_BALANCE}
        INSERT INTO partner_period (months, start, partner_id, commissions, clawbacks, payments)
        {_grouped('new_entries', POSTGRES_MONTH, POSTGRES_YEAR)}
        ON CONFLICT (months, start, partner_id) DO UPDATE SET {ADD_EXCLUDED};
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.create_table(
        'partner_period',
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('commissions', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('clawbacks', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('payments', sa.BigInteger(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ),
        sa.PrimaryKeyConstraint('months', 'start', 'partner_id'),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    month, year = (POSTGRES_MONTH, POSTGRES_YEAR) if postgres else (SQLITE_MONTH, SQLITE_YEAR)
    op.execute(
        "INSERT INTO partner_period (months, start, partner_id, commissions, clawbacks, payments) "
        + _grouped('entry', month, year)
    )
    if postgres:
        op.execute(POSTGRES_FUNCTION)
    else:
        op.execute("DROP TRIGGER entry_keeps_partner_balance")
        op.execute(SQLITE_BALANCE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION_0002)
    else:
        op.execute("DROP TRIGGER entry_keeps_partner_balance")
        op.execute(SQLITE_BALANCE_TRIGGER_0002)
    op.drop_table('partner_period')
