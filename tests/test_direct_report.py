"""`payouts ledger RANGE` reads the report through the database's driver alone (domain.direct_read):
the same bytes as the engine's read, on both databases, and the engine's own messages wherever the
driver alone cannot be sure to read what the engine would."""

from __future__ import annotations

import sqlite3
from inspect import GEN_CLOSED, getgeneratorstate

import pytest
from sqlalchemy import update

from bot import cli
from commands import use_direct_report, use_ledger
from commands.context import Request
from domain import direct_read
from domain.dates import DateRange
from domain.db import Database
from domain.direct_read import Unavailable, driver_error
from domain.models import Partner
from tests.factories import add_entry, add_partner

FORMATS = ("csv", "json", "table")
JUNE = DateRange.parse("2015-06-01..2015-06-30")


def _ledger(db: Database) -> None:
    """Partners in three currencies, one with a hold of its own, entries before, in and after June."""
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann, \"the\" Lee", email="ann@example.com")
        yuki = add_partner(s, "YUKI", "山田太郎", currency="JPY", email=None)
        kal = add_partner(s, "KAL", "=Kal", currency="KWD")
        add_partner(s, "IDLE", "Idle")
        add_entry(s, ann, "commission", 123_450, "2014-12-10")
        add_entry(s, ann, "commission", 5_000, "2015-06-01")
        add_entry(s, ann, "clawback", 1_250, "2015-06-15")
        add_entry(s, ann, "payment", 100_000, "2015-06-30")
        add_entry(s, ann, "commission", 700, "2015-08-02")
        add_entry(s, yuki, "commission", 1_500, "2015-06-20")
        add_entry(s, yuki, "commission", 2_500, "2016-02-01")
        add_entry(s, kal, "clawback", 1_250, "2015-06-03")
        s.execute(update(Partner).where(Partner.code == "YUKI").values(hold_days=45))


def _report(db: Database, capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(["--database", db.url, "ledger", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _read_by_the_engine(monkeypatch) -> None:
    monkeypatch.setattr(cli, "_reported_directly", lambda args, settings: False)


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize("period", ["2015-06", "2015-06-10..2016-03-05", "2010-01-01..2030-12-31"])
def test_the_report_read_directly_is_byte_for_byte_the_report_the_engine_reads(db, capsys, monkeypatch, form,
                                                                               period):
    _ledger(db)
    direct = _report(db, capsys, period, "--format", form)
    _read_by_the_engine(monkeypatch)
    assert direct == _report(db, capsys, period, "--format", form)
    assert direct[0] == 0 and "ANN" in direct[1]


@pytest.mark.parametrize("form", FORMATS)
def test_with_a_hold_and_every_partner_the_direct_read_is_the_engines(db, capsys, monkeypatch, form):
    _ledger(db)
    monkeypatch.setenv("HOLD_DAYS", "30")
    direct = _report(db, capsys, "2015-06", "--all", "--format", form)
    _read_by_the_engine(monkeypatch)
    assert direct == _report(db, capsys, "2015-06", "--all", "--format", form)
    assert "IDLE" in direct[1] and "payable" in direct[1].lower()


def test_the_report_is_read_directly(sqlite_db, capsys, monkeypatch):
    """What the comparisons above rely on: the CLI's report does not reach the engine at all."""
    _ledger(sqlite_db)
    monkeypatch.setattr(Database, "__init__", _refused)
    assert _report(sqlite_db, capsys, "2015-06", "--format", "csv")[0] == 0


def _refused(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    raise AssertionError("the engine was used")


@pytest.mark.postgres
def test_on_postgresql_the_direct_read_sees_one_snapshot_and_writes_nothing(postgres_db):
    with direct_read.direct_read(postgres_db.url) as read:
        assert read.driver.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        assert read.driver.execute("SHOW transaction_read_only").fetchone() == ("on",)


def test_on_sqlite_the_direct_read_is_one_read_transaction_set_up_as_the_engine_sets_it(sqlite_db):
    with direct_read.direct_read(sqlite_db.url) as read:
        assert read.driver.in_transaction
        assert read.driver.execute("PRAGMA busy_timeout").fetchone() == (30_000,)
        assert read.driver.execute("PRAGMA temp_store").fetchone() == (2,)  # MEMORY, as the engine's reads


@pytest.mark.parametrize("url", [
    "sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///payouts.db", "sqlite:///pay%20outs.db",
    "sqlite:///payouts.db?mode=ro", "sqlite:///~/payouts.db", "mysql://localhost/payouts",
])
def test_a_url_the_engine_reads_otherwise_is_left_to_it(url):
    with pytest.raises(Unavailable), direct_read.direct_read(url):
        pass


def test_a_missing_database_is_left_to_the_engine_and_is_not_created(tmp_path):
    missing = tmp_path / "payouts.db"
    with pytest.raises(Unavailable), direct_read.direct_read(f"sqlite:///{missing}"):
        pass
    assert not missing.exists()


def test_a_report_on_a_database_at_an_older_schema_says_to_run_init(sqlite_db, capsys):
    with sqlite_db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0014'")
    status, out, err = _report(sqlite_db, capsys, "2015-06", "--format", "csv")
    assert status == 1 and out == ""
    assert "is at schema 0014" in err and "run `payouts init` to upgrade it" in err


def test_a_report_on_an_empty_database_file_says_to_run_init(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert cli.main(["--database", f"sqlite:///{empty}", "ledger", "2015-06", "--format", "csv"]) == 1
    assert "has no schema yet: run `payouts init` first" in capsys.readouterr().err


def test_a_file_that_is_no_database_is_a_one_line_database_error(tmp_path, capsys):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are notes, not a database\n" * 200)
    assert cli.main(["--database", f"sqlite:///{bogus}", "ledger", "2015-06", "--format", "csv"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "payouts: database error: file is not a database\n" and captured.out == ""


def test_the_drivers_own_errors_are_told_from_other_failures():
    refused = sqlite3.OperationalError("database is locked")
    assert driver_error(refused) is refused
    assert driver_error(ValueError("no")) is None


def test_rows_left_unread_are_let_go_while_the_database_is_still_open(sqlite_db, settings):
    """A reader that stops early (a closed pipe) leaves no cursor to close on a closed connection."""
    _ledger(sqlite_db)
    with use_direct_report.streamed_report(sqlite_db.url, settings, JUNE) as read:
        next(read.rows)
    assert getgeneratorstate(read.rows) == GEN_CLOSED


def test_the_engines_rows_left_unread_are_let_go_inside_its_read(db, settings):
    _ledger(db)
    request = Request.operator(db, settings, "cli:test")
    with use_ledger.streamed_report(request, JUNE) as read:
        next(read.rows)
    assert getgeneratorstate(read.rows) == GEN_CLOSED
