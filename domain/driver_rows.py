"""Many rows to one INSERT statement (on PostgreSQL, one COPY), sent straight to the driver.

Imports write millions of entries and a batch posts up to 100,000 payments with as many lines.
SQLAlchemy building the parameters of an insert for every row (its executemany, or its
insert-many-values with RETURNING) took longer than the database's own work, and row-by-row
executemany makes SQLite open a statement journal for every row that fires the entry trigger.
PostgreSQL parses and plans a statement of thousands of parameters slowly: COPY took a quarter of
the time of 1,000-row INSERTs for a batch's 100,000 lines, and half for its payments.
Values go through the column types' own bind processors, so they are stored exactly as every other
write stores them; a processed value is cached, as a few dates and times repeat on every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

_MOST_PARAMETERS = 30_000  # under SQLite's 32,766 bound values per statement (PostgreSQL allows 65,535)


class RowInserter:
    """Inserts tuples of `columns` into `table`; `on_conflict` is appended to each statement (on
    PostgreSQL, whose COPY has no such clause, to an INSERT from the rows copied to a temporary table)."""

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str], *, on_conflict: str = "") -> None:
        self.connection = connection
        dialect = connection.dialect
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.columns = tuple(columns)
        self.on_conflict = on_conflict
        self.rows_per_statement = min(1_000, _MOST_PARAMETERS // len(self.columns))
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(self.columns):
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.converters.append((index, lru_cache(maxsize=4096)(process)))
        self._statements: dict[int, str] = {}
        self.table_name = table.name
        self.copies = dialect.name == "postgresql"
        self.staged = False  # whether the temporary table of `_staged_copy` exists

    def _statement(self, rows: int) -> str:
        if rows not in self._statements:
            values = f"({', '.join([self.mark] * len(self.columns))})"
            self._statements[rows] = (f"INSERT INTO {self.table_name} ({', '.join(self.columns)}) "
                                      f"VALUES {', '.join([values] * rows)} {self.on_conflict}").rstrip()
        return self._statements[rows]

    def converter(self, column: str) -> Callable[[Any], Any]:
        """How `column`'s values go to the driver, for a caller that converts them itself (`insert_ready`)."""
        index = self.columns.index(column)
        return next((convert for at, convert in self.converters if at == index), _as_it_is)

    def _converted(self, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """The rows with the converted columns mapped whole: turned into columns and back by `zip`, so
        no Python code runs per row. A column of NULLs only (a batch's hold dates, nearly always)
        needs no conversion, and rows with nothing else to convert are sent as they are."""
        needed = [(index, convert) for index, convert in self.converters if _has_values(rows, index)]
        if not needed:
            return rows
        columns = list(zip(*rows, strict=True))
        for index, convert in needed:
            columns[index] = tuple(map(convert, columns[index]))
        return list(zip(*columns, strict=True))

    def insert(self, rows: Sequence[Sequence[Any]]) -> int:
        """Write the rows; return how many went in (rows a conflict clause skipped are not counted)."""
        if self.converters and rows:
            rows = self._converted(rows)
        return self.insert_ready(rows)

    def insert_ready(self, rows: Sequence[Sequence[Any]]) -> int:
        """`insert` for rows whose values are already as the driver takes them (see `converter`):
        an import of millions of rows converts its few dates once each instead of once a row."""
        if self.copies:
            return self._staged_copy(rows) if self.on_conflict else self._copy(rows)
        inserted = 0
        for start in range(0, len(rows), self.rows_per_statement):
            part = rows[start:start + self.rows_per_statement]
            parameters = tuple(chain.from_iterable(part))
            inserted += int(self.connection.exec_driver_sql(self._statement(len(part)), parameters).rowcount)
        return inserted

    def _copy(self, rows: Sequence[Sequence[Any]], table: str | None = None, columns: Sequence[str] | None = None) -> int:
        """The rows by PostgreSQL's COPY (into `table`, by default the inserter's own), in the
        transaction of the connection; a refusal (a foreign key, a unique key) raised as SQLAlchemy
        raises the driver's errors."""
        statement = f"COPY {table or self.table_name} ({', '.join(columns or self.columns)}) FROM STDIN"
        driver = self.connection.connection.dbapi_connection
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        except self.connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(statement, None, error, self.connection.dialect.loaded_dbapi.Error) from error
        return len(rows)

    def _staged_copy(self, rows: Sequence[Sequence[Any]]) -> int:
        """Rows with a conflict clause on PostgreSQL: copied into a temporary table of the same
        columns (and their order), then inserted from it by one INSERT … SELECT with the clause.

        An import of 10,000,000 entries sent as 5,000-row INSERTs of 45,000 parameters each spent
        about half its time having the client adapt and the server parse them.
        """
        staged = f"staged_{self.table_name}"
        listed = ", ".join(self.columns)
        if not self.staged:
            self.connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ON COMMIT DROP AS "
                f"SELECT 0::bigint AS arrival, {listed} FROM {self.table_name} WITH NO DATA")
            self.staged = True
        self.connection.exec_driver_sql(f"TRUNCATE {staged}")
        self._copy([(arrival, *row) for arrival, row in enumerate(rows)], staged, ("arrival", *self.columns))
        return int(self.connection.exec_driver_sql(
            f"INSERT INTO {self.table_name} ({listed}) SELECT {listed} FROM {staged} ORDER BY arrival "
            f"{self.on_conflict}").rowcount)


def _has_values(rows: Sequence[Sequence[Any]], index: int) -> bool:
    """Whether column `index` of the rows holds anything but NULL (looked through in C)."""
    column = list(map(itemgetter(index), rows))
    return column.count(None) != len(column)


def _as_it_is(value: Any) -> Any:
    return value
