"""partner_period stored in the order of its key (SQLite: WITHOUT ROWID)

Revision ID: 0014
Revises: 0013

On SQLite an ordinary table is kept in rowid order, and its primary key is a second tree beside it.
Every checkpoint lookup then went down two trees: the key to find the rowid, then the table to
read the sums. That happens once per partner in every report (the range's month or year) and twice
per entry written (the trigger's two upserts). Stored WITHOUT ROWID, the table is the key's tree,
with the sums in its leaves: one descent for each, and a smaller file.

The table is rebuilt: a new one filled in key order, the old one dropped, the new one renamed. The
triggers that write the checkpoints are set aside while the name changes hands and created again
from their stored text. PostgreSQL keeps every table as a heap beside its indexes and has no such
choice; nothing changes there.
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TABLE = "partner_period"
REBUILT = "partner_period_0014"
CLUSTERED = " WITHOUT ROWID"


def _rebuild_sqlite(clustered: bool) -> None:
    """partner_period again, with or without its rowid, every row kept."""
    bind = op.get_bind()
    table = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).scalar_one().rstrip()
    writers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE ? ORDER BY name", (f"%{TABLE}%",)
    ).all()
    assert table.endswith(CLUSTERED) != clustered, f"{TABLE} is already{'' if clustered else ' not'} clustered"
    columns = table[table.index("("):]
    columns = columns + CLUSTERED if clustered else columns.removesuffix(CLUSTERED)
    for name, _sql in writers:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"CREATE TABLE {REBUILT} {columns}")
    op.execute(f"INSERT INTO {REBUILT} SELECT * FROM {TABLE} ORDER BY months, start, partner_id")
    op.execute(f"DROP TABLE {TABLE}")
    op.execute(f"ALTER TABLE {REBUILT} RENAME TO {TABLE}")
    for _name, sql in writers:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(clustered=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(clustered=False)
