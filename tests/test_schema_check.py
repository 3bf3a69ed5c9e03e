"""The schema check every command but `payouts init` runs first (SPEC §5): one cheap question.

It compares the revision `payouts init` recorded in alembic_version with domain.schema_version;
asked of the database once, with no Alembic and no catalogue inspection.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from domain.db import Database, SchemaError
from domain.schema_version import HEAD_REVISION


def _statements(database: Database) -> list[str]:
    """The SQL `check_schema` sends, transaction control (and SQLite's choice of temporary store made
    with it) left out."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        control = statement.strip().upper()
        if control not in ("BEGIN", "BEGIN IMMEDIATE") and not control.startswith("PRAGMA TEMP_STORE"):
            sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        database.check_schema()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return sent


def test_the_schema_check_is_one_query_of_alembic_version(db):
    assert _statements(db) == ["SELECT version_num FROM alembic_version"]


def test_a_database_without_alembic_version_is_refused_as_having_no_schema(unmigrated_db):
    if unmigrated_db.sqlite_file is not None:
        unmigrated_db.sqlite_file.touch()
    with pytest.raises(SchemaError, match=r"has no schema yet: run `payouts init` first"):
        unmigrated_db.check_schema()


def test_a_database_at_another_revision_is_refused_naming_both(db):
    with db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(SchemaError, match=rf"is at schema 0001, this version needs {HEAD_REVISION}"):
        db.check_schema()
