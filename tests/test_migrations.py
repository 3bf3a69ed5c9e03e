"""The migrations themselves, run step by step on an empty database of each engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, insert, select, text

from domain import migrations_runner
from domain.db import SchemaError
from domain.models import Batch
from domain.schema_version import HEAD_REVISION
from tests.factories import add_partner

NOW = datetime(2015, 7, 1, 9, 0, tzinfo=UTC)


def _batch(batch_id: str) -> dict:
    return dict(batch_id=batch_id, status="rejected", method="commission", start_date=date(2015, 6, 1),
                end_date=date(2015, 6, 30), payment_type="Check", payment_date=date(2015, 7, 3),
                allow_overlap=False, fingerprint="0" * 64, requested_by="U_REQ", requested_at=NOW)


def _before_case_insensitive_ids_with(database, batch_ids: list[str]) -> None:
    command.upgrade(migrations_runner._config(database.engine), "0002")
    with database.engine.begin() as connection:
        connection.execute(insert(Batch.__table__), [_batch(batch_id) for batch_id in batch_ids])


def test_the_case_insensitive_batch_id_upgrade_refuses_case_duplicates_naming_them(unmigrated_db):
    _before_case_insensitive_ids_with(unmigrated_db, ["Batch-20150703", "batch-20150703", "June-run"])
    with pytest.raises(SchemaError, match="differ only in case: Batch-20150703 and batch-20150703. Rename"):
        migrations_runner.upgrade(unmigrated_db.engine)
    assert migrations_runner.current_revision(unmigrated_db.engine) == "0002"


def test_the_case_insensitive_batch_id_upgrade_keeps_batches_that_differ_in_more_than_case(unmigrated_db):
    _before_case_insensitive_ids_with(unmigrated_db, ["Batch-20150703", "Batch-20150703-2"])
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        kept = set(connection.scalars(select(Batch.batch_id)))
    assert kept == {"Batch-20150703", "Batch-20150703-2"}
    assert migrations_runner.current_revision(unmigrated_db.engine) == HEAD_REVISION


def test_the_turnover_upgrade_counts_the_entries_a_partner_already_has(unmigrated_db):
    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0001")
    with unmigrated_db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partner (id, code, name, currency, status, balance, created_at) "
            "VALUES (1, 'ANN', 'Ann', 'USD', 'active', 0, '2015-01-01')"
        ))
        for kind, amount in (("commission", 500), ("clawback", 200), ("payment", -100)):
            connection.execute(text(
                "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
                "recorded_at, recorded_by) VALUES (1, :kind, :amount, 'USD', '2015-06-01', :kind, '', '2015-06-01', 't')"
            ), {"kind": kind, "amount": amount})
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        assert tuple(connection.execute(text("SELECT balance, turnover FROM partner")).one()) == (400, 800)


def test_the_keap_sync_state_migration_follows_0007_and_can_be_undone(unmigrated_db):
    from sqlalchemy import inspect

    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0007")
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        assert inspect(connection).has_table("sync_state")
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0007")
    with unmigrated_db.engine.connect() as connection:
        assert not inspect(connection).has_table("sync_state")


def test_the_reminder_uniqueness_upgrade_keeps_the_oldest_of_identical_active_schedules(unmigrated_db):
    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0008")
    row = ("INSERT INTO reminder_schedule (frequency, day, at_time, channel, range_expression, created_by, created_at) "
           "VALUES ('monthly', 1, '09:00', 'C0123ABCD', 'last-month', 'U1', '2015-07-01 00:00:00')")
    with unmigrated_db.engine.begin() as connection:
        for _ in range(3):
            connection.execute(text(row))
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, removed_by FROM reminder_schedule ORDER BY id")).all()
    kept = rows[0][0]
    assert [tuple(r) for r in rows] == [(kept, None), (kept + 1, f"payouts init: same as reminder {kept}"),
                                        (kept + 2, f"payouts init: same as reminder {kept}")]


def test_the_failed_line_upgrade_leaves_every_line_of_a_posted_batch_paid_and_can_be_undone(unmigrated_db):
    """0010 adds who/when/why a line failed (SPEC §10); lines posted before it read as paid."""
    from sqlalchemy import inspect

    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0009")
    with unmigrated_db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partner (id, code, name, currency, status, balance, turnover, created_at) "
            "VALUES (1, 'ANN', 'Ann', 'USD', 'active', 0, 0, '2015-01-01')"
        ))
        connection.execute(insert(Batch.__table__), [{**_batch("Batch-20150703"), "status": "posted"}])
        connection.execute(text(
            "INSERT INTO batch_line (batch_pk, partner_id, amount, currency, beginning_balance, commissions, "
            "clawbacks, payments, ending_balance) SELECT id, 1, 500, 'USD', 0, 500, 0, 0, 500 FROM batch"
        ))
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        assert tuple(connection.execute(text("SELECT failed_at, failed_by, fail_reason FROM batch_line")).one()) == (
            None, None, None)
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0009")
    with unmigrated_db.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("batch_line")}
    assert "failed_at" not in columns and "amount" in columns


def test_the_checkpoint_upgrade_sums_the_entries_already_stored_by_month_and_year(unmigrated_db):
    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0009")
    with unmigrated_db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partner (id, code, name, currency, status, balance, created_at) "
            "VALUES (1, 'ANN', 'Ann', 'USD', 'active', 0, '2015-01-01')"
        ))
        for kind, amount, day in (("commission", 500, "2014-12-31"), ("clawback", 200, "2015-06-01"),
                                  ("payment", -100, "2015-06-30"), ("commission", 7, "2015-07-01")):
            connection.execute(text(
                "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
                "recorded_at, recorded_by) VALUES (1, :kind, :amount, 'USD', :day, :reference, '', '2015-07-01', 't')"
            ), {"kind": kind, "amount": amount, "day": day, "reference": f"R-{day}"})
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT months, start, commissions, clawbacks, payments FROM partner_period ORDER BY months, start"
        )).all()
    assert [(months, str(start), c, k, p) for months, start, c, k, p in rows] == [
        (1, "2014-12-01", 500, 0, 0), (1, "2015-06-01", 0, 200, -100), (1, "2015-07-01", 7, 0, 0),
        (12, "2014-01-01", 500, 0, 0), (12, "2015-01-01", 7, 200, -100),
    ]


def test_the_checkpoint_migration_can_be_undone_and_the_balance_is_still_kept(unmigrated_db):
    from sqlalchemy import inspect

    migrations_runner.upgrade(unmigrated_db.engine)
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0009")
    with unmigrated_db.engine.begin() as connection:
        assert not inspect(connection).has_table("partner_period")
        connection.execute(text(
            "INSERT INTO partner (id, code, name, currency, status, balance, created_at) "
            "VALUES (1, 'ANN', 'Ann', 'USD', 'active', 0, '2015-01-01')"
        ))
        connection.execute(text(
            "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
            "recorded_at, recorded_by) VALUES (1, 'commission', 300, 'USD', '2015-06-01', 'R1', '', '2015-06-01', 't')"
        ))
        assert tuple(connection.execute(text("SELECT balance, turnover FROM partner")).one()) == (300, 300)


def test_the_active_schedule_index_is_declared_for_the_migrations_environment_with_its_where_clause():
    """Migration 0009's partial index: in the metadata Alembic compares, once however often it is asked."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex

    from domain.models import ACTIVE_SCHEDULE_INDEX, ReminderSchedule, declare_partial_indexes

    declare_partial_indexes()
    declare_partial_indexes()
    [index] = [index for index in ReminderSchedule.__table__.indexes if index.name == ACTIVE_SCHEDULE_INDEX]
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        ddl = str(CreateIndex(index).compile(dialect=dialect))
        assert ddl.startswith("CREATE UNIQUE INDEX uq_reminder_schedule_active ON reminder_schedule")
        assert ddl.endswith("WHERE removed_at IS NULL")


def test_the_payment_reference_index_is_added_and_can_be_undone(unmigrated_db):
    from domain.models import PAYMENT_REFERENCE_INDEX

    def indexes() -> set[str]:
        """Read from the catalogue: SQLAlchemy does not reflect an index on an expression."""
        catalogue = ("SELECT indexname FROM pg_indexes WHERE tablename = 'entry'" if unmigrated_db.engine.dialect.name ==
                     "postgresql" else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entry'")
        with unmigrated_db.engine.connect() as connection:
            return set(connection.scalars(text(catalogue)))

    migrations_runner.upgrade(unmigrated_db.engine)
    assert PAYMENT_REFERENCE_INDEX in indexes()
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0011")
    assert PAYMENT_REFERENCE_INDEX not in indexes()


def test_the_payment_reference_index_is_declared_as_migration_0012_creates_it():
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex

    from domain.models import PAYMENT_REFERENCE_INDEX, Entry, declare_partial_indexes

    declare_partial_indexes()
    [index] = [index for index in Entry.__table__.indexes if index.name == PAYMENT_REFERENCE_INDEX]
    assert str(CreateIndex(index).compile(dialect=postgresql.dialect())) == (
        "CREATE INDEX ix_entry_payment_reference ON entry (lower(reference) text_pattern_ops) WHERE kind = 'payment'")
    assert str(CreateIndex(index).compile(dialect=sqlite.dialect())) == (
        "CREATE INDEX ix_entry_payment_reference ON entry (lower(reference)) WHERE kind = 'payment'")


def _entry_at_0012(connection, entry_id: int, kind: str, amount: int, day: str, reference: str,
                   reverses: int | None = None) -> None:
    connection.execute(text(
        "INSERT INTO entry (id, partner_id, kind, amount, currency, effective_date, reference, description, "
        "recorded_at, recorded_by, reverses_id) VALUES (:id, 1, :kind, :amount, 'USD', :day, :reference, '', "
        "'2015-07-01', 't', :reverses)"
    ), {"id": entry_id, "kind": kind, "amount": amount, "day": day, "reference": reference, "reverses": reverses})


def _ledger_at_0012(database) -> None:
    """A partner with a commission, a payment and its reversal, recorded before migration 0013."""
    command.upgrade(migrations_runner._config(database.engine), "0012")
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partner (id, code, name, currency, status, balance, created_at) "
            "VALUES (1, 'ANN', 'Ann', 'USD', 'active', 0, '2015-01-01')"
        ))
        _entry_at_0012(connection, 7, "commission", 500, "2015-06-01", "ORD-1")
        _entry_at_0012(connection, 9, "payment", 300, "2015-06-30", "Batch-20150630")
        _entry_at_0012(connection, 12, "payment", -300, "2015-06-30", "Batch-20150630:void", reverses=9)


def _stored_entries(connection) -> list[tuple]:
    return [tuple(row) for row in connection.execute(text(
        "SELECT id, kind, amount, reference, reverses_id FROM entry ORDER BY id"))]


_ENTRIES_AT_0012 = [(7, "commission", 500, "ORD-1", None), (9, "payment", 300, "Batch-20150630", None),
                    (12, "payment", -300, "Batch-20150630:void", 9)]


def _reflected(read):  # type: ignore[no-untyped-def]
    """What `read` reflects of entry; SQLAlchemy warns that it skips the index on lower(reference)."""
    import warnings

    from sqlalchemy import inspect
    from sqlalchemy.exc import SAWarning

    def reflect(connection):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            return read(inspect(connection))

    return reflect


@_reflected
def _entry_key_columns(inspector) -> list[str]:
    [key] = inspector.get_unique_constraints("entry")
    return key["column_names"]


@_reflected
def _date_index_columns(inspector) -> list[str]:
    [index] = [index for index in inspector.get_indexes("entry") if index["name"] == "ix_entry_date_partner"]
    return index["column_names"]


def test_the_entry_key_upgrade_orders_the_key_and_date_index_as_entries_arrive_keeping_every_entry(unmigrated_db):
    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        assert _stored_entries(connection) == _ENTRIES_AT_0012
        assert _entry_key_columns(connection) == ["reference", "kind", "partner_id"]
        assert _date_index_columns(connection) == ["effective_date", "id", "partner_id", "kind", "amount"]
        assert tuple(connection.execute(text("SELECT balance, turnover FROM partner")).one()) == (500, 1100)


def test_after_the_entry_key_upgrade_the_triggers_still_keep_the_balance_and_refuse_edits(unmigrated_db):
    from sqlalchemy.exc import DBAPIError

    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.begin() as connection:
        _entry_at_0012(connection, 13, "clawback", 200, "2015-07-02", "ORD-1")
        assert tuple(connection.execute(text("SELECT balance, turnover FROM partner")).one()) == (300, 1300)
        assert connection.execute(text(
            "SELECT clawbacks FROM partner_period WHERE months = 1 AND start = '2015-07-01'")).scalar_one() == 200
    for statement in ("UPDATE entry SET amount = 1 WHERE id = 7", "DELETE FROM entry WHERE id = 7"):
        with pytest.raises(DBAPIError, match="append-only"), unmigrated_db.engine.begin() as connection:
            connection.execute(text(statement))


def test_after_the_entry_key_upgrade_a_partner_still_has_one_entry_per_kind_and_reference(unmigrated_db):
    from sqlalchemy.exc import IntegrityError

    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    with pytest.raises(IntegrityError), unmigrated_db.engine.begin() as connection:
        _entry_at_0012(connection, 20, "payment", 1, "2015-07-01", "Batch-20150630")


def test_the_entry_key_upgrade_can_be_undone_keeping_every_entry(unmigrated_db):
    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0012")
    with unmigrated_db.engine.begin() as connection:
        assert _stored_entries(connection) == _ENTRIES_AT_0012
        assert _entry_key_columns(connection) == ["partner_id", "kind", "reference"]
        assert _date_index_columns(connection) == ["effective_date", "partner_id", "kind", "amount"]
        _entry_at_0012(connection, 13, "commission", 5, "2015-07-02", "ORD-2")
        assert connection.execute(text("SELECT balance FROM partner")).scalar_one() == 505


def test_sqlite_migrations_give_the_connection_back_with_foreign_keys_enforced(sqlite_db):
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_rows_a_migration_leaves_referring_to_nothing_are_refused_before_they_are_kept(sqlite_db):
    """SQLite rebuilds tables with foreign keys unenforced (a self-referring table's drop otherwise
    searches the whole table per row); the keys are checked before the migrations commit."""
    with sqlite_db.engine.connect() as connection, \
            migrations_runner.foreign_keys_unenforced(connection) as check_foreign_keys:
        connection.execute(text(
            "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
            "recorded_at, recorded_by) VALUES (999, 'commission', 1, 'USD', '2015-06-01', 'R1', '', '2015-06-01', 't')"
        ))
        with pytest.raises(migrations_runner.ForeignKeyViolation, match="rows refer to rows that do not exist: entry row 1 -> partner"):
            check_foreign_keys()
        connection.rollback()
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM entry").scalar_one() == 0


def _checkpoints(connection) -> list[tuple]:
    return [(months, str(start), c, k, p) for months, start, c, k, p in connection.execute(text(
        "SELECT months, start, commissions, clawbacks, payments FROM partner_period ORDER BY months, start"))]


def _stored_without_rowid(connection) -> bool:
    table = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'partner_period'").scalar_one()
    return table.rstrip().endswith("WITHOUT ROWID")


_CHECKPOINTS_AT_0013 = [(1, "2015-06-01", 500, 0, 0), (12, "2015-01-01", 500, 0, 0)]


def test_the_clustered_checkpoint_upgrade_keeps_every_checkpoint(unmigrated_db):
    _ledger_at_0012(unmigrated_db)
    command.upgrade(migrations_runner._config(unmigrated_db.engine), "0013")
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.connect() as connection:
        assert _checkpoints(connection) == _CHECKPOINTS_AT_0013


def test_on_sqlite_the_checkpoints_are_stored_in_the_order_of_their_key(sqlite_db):
    """SQLite's WITHOUT ROWID table: the key's tree holds the sums, so a lookup reads one tree."""
    with sqlite_db.engine.connect() as connection:
        assert _stored_without_rowid(connection)


def test_after_the_clustered_checkpoint_upgrade_the_trigger_still_keeps_the_checkpoints(unmigrated_db):
    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.begin() as connection:
        _entry_at_0012(connection, 13, "clawback", 200, "2015-06-02", "ORD-1")
        _entry_at_0012(connection, 14, "commission", 40, "2016-01-05", "ORD-2")
        assert _checkpoints(connection) == [(1, "2015-06-01", 500, 200, 0), (1, "2016-01-01", 40, 0, 0),
                                            (12, "2015-01-01", 500, 200, 0), (12, "2016-01-01", 40, 0, 0)]
        assert connection.execute(text("SELECT balance FROM partner")).scalar_one() == 340


def test_the_clustered_checkpoint_upgrade_can_be_undone_keeping_every_checkpoint(unmigrated_db):
    _ledger_at_0012(unmigrated_db)
    migrations_runner.upgrade(unmigrated_db.engine)
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0013")
    with unmigrated_db.engine.begin() as connection:
        assert _checkpoints(connection) == _CHECKPOINTS_AT_0013
        if connection.dialect.name == "sqlite":
            assert not _stored_without_rowid(connection)
        _entry_at_0012(connection, 13, "commission", 5, "2015-06-02", "ORD-2")
        assert _checkpoints(connection)[0] == (1, "2015-06-01", 505, 0, 0)


def _key_index(connection) -> str:
    return connection.execute(text("SELECT pg_get_indexdef('partner_period_pkey'::regclass)")).scalar_one()


_COVERING_KEY = "USING btree (months, start, partner_id) INCLUDE (commissions, clawbacks, payments)"
_PLAIN_KEY = "USING btree (months, start, partner_id)"


@pytest.mark.postgres
def test_on_postgresql_the_checkpoint_key_carries_the_sums_and_a_month_is_read_from_the_index_alone(postgres_db):
    from domain.dates import DateRange
    from domain.report_sql import report_statement

    with postgres_db.engine.begin() as connection:
        assert _key_index(connection).endswith(_COVERING_KEY)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # an empty table would be scanned whole
        statement = report_statement("postgresql", DateRange(date(2015, 6, 1), date(2015, 6, 30)))
        plan = "\n".join(connection.exec_driver_sql("EXPLAIN " + statement.text, statement.parameters).scalars())
        assert "Index Only Scan using partner_period_pkey on partner_period within" in plan, plan


@contextmanager
def _downgraded_keeping_checkpoints(database, revision: str) -> Iterator[Connection]:
    """0012's ledger upgraded to the head, where the trigger keeps balance and checkpoints, then
    downgraded to `revision`: yields a connection for the caller's checks of that schema, then checks
    that the trigger still keeps them there."""
    _ledger_at_0012(database)
    migrations_runner.upgrade(database.engine)
    with database.engine.begin() as connection:
        _entry_at_0012(connection, 13, "clawback", 200, "2015-06-02", "ORD-1")
        assert _checkpoints(connection)[0] == (1, "2015-06-01", 500, 200, 0)
        assert connection.exec_driver_sql("SELECT balance FROM partner").scalar_one() == 300
    command.downgrade(migrations_runner._config(database.engine), revision)
    with database.engine.begin() as connection:
        yield connection
        _entry_at_0012(connection, 14, "commission", 5, "2015-06-03", "ORD-2")
        assert _checkpoints(connection)[0] == (1, "2015-06-01", 505, 200, 0)
        assert connection.exec_driver_sql("SELECT balance FROM partner").scalar_one() == 305


def test_after_the_covering_key_upgrade_the_trigger_still_keeps_the_checkpoints_and_it_can_be_undone(unmigrated_db):
    with _downgraded_keeping_checkpoints(unmigrated_db, "0014") as connection:
        if connection.dialect.name == "postgresql":
            assert _key_index(connection).endswith(_PLAIN_KEY)



def _checkpoint_partner_key(connection) -> list[str]:
    return list(connection.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'partner_period'::regclass AND contype = 'f'").scalars())


def _partner_options(connection) -> list[str]:
    return connection.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'partner'").scalar_one() or []


@pytest.mark.postgres
def test_on_postgresql_partner_pages_leave_room_and_checkpoints_have_no_key_of_their_own(postgres_db):
    with postgres_db.engine.begin() as connection:
        assert _partner_options(connection) == ["fillfactor=50"]
        assert _checkpoint_partner_key(connection) == []


@pytest.mark.postgres
def test_on_postgresql_a_statement_of_entries_updates_its_partners_in_place(postgres_db):
    """Every balance update of the trigger is a heap-only update: no index of `partner` changes."""
    with postgres_db.write() as s:
        for number in range(1, 201):
            add_partner(s, f"P{number:03d}")
    with postgres_db.write() as s:
        s.execute(text(
            "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
            "recorded_at, recorded_by) SELECT id, 'commission', 100, 'USD', '2015-06-10', 'ORD-' || code, '', "
            "'2015-07-01', 't' FROM partner"))
        updated, in_place = s.execute(text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'partner'")).one()
    assert updated == in_place == 200


def test_after_the_partner_room_upgrade_the_trigger_still_keeps_the_checkpoints_and_it_can_be_undone(unmigrated_db):
    with _downgraded_keeping_checkpoints(unmigrated_db, "0015") as connection:
        if connection.dialect.name == "postgresql":
            assert _partner_options(connection) == []
            assert _checkpoint_partner_key(connection) == ["partner_period_partner_id_fkey"]


def _ledger_with_a_batch_at_0016(database, payment_day: str) -> None:
    """0012's ledger, and a second batch paid on 2015-06-30 whose payment is dated `payment_day`."""
    _ledger_at_0012(database)
    command.upgrade(migrations_runner._config(database.engine), "0016")
    with database.engine.begin() as connection:
        connection.execute(insert(Batch.__table__), [{**_batch("Batch-20150630-2"), "status": "posted",
                                                      "payment_date": date(2015, 6, 30)}])
        connection.execute(text(
            "INSERT INTO entry (id, partner_id, kind, amount, currency, effective_date, reference, description, "
            "recorded_at, recorded_by, batch_pk) SELECT 20, 1, 'payment', 100, 'USD', :day, 'Batch-20150630-2', '', "
            "'2015-07-01', 't', id FROM batch"), {"day": payment_day})


def _entry_indexes(connection) -> dict[str, str]:
    """The definitions of entry's (partner, date) and batch indexes, in the database's own words."""
    if connection.dialect.name == "postgresql":
        found = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'entry'")
    else:
        found = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'entry' AND type = 'index'")
    return {name: definition for name, definition in found
            if name.startswith("ix_entry_") and ("batch" in name or "partner_date" in name)}


def test_the_batch_entries_upgrade_keeps_a_batchs_entries_out_of_the_partner_index(unmigrated_db):
    _ledger_with_a_batch_at_0016(unmigrated_db, "2015-06-30")
    migrations_runner.upgrade(unmigrated_db.engine)
    with unmigrated_db.engine.begin() as connection:
        indexes = _entry_indexes(connection)
        assert set(indexes) == {"ix_entry_partner_date", "ix_entry_batch_partner"}
        assert indexes["ix_entry_partner_date"].replace("(", "").replace(")", "").endswith("WHERE batch_pk IS NULL")
        assert indexes["ix_entry_batch_partner"].replace("(", "").replace(")", "").endswith(
            "WHERE batch_pk IS NOT NULL")
        assert connection.exec_driver_sql("SELECT balance FROM partner").scalar_one() == 400


def test_the_batch_entries_upgrade_refuses_a_batch_entry_dated_off_its_payment_date_changing_nothing(unmigrated_db):
    _ledger_with_a_batch_at_0016(unmigrated_db, "2015-07-01")
    with pytest.raises(RuntimeError, match="1 entries of batches are not payments dated on their batch's payment date"):
        migrations_runner.upgrade(unmigrated_db.engine)
    assert migrations_runner.current_revision(unmigrated_db.engine) == "0016"
    with unmigrated_db.engine.begin() as connection:
        assert set(_entry_indexes(connection)) == {"ix_entry_partner_date", "ix_entry_batch_pk"}


def test_the_batch_entries_upgrade_can_be_undone_and_batch_entries_are_free_again(unmigrated_db):
    _ledger_with_a_batch_at_0016(unmigrated_db, "2015-06-30")
    migrations_runner.upgrade(unmigrated_db.engine)
    command.downgrade(migrations_runner._config(unmigrated_db.engine), "0016")
    with unmigrated_db.engine.begin() as connection:
        indexes = _entry_indexes(connection)
        assert set(indexes) == {"ix_entry_partner_date", "ix_entry_batch_pk"}
        assert "WHERE" not in indexes["ix_entry_partner_date"]
        connection.execute(text(
            "INSERT INTO entry (id, partner_id, kind, amount, currency, effective_date, reference, description, "
            "recorded_at, recorded_by, batch_pk) SELECT 21, 1, 'payment', 1, 'USD', '2015-08-01', 'Other', '', "
            "'2015-08-01', 't', id FROM batch"))
        assert connection.exec_driver_sql("SELECT balance FROM partner").scalar_one() == 399


def test_after_the_deferred_checkpoints_upgrade_the_trigger_still_keeps_the_checkpoints_and_it_can_be_undone(
    unmigrated_db,
):
    with _downgraded_keeping_checkpoints(unmigrated_db, "0017") as connection:
        if connection.dialect.name == "postgresql":
            assert connection.exec_driver_sql(
                "SELECT count(*) FROM pg_proc WHERE proname = 'entry_apply_deferred'").scalar_one() == 0


def _entry_keys(connection) -> list[str]:
    return sorted(connection.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'entry'::regclass AND contype = 'f'").scalars())


@pytest.mark.postgres
def test_the_statement_reference_checks_replace_the_entry_keys_and_can_be_undone(unmigrated_postgres_db):
    migrations_runner.upgrade(unmigrated_postgres_db.engine)
    with unmigrated_postgres_db.engine.begin() as connection:
        assert _entry_keys(connection) == ["entry_reverses_id_fkey"]
    command.downgrade(migrations_runner._config(unmigrated_postgres_db.engine), "0018")
    with unmigrated_postgres_db.engine.begin() as connection:
        assert _entry_keys(connection) == ["entry_batch_pk_fkey", "entry_partner_id_fkey", "entry_reverses_id_fkey"]
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM pg_trigger WHERE tgname IN ('partner_keeps_its_entries', 'batch_keeps_its_entries') "
            "OR tgname = 'entry_refers_to_stored_rows'").scalar_one() == 0


def _batch_line_keys_and_indexes(connection) -> tuple[list[str], list[str]]:
    keys = connection.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'batch_line'::regclass AND contype = 'f' ORDER BY conname")
    indexes = connection.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'batch_line' "
                                         "ORDER BY indexname")
    return sorted(keys.scalars()), list(indexes.scalars())


@pytest.mark.postgres
def test_the_statement_reference_checks_replace_the_batch_line_keys_and_can_be_undone(unmigrated_postgres_db):
    migrations_runner.upgrade(unmigrated_postgres_db.engine)
    with unmigrated_postgres_db.engine.begin() as connection:
        assert _batch_line_keys_and_indexes(connection) == ([], ["batch_line_pkey", "uq_batch_line_partner"])
    command.downgrade(migrations_runner._config(unmigrated_postgres_db.engine), "0019")
    with unmigrated_postgres_db.engine.begin() as connection:
        assert _batch_line_keys_and_indexes(connection) == (
            ["batch_line_batch_pk_fkey", "batch_line_partner_id_fkey"],
            ["batch_line_pkey", "ix_batch_line_partner_id", "uq_batch_line_partner"])
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM pg_trigger WHERE tgname IN ('partner_keeps_its_lines', 'batch_keeps_its_lines', "
            "'batch_line_refers_to_stored_rows')").scalar_one() == 0
