"""A long entries import builds the (partner, date) and (date, id) indexes after its rows (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text

from domain import deferred_indexes, imports
from domain.dates import DateRange
from domain.imports import ImportRefused
from domain.ledger import ledger_report, ledger_report_plain
from tests.factories import add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


@pytest.fixture
def short_threshold(monkeypatch) -> None:
    """Two rows a chunk and indexes set aside from the fourth entry: a long import in a few rows."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    monkeypatch.setattr(deferred_indexes, "LONG_IMPORT_ENTRIES", 4)


def _index_definitions(session) -> dict[str, str]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'entry' AND indexname = ANY(:names)"),
            {"names": list(deferred_indexes.SORTED_AFTER)})
    else:
        rows = session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entry' AND name IN (:a, :b)"),
            dict(zip("ab", deferred_indexes.SORTED_AFTER, strict=True)))
    return dict(rows.all())


def _row(number: int, code: str = "ANN", day: str = "2015-06-01", amount: str = "1.00") -> tuple[int, dict[str, str]]:
    return number, {"date": day, "partner_code": code, "kind": "commission", "amount": amount,
                    "reference": f"ORD-{number}", "description": ""}


def _rows_watching(session, count: int, seen: list[dict[str, str]], first: int = 1) -> Iterator[tuple[int, dict[str, str]]]:
    """`count` rows over three partners and the month's days, noting the indexes present as each is read."""
    for number in range(first, first + count):
        seen.append(_index_definitions(session))
        yield _row(number, ("ANN", "BOB", "CID")[number % 3], f"2015-06-{number % 28 + 1:02d}", f"{number}.25")


def _ledger(db) -> None:
    with db.write() as s:
        for code in ("ANN", "BOB", "CID"):
            add_partner(s, code, code.title())


def test_a_long_import_on_sqlite_sets_the_indexes_aside_once_past_the_threshold(sqlite_db, short_threshold):
    _ledger(sqlite_db)
    seen: list[dict[str, str]] = []
    with sqlite_db.write() as s:
        before = _index_definitions(s)
        imports.import_entry_records(s, _rows_watching(s, 10, seen), source="long.csv", actor="t")
    assert len(before) == 2
    assert [len(found) for found in seen] == [2] * 4 + [0] * 6  # the fourth row's chunk crossed the threshold


def test_a_long_import_builds_the_indexes_again_as_they_were_defined(db, short_threshold):
    _ledger(db)
    with db.write() as s:
        before = _index_definitions(s)
        imports.import_entry_records(s, _rows_watching(s, 10, []), source="long.csv", actor="t")
    with db.read() as s:
        assert _index_definitions(s) == before


def test_after_a_long_import_the_report_equals_the_plain_aggregate(db, short_threshold):
    _ledger(db)
    with db.write() as s:
        imports.import_entry_records(s, _rows_watching(s, 25, []), source="long.csv", actor="t")
    with db.read() as s:
        assert ledger_report(s, JUNE).rows == ledger_report_plain(s, JUNE).rows
        assert sum(row.commissions for row in ledger_report(s, JUNE).rows) == sum(n * 100 + 25 for n in range(1, 26))


def test_postgresql_keeps_its_indexes_through_a_long_import(postgres_db, short_threshold):
    """Dropping an index there would lock the table against every reader until the commit."""
    _ledger(postgres_db)
    seen: list[dict[str, str]] = []
    with postgres_db.write() as s:
        imports.import_entry_records(s, _rows_watching(s, 10, seen), source="long.csv", actor="t")
    assert [len(found) for found in seen] == [2] * 10


def test_an_import_shorter_than_the_ledger_leaves_the_indexes_in_place(sqlite_db, short_threshold):
    _ledger(sqlite_db)
    with sqlite_db.write() as s:
        imports.import_entry_records(s, _rows_watching(s, 12, []), source="first.csv", actor="t")
    seen: list[dict[str, str]] = []
    with sqlite_db.write() as s:
        imports.import_entry_records(s, _rows_watching(s, 10, seen, first=101), source="second.csv", actor="t")
    assert [len(found) for found in seen] == [2] * 10


def test_a_refused_long_import_keeps_the_indexes_and_writes_nothing(db, short_threshold):
    _ledger(db)
    with db.read() as s:
        before = _index_definitions(s)

    def rows(session) -> Iterator[tuple[int, dict[str, str]]]:
        yield from _rows_watching(session, 10, [])
        yield 11, {**_row(11)[1], "partner_code": "NOBODY"}

    with pytest.raises(ImportRefused, match="NOBODY"), db.write() as s:
        imports.import_entry_records(s, rows(s), source="bad.csv", actor="t")
    with db.read() as s:
        assert _index_definitions(s) == before
        assert s.execute(text("SELECT count(*) FROM entry")).scalar_one() == 0
