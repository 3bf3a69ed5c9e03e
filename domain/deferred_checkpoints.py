"""Balances and checkpoints a long import adds once, at its end (PostgreSQL).

The entry trigger adds each statement's entries to their partners' balances and checkpoints. In one
transaction PostgreSQL keeps every version of a row it rewrites until the transaction ends, so an
import of millions of entries, thousands of statements, left each partner and checkpoint row
rewritten thousands of times over, and slowed as it went. Once an import has added
`deferred_indexes.LONG_IMPORT_ENTRIES`, its transaction sets `payouts.defer_checkpoints` (migration
0018): the trigger then only copies each statement's entries to a temporary table, and `apply` adds
them all by the trigger's own statements before the import commits. Other connections never see the
import's entries before that commit, so they never see the balances without them either.

SQLite updates its rows in place, and is left alone.
"""

from __future__ import annotations

from sqlalchemy import Connection

from domain import deferred_indexes

_CREATE = ("CREATE TEMPORARY TABLE deferred_entries (partner_id BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, "
           "amount BIGINT NOT NULL, effective_date DATE NOT NULL) ON COMMIT DROP")


class DeferredCheckpoints:
    """Defers the trigger's work once an import is long enough; `apply` does it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.applies = connection.dialect.name == "postgresql"
        self.deferred = False

    def added(self, entries: int) -> None:
        """The import has added `entries` so far: past the threshold, later statements are deferred."""
        if not self.applies or self.deferred or entries < deferred_indexes.LONG_IMPORT_ENTRIES:
            return
        self.connection.exec_driver_sql(_CREATE)
        self.connection.exec_driver_sql("SET LOCAL payouts.defer_checkpoints = 'on'")
        self.deferred = True

    def apply(self) -> None:
        """Every deferred entry added to its partner's balance and checkpoints, as the trigger would."""
        if not self.deferred:
            return
        self.connection.exec_driver_sql("SET LOCAL payouts.defer_checkpoints = 'off'")
        self.connection.exec_driver_sql("SELECT entry_apply_deferred()")
        self.deferred = False
