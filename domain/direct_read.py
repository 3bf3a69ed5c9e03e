"""A read of the database through its driver alone, without SQLAlchemy or the tables.

A command that only writes the ledger report (the CLI's `payouts ledger` for every partner) spent a
third of a large month report loading SQLAlchemy and the models, for one query that
domain.report_sql writes as text. This opens the database as the engine (domain.db) opens it:
SQLite with the same set-up and a plain BEGIN, PostgreSQL at REPEATABLE READ. It does so only where
it is sure to read what the engine would: a URL it does not read as the engine does, or a database
that is missing or not at the schema this version needs, is `Unavailable`, and the engine's path,
which says what is wrong, runs instead. An error of the database itself (a file that is no
database, a server that refuses the connection) is the driver's, raised as it comes.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain import sqlite_connection
from domain.schema_version import HEAD_REVISION, STORED_REVISION, missing_table

_SQLITE_FILE = "sqlite:///"
_POSTGRESQL = "postgresql+psycopg://"


class Unavailable(Exception):
    """The driver alone cannot be sure to read what the engine would; the engine must read it."""


@dataclass(frozen=True)
class DirectRead:
    """A driver connection in a read transaction on a database at this version's schema."""

    driver: Any
    dialect: str


@contextmanager
def direct_read(url: str) -> Iterator[DirectRead]:
    """A read transaction on the database at `url` (as domain.db.resolve_url gives it), closed after
    the block; Unavailable, before anything is read, where the engine must read it."""
    if url.startswith(_SQLITE_FILE):
        driver, dialect = _sqlite(url[len(_SQLITE_FILE):]), "sqlite"
    elif url.startswith(_POSTGRESQL):
        driver, dialect = _postgresql("postgresql://" + url[len(_POSTGRESQL):]), "postgresql"
    else:
        raise Unavailable(url)
    try:
        _check_revision(driver)
        yield DirectRead(driver, dialect)
    finally:
        driver.close()


def _sqlite(path: str) -> Any:
    """The file as the engine opens it. A path the engine would read otherwise (percent-escapes, which
    it decodes, a query of driver options, a home folder it does not expand, a database in memory)
    or a file that is not there, which connecting would create, is left to the engine."""
    if not path or any(mark in path for mark in "?%") or path.startswith("~") or path == ":memory:":
        raise Unavailable(path)
    if not Path(path).is_file():
        raise Unavailable(path)
    driver = sqlite3.connect(path, timeout=sqlite_connection.CONNECT_TIMEOUT_S)
    try:
        sqlite_connection.configure(driver)
        for statement in sqlite_connection.begin_statements(writing=False):
            driver.execute(statement)
    except BaseException:
        driver.close()
        raise
    return driver


def _postgresql(conninfo: str) -> Any:
    """The server as libpq reads the URL (the engine's psycopg dialect passes the same parts), in a
    transaction that reads one snapshot, as the engine's reads do."""
    import psycopg

    driver = psycopg.connect(conninfo)
    driver.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    driver.read_only = True
    return driver


def _check_revision(driver: Any) -> None:
    """Unavailable unless the database is at this version's schema: the engine's check says what to do."""
    cursor = driver.cursor()
    try:
        cursor.execute(STORED_REVISION)
        found = cursor.fetchone()
    except Exception as exc:
        if missing_table(exc):
            raise Unavailable("no schema") from None
        raise
    finally:
        cursor.close()
    if found is None or found[0] != HEAD_REVISION:
        raise Unavailable("another schema")


def driver_error(error: BaseException) -> BaseException | None:
    """The driver's own error behind a failure, whether SQLAlchemy wrapped it or a direct read raised
    it; None for any other failure. SQLAlchemy's and psycopg's errors are looked for only once
    they are loaded: a failure cannot be one of them before."""
    wrapped = sys.modules.get("sqlalchemy.exc")
    if wrapped is not None and isinstance(error, wrapped.DBAPIError):
        return error.orig
    psycopg = sys.modules.get("psycopg")
    if isinstance(error, sqlite3.Error) or (psycopg is not None and isinstance(error, psycopg.Error)):
        return error
    return None
