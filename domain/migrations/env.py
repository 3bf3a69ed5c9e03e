"""Alembic environment: the engine comes from the caller (`payouts init`), never from an ini file."""

from alembic import context

from domain.models import Base, declare_partial_indexes

engine = context.config.attributes["engine"]
declare_partial_indexes()

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
