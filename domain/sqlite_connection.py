"""How a connection to a SQLite database is set up, the same for the engine (domain.db) and for a
report read through the driver alone (domain.direct_read).

The driver is put in autocommit mode so that the application, not the driver, begins transactions:
reads with a plain BEGIN, writes with BEGIN IMMEDIATE, so that a read-then-write transaction takes
the write lock up front instead of failing with "database is locked" halfway.
"""

from __future__ import annotations

from typing import Any

BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 30
_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA cache_size = -65536",
)


def configure(driver: Any) -> None:
    """Set up a new sqlite3 connection."""
    driver.isolation_level = None
    cursor = driver.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def begin_statements(writing: bool) -> tuple[str, str]:
    """What begins a transaction. Reads keep their temporary sorts and groupings in memory; a write
    spills them to files.

    A write can be as long as its input (an import of ten million entries sorts them all to build
    its indexes, which in memory took 926 MB), and SQLite lets the setting change only between
    transactions. A small temporary structure stays in the page cache either way.
    """
    return f"PRAGMA temp_store = {'FILE' if writing else 'MEMORY'}", "BEGIN IMMEDIATE" if writing else "BEGIN"
