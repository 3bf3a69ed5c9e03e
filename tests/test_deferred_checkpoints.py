"""A long entries import on PostgreSQL adds its entries to balances and checkpoints once, at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from domain import imports
from domain.imports import ImportRefused
from tests.factories import add_entry
from tests.test_deferred_indexes import _ledger, _row, short_threshold  # noqa: F401  (a fixture)

CHECKPOINTS_FROM_ENTRIES = """
    SELECT 1, date_trunc('month', effective_date)::date, partner_id,
           SUM(CASE kind WHEN 'commission' THEN amount ELSE 0 END), SUM(CASE kind WHEN 'clawback' THEN amount ELSE 0 END),
           SUM(CASE kind WHEN 'payment' THEN amount ELSE 0 END)
    FROM entry GROUP BY 2, 3
    UNION ALL
    SELECT 12, date_trunc('year', effective_date)::date, partner_id,
           SUM(CASE kind WHEN 'commission' THEN amount ELSE 0 END), SUM(CASE kind WHEN 'clawback' THEN amount ELSE 0 END),
           SUM(CASE kind WHEN 'payment' THEN amount ELSE 0 END)
    FROM entry GROUP BY 2, 3
    ORDER BY 1, 2, 3"""


def _balances(session) -> dict[str, int]:
    return dict(session.execute(text("SELECT code, balance FROM partner ORDER BY code")).all())


def _rows_seeing_balances(session, count: int, seen: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """`count` rows over three partners, months and kinds, noting the balances in the import's own
    transaction as each is read."""
    for number in range(1, count + 1):
        seen.append(_balances(session))
        kind = "clawback" if number % 5 == 0 else "commission"
        yield number, {**_row(number, ("ANN", "BOB", "CID")[number % 3], f"2015-{number % 12 + 1:02d}-03",
                              f"{number}.25")[1], "kind": kind}


@pytest.mark.postgres
def test_a_long_import_on_postgresql_adds_to_balances_only_at_its_end(postgres_db, short_threshold):  # noqa: F811
    _ledger(postgres_db)
    seen: list[dict[str, int]] = []
    with postgres_db.write() as s:
        imports.import_entry_records(s, _rows_seeing_balances(s, 12, seen), source="long.csv", actor="t")
        after = _balances(s)
    moved = [sum(balances.values()) for balances in seen]  # before each row is read; chunks of two
    assert moved == [0, 0, 350, 350] + [1100] * 8  # the first four rows the trigger's own way, then nothing
    assert sum(after.values()) == sum((n * 100 + 25) * (-1 if n % 5 == 0 else 1) for n in range(1, 13))


@pytest.mark.postgres
def test_after_a_deferred_import_the_checkpoints_equal_the_entries_sums(postgres_db, short_threshold):  # noqa: F811
    _ledger(postgres_db)
    with postgres_db.write() as s:
        ann = s.execute(text("SELECT id FROM partner WHERE code = 'ANN'")).scalar_one()
        add_entry(s, type("P", (), {"id": ann, "currency": "USD"})(), "commission", 700, "2015-03-09")
    with postgres_db.write() as s:
        imports.import_entry_records(s, _rows_seeing_balances(s, 30, []), source="long.csv", actor="t")
    with postgres_db.read() as s:
        stored = s.execute(text("SELECT months, start, partner_id, commissions, clawbacks, payments "
                                "FROM partner_period ORDER BY 1, 2, 3")).all()
        assert stored == s.execute(text(CHECKPOINTS_FROM_ENTRIES)).all()
        net = s.execute(text("SELECT partner_id, SUM(CASE kind WHEN 'commission' THEN amount ELSE -amount END), "
                             "SUM(abs(amount)) FROM entry GROUP BY partner_id ORDER BY 1")).all()
        assert net == s.execute(text("SELECT id, balance, turnover FROM partner WHERE turnover != 0 ORDER BY 1")).all()


@pytest.mark.postgres
def test_after_a_deferred_import_later_entries_update_balances_as_they_are_written(postgres_db, short_threshold):  # noqa: F811
    _ledger(postgres_db)
    with postgres_db.write() as s:
        imports.import_entry_records(s, _rows_seeing_balances(s, 10, []), source="long.csv", actor="t")
        before = _balances(s)["ANN"]
        s.execute(text("INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
                       "recorded_at, recorded_by) SELECT id, 'commission', 5, 'USD', '2015-07-01', 'LATER', '', "
                       "'2015-07-01', 't' FROM partner WHERE code = 'ANN'"))
        assert _balances(s)["ANN"] == before + 5
        assert s.execute(text("SELECT current_setting('payouts.defer_checkpoints', true)")).scalar() == "off"


@pytest.mark.postgres
def test_a_refused_long_import_on_postgresql_leaves_balances_and_checkpoints_as_they_were(postgres_db, short_threshold):  # noqa: F811
    _ledger(postgres_db)

    def rows(session) -> Iterator[tuple[int, dict[str, str]]]:
        yield from _rows_seeing_balances(session, 10, [])
        yield 11, {**_row(11)[1], "partner_code": "NOBODY"}

    with pytest.raises(ImportRefused, match="NOBODY"), postgres_db.write() as s:
        imports.import_entry_records(s, rows(s), source="bad.csv", actor="t")
    with postgres_db.read() as s:
        assert set(_balances(s).values()) == {0}
        assert s.execute(text("SELECT count(*) FROM partner_period")).scalar_one() == 0


def test_sqlite_keeps_adding_entries_as_they_are_written_through_a_long_import(sqlite_db, short_threshold):  # noqa: F811
    _ledger(sqlite_db)
    seen: list[dict[str, int]] = []
    with sqlite_db.write() as s:
        imports.import_entry_records(s, _rows_seeing_balances(s, 12, seen), source="long.csv", actor="t")
    assert len({sum(balances.values()) for balances in seen}) == 6  # a new sum after every chunk of two
