"""entry keys in the order entries arrive: (reference, kind, partner) and (date, id, …)

Revision ID: 0013
Revises: 0012

Each new entry goes into every index of `entry`, and a commit writes every index page it touched.
Two keys began with a column that scatters a batch of new entries over the whole index:

- the unique key (partner, kind, reference): a batch of 100,000 payments, one per partner, touched
  a page of it per partner. Keyed (reference, kind, partner), the payments of one batch (one
  reference) sit side by side, as do commissions whose order numbers rise as they arrive. (Kind
  first would do as well for writing, but SQLite would then read every payment through it when
  looking for batch IDs, rather than the index of payments by reference of 0012.)
- the date index (date, partner, kind, amount): a day's new entries went in among that day's
  older ones, partner by partner. Keyed (date, id, partner, kind, amount), they go in at the end
  of their day, and still carry what the reports read from it.

The key and the index serve the same lookups as before: the key is looked up by reference and
partner (with or without the kind), and the date index by a range of dates.

SQLite cannot change a table's UNIQUE clause in place, so the table is rebuilt: renamed, created
again with the new clause, filled, the old one dropped, then its indexes and triggers created again
from their stored definitions (the triggers only after the rows are copied, so that no balance or
checkpoint counts them twice). About a minute per 10,000,000 entries.
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

KEY = "uq_entry_partner_kind_reference"
DATE_INDEX = "ix_entry_date_partner"
OLD_KEY, NEW_KEY = "(partner_id, kind, reference)", "(reference, kind, partner_id)"
OLD_DATE, NEW_DATE = "(effective_date, partner_id, kind, amount)", "(effective_date, id, partner_id, kind, amount)"
SET_ASIDE = "entry_before_0013"


def _rebuild_sqlite(key_from: str, key_to: str, date_from: str, date_to: str) -> None:
    """The entry table again with its unique key and date index changed, every row, ID and trigger kept."""
    bind = op.get_bind()
    table = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entry'").scalar_one()
    dependents = bind.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'entry' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name"
    ).all()
    clause = f"CONSTRAINT {KEY} UNIQUE {key_from}"
    assert clause in table, f"entry's unique key is not {key_from}"
    op.execute(f"ALTER TABLE entry RENAME TO {SET_ASIDE}")
    op.execute(table.replace(clause, f"CONSTRAINT {KEY} UNIQUE {key_to}"))
    op.execute(f"INSERT INTO entry SELECT * FROM {SET_ASIDE}")
    op.execute(f"DROP TABLE {SET_ASIDE}")  # and its indexes and triggers with it
    for _kind, name, sql in dependents:
        op.execute(sql.replace(date_from, date_to) if name == DATE_INDEX else sql)


def _rekey_postgres(key_to: str, date_to: str) -> None:
    op.execute(f"ALTER TABLE entry DROP CONSTRAINT {KEY}")
    op.execute(f"ALTER TABLE entry ADD CONSTRAINT {KEY} UNIQUE {key_to}")
    op.execute(f"DROP INDEX {DATE_INDEX}")
    op.execute(f"CREATE INDEX {DATE_INDEX} ON entry {date_to}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rekey_postgres(NEW_KEY, NEW_DATE)
    else:
        _rebuild_sqlite(OLD_KEY, NEW_KEY, OLD_DATE, NEW_DATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rekey_postgres(OLD_KEY, OLD_DATE)
    else:
        _rebuild_sqlite(NEW_KEY, OLD_KEY, NEW_DATE, OLD_DATE)
