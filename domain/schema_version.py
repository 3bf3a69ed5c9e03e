"""The schema revision this code needs (a test keeps it equal to the newest migration's revision), and
the error of a database at another."""

HEAD_REVISION = "0015"


class SchemaError(RuntimeError):
    """The database has no schema, or an older one: `payouts init` is the cure."""
