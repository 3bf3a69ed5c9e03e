"""Entries given as data (the HTTP API) are read and checked before the write transaction (SPEC §11:
the API must not hold the database longer than its writes), with the same outcome as a file import."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from commands import use_imports
from commands.context import Request
from domain import imports
from domain.imports import ImportRefused
from domain.models import Entry, Partner
from tests.factories import add_partner


def _records(*rows: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    return [(index, {"date": "2015-06-03", "kind": "commission", **row}) for index, row in enumerate(rows)]


def _entries(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Entry))


def test_the_rows_of_a_request_are_read_while_another_writer_holds_the_database(db, settings, monkeypatch):
    with db.write() as session:
        add_partner(session, "P1")
    holding, parsed, release = threading.Event(), threading.Event(), threading.Event()
    real_parse = imports._parse_entry

    def spy(*args, **kwargs):
        parsed.set()
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(imports, "_parse_entry", spy)

    def writer() -> None:
        with db.write():
            holding.set()
            release.wait(10)

    other = threading.Thread(target=writer)
    other.start()
    holding.wait(10)
    request = Request.operator(db, settings, "api:feed")
    importing = threading.Thread(target=use_imports.import_entry_records, args=(request, _records(
        {"partner_code": "P1", "amount": "12.50", "reference": "R1"})), kwargs={"source": "POST"})
    importing.start()
    try:
        assert parsed.wait(10), "the rows were not read until the other writer finished"
    finally:
        release.set()
        other.join(10)
        importing.join(10)
    assert _entries(db) == 1


def test_a_prepared_request_is_not_written_when_a_partner_it_names_changed_currency(db):
    with db.write() as session:
        add_partner(session, "P1", currency="USD")
    with db.read() as session:
        prepared = imports.prepare_entry_records(session, _records(
            {"partner_code": "P1", "amount": "12.50", "reference": "R1"}))
    assert prepared is not None
    with db.write() as session:
        session.execute(update(Partner).where(Partner.code == "P1").values(currency="JPY"))
    with db.write() as session:
        assert imports.append_prepared_entries(session, prepared, source="POST", actor="api:feed") is None
    assert _entries(db) == 0


def test_a_request_whose_partner_changed_currency_meanwhile_is_read_again_with_the_new_currency(db, settings,
                                                                                                monkeypatch):
    """12.50 is a fine USD amount but has more decimals than JPY allows (ISO 4217: 0)."""
    with db.write() as session:
        add_partner(session, "P1", currency="USD")
    real_prepare = imports.prepare_entry_records

    def prepare_then_change(session, records):
        prepared = real_prepare(session, records)
        with db.write() as other:
            other.execute(update(Partner).where(Partner.code == "P1").values(currency="JPY"))
        return prepared

    monkeypatch.setattr(imports, "prepare_entry_records", prepare_then_change)
    request = Request.operator(db, settings, "api:feed")
    with pytest.raises(ImportRefused) as refused:
        use_imports.import_entry_records(request, _records({"partner_code": "P1", "amount": "12.50", "reference": "R1"}),
                                         source="POST")
    assert [(p.row, p.column) for p in refused.value.problems] == [(0, "amount")]
    assert "JPY" in refused.value.problems[0].reason
    assert _entries(db) == 0


def test_a_prepared_request_meets_the_checks_of_what_is_stored_under_the_lock(db, settings):
    """A reference already recorded with other values is found at write time, not only when read."""
    with db.write() as session:
        add_partner(session, "P1")
    request = Request.operator(db, settings, "api:feed")
    use_imports.import_entry_records(request, _records({"partner_code": "P1", "amount": "12.50", "reference": "R1"}),
                                     source="POST")
    with pytest.raises(ImportRefused) as refused:
        use_imports.import_entry_records(request, _records(
            {"partner_code": "P1", "amount": "12.50", "reference": "R2"},
            {"partner_code": "P1", "amount": "99.00", "reference": "R1"}), source="POST")
    assert [(p.row, p.column) for p in refused.value.problems] == [(1, "reference")]
    assert _entries(db) == 1


def test_a_retried_prepared_request_writes_nothing_new_and_answers_the_same_counts(db, settings):
    with db.write() as session:
        add_partner(session, "P1")
    request = Request.operator(db, settings, "api:feed")
    records = _records({"partner_code": "P1", "amount": "12.50", "reference": "R1"},
                       {"partner_code": "P1", "amount": "3", "reference": "R2"})
    first = use_imports.import_entry_records(request, records, source="POST")
    again = use_imports.import_entry_records(request, records, source="POST")
    assert (first.rows, first.added, first.unchanged) == (2, 2, 0)
    assert (again.rows, again.added, again.unchanged) == (2, 0, 2)
    assert _entries(db) == 2


def test_writers_of_one_process_wait_for_each_other_before_asking_sqlite(sqlite_db):
    """Two engines on one file share the process's mutex: the second asks SQLite for the write lock only
    after the first ends. Its SQLite connection is told not to wait at all, so asking while the first
    still held the lock would fail with "database is locked" instead of succeeding after it."""
    from sqlalchemy import event

    from domain.db import Database

    second = Database(sqlite_db.url)
    event.listen(second.engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout = 0"))
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with sqlite_db.write() as session:
            session.execute(select(1))
            holding.set()
            release.wait(10)
            order.append("first ends")

    def second_writer() -> None:
        with second.write() as session:
            session.execute(select(1))
            order.append("second began")

    one = threading.Thread(target=first_writer)
    one.start()
    holding.wait(10)
    two = threading.Thread(target=second_writer)
    two.start()
    two.join(0.3)
    release.set()
    one.join(10)
    two.join(10)
    assert order == ["first ends", "second began"]


def test_a_writer_kept_waiting_past_the_busy_timeout_is_told_the_database_is_busy(sqlite_db, monkeypatch):
    from domain import db as db_module

    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with sqlite_db.write():
            holding.set()
            release.wait(10)

    one = threading.Thread(target=holder)
    one.start()
    holding.wait(10)
    try:
        with pytest.raises(db_module.DatabaseBusy, match="busy"), sqlite_db.write():
            pass
    finally:
        release.set()
        one.join(10)
