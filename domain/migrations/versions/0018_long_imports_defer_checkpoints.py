"""On PostgreSQL, a long import adds its entries to balances and checkpoints once, at its end

Revision ID: 0018
Revises: 0017

The statement trigger of 0011 adds each statement's entries to their partners' balances and to
their month and year checkpoints. An import of 10,000,000 entries is 2,000 statements in one
transaction, and PostgreSQL keeps every version of a row that transaction updates until it ends:
each partner row and checkpoint row was rewritten once per statement that touched it, the versions
piled up in the tables and their indexes, and the import slowed as it went (it had not finished
after 15 minutes).

With `payouts.defer_checkpoints` set to `on` in its transaction (domain.deferred_checkpoints sets it
once an import is long), the trigger only copies the statement's entries to the transaction's
temporary table `deferred_entries`; `entry_apply_deferred()` then adds them all at once, by the
same statements the trigger runs. SQLite updates its rows in place and is unchanged.
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SUMS = """SUM(CASE kind WHEN 'commission' THEN amount ELSE 0 END),
          SUM(CASE kind WHEN 'clawback' THEN amount ELSE 0 END),
          SUM(CASE kind WHEN 'payment' THEN amount ELSE 0 END)"""

MONTH = "date_trunc('month', effective_date)::date"
YEAR = "date_trunc('year', effective_date)::date"


def _kept(source: str) -> str:
    """The trigger's statements over the entries of `source`: the balances, then the checkpoints."""
    return f"""UPDATE partner AS p SET balance = p.balance + d.delta, turnover = p.turnover + d.gross
        FROM (
            SELECT partner_id,
                   SUM(CASE kind WHEN 'commission' THEN amount ELSE -amount END) AS delta,
                   SUM(abs(amount)) AS gross
            FROM {source} GROUP BY partner_id
        ) AS d
        WHERE p.id = d.partner_id;
        INSERT INTO partner_period (months, start, partner_id, commissions, clawbacks, payments)
        SELECT 1, {MONTH}, partner_id, {SUMS}
        FROM {source} GROUP BY {MONTH}, partner_id
        UNION ALL
        SELECT 12, {YEAR}, partner_id, {SUMS}
        FROM {source} GROUP BY {YEAR}, partner_id
        ON CONFLICT (months, start, partner_id) DO UPDATE SET
        commissions = partner_period.commissions + excluded.commissions,
        clawbacks = partner_period.clawbacks + excluded.clawbacks,
        payments = partner_period.payments + excluded.payments;"""


FUNCTION_0011 = f"""CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        {_kept('new_entries')}
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

FUNCTION = f"""CREATE OR REPLACE FUNCTION entry_keeps_partner_balance() RETURNS trigger AS $$
    BEGIN
        IF current_setting('payouts.defer_checkpoints', true) = 'on' THEN
            INSERT INTO deferred_entries (partner_id, kind, amount, effective_date)
            SELECT partner_id, kind, amount, effective_date FROM new_entries;
            RETURN NULL;
        END IF;
        {_kept('new_entries')}
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""

APPLY = f"""CREATE OR REPLACE FUNCTION entry_apply_deferred() RETURNS void AS $$
    BEGIN
        {_kept('deferred_entries')}
        TRUNCATE deferred_entries;
    END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(APPLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION entry_apply_deferred()")
        op.execute(FUNCTION_0011)
