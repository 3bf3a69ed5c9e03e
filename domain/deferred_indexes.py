"""The entry indexes a long import builds once, sorted, instead of row by row (SQLite).

An entry goes into the (partner, date) index at its partner's place, and the (date, id) index at
its date's: in a file of millions of rows those places are all over indexes far larger than the page
cache, so each row costs reads and writes of pages no neighbour shares. Built after the rows are in,
an index is one sort. Once an import has added as many entries as the ledger held before it (and at
least `LONG_IMPORT_ENTRIES`), the two indexes are dropped inside its transaction and created again
before it commits. At worst, an import that ends right there has built them over twice its rows;
ten million entries into an empty ledger went from 591 s to 374 s. The sorts spill to files, as every
write transaction's do (domain.db). A refused import rolls the drop back with the rows, and other
connections read the ledger as it was, indexes included, until the commit.

PostgreSQL is left alone: dropping an index there locks the table against readers until the commit.
"""

from __future__ import annotations

from sqlalchemy import Connection

LONG_IMPORT_ENTRIES = 200_000
SORTED_AFTER = ("ix_entry_partner_date", "ix_entry_date_partner")


class DeferredIndexes:
    """Drops the sorted-after indexes once an import is long enough; `build` creates them again."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.applies = connection.dialect.name == "sqlite"
        self.definitions: list[str] | None = None  # None until the indexes are set aside

    def added(self, entries: int) -> None:
        """The import has added `entries` so far: past the threshold, the indexes are set aside.

        Asked of the database only once the import is long (a sync or an API request writes a few
        rows, many times over). The import's rows hold the highest IDs, so the highest ID less the
        rows added stands for how many the ledger held before it: one index probe, not a count.
        """
        if not self.applies or self.definitions is not None or entries < LONG_IMPORT_ENTRIES:
            return
        newest = self.connection.exec_driver_sql("SELECT max(id) FROM entry").scalar() or 0
        if newest - entries > entries:
            return
        found = self.connection.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({', '.join('?' * len(SORTED_AFTER))}) "
            "ORDER BY name", SORTED_AFTER,
        ).all()
        for name, _sql in found:
            self.connection.exec_driver_sql(f"DROP INDEX {name}")
        self.definitions = [sql for _name, sql in found]

    def build(self) -> None:
        """The indexes set aside, created again from their stored definitions: one sort each."""
        for sql in self.definitions or ():
            self.connection.exec_driver_sql(sql)
        self.definitions = None
