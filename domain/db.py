"""Engines, sessions and the schema check.

SQLite: every connection is set up as domain.sqlite_connection says (the driver in autocommit mode,
SQLAlchemy beginning reads with a plain BEGIN and writes with BEGIN IMMEDIATE).
PostgreSQL (psycopg 3) writes at READ COMMITTED; exactly-once comes from conditional updates and
unique constraints, not from isolation. Its reads run at REPEATABLE READ, so that the several
queries of one report (a partner's beginning balance, then its entries) see one snapshot, as a
SQLite read transaction does; a transaction that only reads never fails at that level.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from domain import sqlite_connection
from domain.db_url import resolve_url
from domain.schema_version import HEAD_REVISION, STORED_REVISION, SchemaError, missing_table


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        sqlite_connection.configure(dbapi_connection)

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        for statement in sqlite_connection.begin_statements(connection.get_execution_options().get("writing", False)):
            connection.exec_driver_sql(statement)


class Database:
    """One database: an engine plus read and write units of work."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.sqlite_file: Path | None = None
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                self.sqlite_file = Path(database).expanduser().resolve()
            self.engine = create_engine(self.url, echo=echo,
                                        connect_args={"timeout": sqlite_connection.CONNECT_TIMEOUT_S})
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(self.url, echo=echo, pool_pre_ping=True, pool_size=10)
        reading = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._reader = sessionmaker(reading, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(writing=True), expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent snapshot for reports; never writes."""
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back whole on any error."""
        with self._writer() as session, session.begin():
            yield session

    def create_location(self) -> None:
        """Make the SQLite file's folder; only commands that create a database call this."""
        if self.sqlite_file is not None:
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)

    def check_schema(self) -> None:
        """Refuse to run against a database that `payouts init` has not brought up to date.

        A missing SQLite file is reported without connecting, since connecting would create it:
        a mistyped path must not leave an empty database behind.
        """
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            raise SchemaError(f"there is no database at {self.sqlite_file}: run `payouts init` to create it "
                              "(or check --database and DATABASE_URL)")
        revision = self._stored_revision()
        if revision != HEAD_REVISION:
            raise SchemaError(
                f"the database {self.display_url} is at schema {revision or 'none'}, "
                f"this version needs {HEAD_REVISION}: run `payouts init` to upgrade it"
            )

    def _stored_revision(self) -> str | None:
        """The revision `payouts init` recorded, in one query: every command asks it before anything else."""
        with self.engine.connect() as connection:
            try:
                return connection.execute(text(STORED_REVISION)).scalar()
            except DBAPIError as exc:
                if not missing_table(exc.orig):
                    raise
        raise SchemaError(f"the database {self.display_url} has no schema yet: run `payouts init` first")

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
