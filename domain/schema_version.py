"""The schema revision this code needs (a test keeps it equal to the newest migration's revision), how
to read the one a database is at, and the error of a database at another."""

HEAD_REVISION = "0020"
STORED_REVISION = "SELECT version_num FROM alembic_version"  # the revision `payouts init` recorded


class SchemaError(RuntimeError):
    """The database has no schema, or an older one: `payouts init` is the cure."""


def missing_table(error: BaseException | None) -> bool:
    """The driver's word for "no such table" (a database `payouts init` never ran on): PostgreSQL's
    SQLSTATE 42P01, SQLite's message."""
    return getattr(error, "sqlstate", None) == "42P01" or str(error).startswith("no such table")
