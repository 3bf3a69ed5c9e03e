"""Alembic environment: the engine comes from the caller (`payouts init`), never from an ini file.

On SQLite the migrations run with foreign keys unenforced, as SQLite's own procedure for rebuilding
a table asks: dropping a table that rows refer to (entry refers to itself) otherwise makes SQLite
look for referring rows once per row dropped, with no index to find them, which never ends on a
large ledger. Every key is checked before the migrations commit instead, and enforcement is back on
before the connection is used again.
"""

from alembic import context

from domain.migrations_runner import foreign_keys_unenforced
from domain.models import Base, declare_partial_indexes

engine = context.config.attributes["engine"]
declare_partial_indexes()

# A write like any other (domain.db): the write lock up front, and index builds' sorts spilled to files.
with engine.connect().execution_options(writing=True) as connection, foreign_keys_unenforced(connection) as check_foreign_keys:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys()
    connection.commit()
