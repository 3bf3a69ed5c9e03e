"""identical active reminder schedules: at most one, by a partial unique index

Revision ID: 0009
Revises: 0008

Adding a schedule checked for an identical active one before inserting, so two additions at the
same moment on PostgreSQL could both pass the check and every reminder would go out twice. The
index makes the database refuse the second. Identical active schedules already stored are reduced
to the oldest: the others are removed (soft, as `/payout remind remove` does), naming the one kept.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEX = "uq_reminder_schedule_active"
COLUMNS = ["frequency", "day", "at_time", "channel", "range_expression"]
ACTIVE = sa.text("removed_at IS NULL")


def _remove_repeats() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        f"SELECT id, {', '.join(COLUMNS)} FROM reminder_schedule WHERE removed_at IS NULL ORDER BY id"
    )).all()
    kept: dict[tuple, int] = {}
    now = datetime.now(UTC)
    for row in rows:
        key = tuple(row[1:])
        if key not in kept:
            kept[key] = row[0]
            continue
        connection.execute(
            sa.text("UPDATE reminder_schedule SET removed_at = :now, removed_by = :by WHERE id = :id"),
            {"now": now, "by": f"payouts init: same as reminder {kept[key]}", "id": row[0]},
        )


def upgrade() -> None:
    _remove_repeats()
    op.create_index(INDEX, "reminder_schedule", COLUMNS, unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="reminder_schedule")
