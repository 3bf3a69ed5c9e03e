"""Where SQLite keeps a transaction's temporary sorts: memory for reads, files for writes.

A write can be as long as its input: a ten-million-entry import sorts every entry to build its
indexes, which held 926 MB in memory. SQLite lets the setting change only between transactions, so
each transaction sets it as it begins (SQLite's temp_store: 1 is FILE, 2 is MEMORY).
"""

from __future__ import annotations

from sqlalchemy import text

FILE, MEMORY = 1, 2


def _temp_store(session) -> int:
    return session.execute(text("PRAGMA temp_store")).scalar_one()


def test_a_write_transaction_spills_its_temporary_sorts_to_files(sqlite_db):
    with sqlite_db.write() as session:
        assert _temp_store(session) == FILE


def test_a_read_keeps_its_temporary_sorts_in_memory(sqlite_db):
    with sqlite_db.read() as session:
        assert _temp_store(session) == MEMORY


def test_a_connection_back_from_a_write_reads_with_memory_again(sqlite_db):
    sqlite_db.engine.dispose()  # one pooled connection then serves both transactions
    with sqlite_db.write() as session:
        written_on = session.connection().connection.dbapi_connection
    with sqlite_db.read() as session:
        assert session.connection().connection.dbapi_connection is written_on
        assert _temp_store(session) == MEMORY
