"""`payouts ledger RANGE` (the table) written as the report's rows are read (issue 21: every report
path under 250 MB at 100,000 partners), in the bytes the table had when it was laid out whole."""

from __future__ import annotations

import gc
import io
from dataclasses import replace
from datetime import date

import pytest

from commands import ledger_text, use_ledger
from commands.context import Request
from domain.dates import DateRange
from domain.ledger_data import LedgerRow
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def _ledger(db) -> None:  # type: ignore[no-untyped-def]
    with db.write() as s:
        for number, (code, name, currency) in enumerate((
            ("ANN", "Ann", "USD"), ("BOB", "Bob Müller", "EUR"), ("YEN", "山田太郎", "JPY"),
            ("A-VERY-LONG-PARTNER-CODE-INDEED", "A name longer than the forty columns a cell may take", "USD"),
            ("CTRL", "Line\nbreak, ESC\x1b and\u2028separator", "EUR"),
        ), start=1):
            partner = add_partner(s, code, name, currency=currency)
            add_entry(s, partner, "commission", 10_000 * number, "2015-06-10")
            add_entry(s, partner, "commission", 1_000 * number, "2015-07-10")
        add_entry(s, add_partner(s, "OWES", "Owes"), "clawback", 500, "2015-06-11")


def _streamed(request: Request, period: DateRange) -> str:
    out = io.StringIO()
    with use_ledger.streamed_report(request, period) as rows:
        ledger_text.write_report_table(rows, out)
    return out.getvalue()


@pytest.mark.parametrize("hold_days", [0, 30])
def test_the_streamed_table_is_the_whole_tables_text(db, settings, hold_days):
    _ledger(db)
    request = Request.operator(db, replace(settings, hold_days=hold_days), "cli:test")
    whole = ledger_text.report_table(use_ledger.report(request, JUNE)) + "\n"
    assert _streamed(request, JUNE) == whole
    assert "Total (3)" in whole and "Total (2)" in whole and "\\n" in whole


def test_the_streamed_table_of_an_empty_range_says_so_as_before(db, settings):
    _ledger(db)
    request = Request.operator(db, settings, "cli:test")
    empty = DateRange(date(2014, 1, 1), date(2014, 1, 31))
    assert _streamed(request, empty) == ledger_text.report_table(use_ledger.report(request, empty)) + "\n"


def test_the_table_holds_no_more_than_one_report_row_at_a_time(db, settings, monkeypatch, capsys):
    from bot.cli import main

    _ledger(db)
    alive: list[int] = []
    cells = ledger_text._report_row

    def counting(row: LedgerRow, holds: bool) -> list[str]:
        gc.collect()
        alive.append(sum(isinstance(thing, LedgerRow) for thing in gc.get_objects()))
        return cells(row, holds)

    monkeypatch.setattr(ledger_text, "_report_row", counting)
    assert main(["--database", db.url, "ledger", "2015-06"]) == 0
    assert "Referral partner ledger 2015-06-01..2015-06-30: 6 partner(s)" in capsys.readouterr().out
    assert max(alive) == 1
