"""batch IDs unique without regard to case

Revision ID: 0003
Revises: 0001

A unique index on lower(batch_id), so `batch-20150703` can never stand beside `Batch-20150703`.
A database that already holds such a pair is refused with the pairs named: which of two posted
batches should give up its name is the finance team's decision, not the upgrade's.
"""
from alembic import op
import sqlalchemy as sa

from domain.db import SchemaError

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

INDEX = "uq_batch_batch_id_lower"
SHOWN = 10


def _case_duplicates() -> list[list[str]]:
    """Groups of batch IDs that differ only in case, each sorted, the groups in order."""
    rows = op.get_bind().execute(sa.text(
        "SELECT batch_id FROM batch WHERE lower(batch_id) IN "
        "(SELECT lower(batch_id) FROM batch GROUP BY lower(batch_id) HAVING COUNT(*) > 1) "
        "ORDER BY lower(batch_id), batch_id"
    )).scalars()
    groups: dict[str, list[str]] = {}
    for batch_id in rows:
        groups.setdefault(batch_id.lower(), []).append(batch_id)
    return list(groups.values())


def upgrade() -> None:
    duplicates = _case_duplicates()
    if duplicates:
        named = "; ".join(" and ".join(group) for group in duplicates[:SHOWN])
        more = f" (and {len(duplicates) - SHOWN} more)" if len(duplicates) > SHOWN else ""
        raise SchemaError(
            f"batch IDs must now be unique without regard to case, and {len(duplicates)} group(s) differ "
            f"only in case: {named}{more}. Rename all but one of each in the batch table, then run "
            "`payouts init` again; nothing was changed"
        )
    op.create_index(INDEX, "batch", [sa.text("lower(batch_id)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="batch")
