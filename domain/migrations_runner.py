"""Alembic, driven from code: `payouts init` upgrades to head.

Only `payouts init` imports this module; the schema check on every other command compares with
domain.schema_version, so that reading a report never has to load Alembic and its scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@cache
def script_head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema; running it twice changes nothing."""
    command.upgrade(_config(engine), "head")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class ForeignKeyViolation(RuntimeError):
    """A migration left a row referring to one that does not exist; nothing it did is kept."""


@contextmanager
def foreign_keys_unenforced(connection: Connection) -> Iterator[Callable[[], None]]:
    """SQLite's foreign keys off for the migrations, on again afterwards; yields the check to run
    before they commit. Other databases are left as they are and the check does nothing.

    SQLite ignores the pragma inside a transaction, so it is set on the driver's connection before
    SQLAlchemy begins one.
    """
    if connection.dialect.name != "sqlite":
        yield lambda: None
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield lambda: _check_foreign_keys(connection)
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        shown = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _key in broken[:10])
        raise ForeignKeyViolation(f"{len(broken)} rows refer to rows that do not exist: {shown}")
