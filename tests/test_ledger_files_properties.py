"""The month report's CSV and JSON, written a block of rows at a time, are the bytes the csv module
and `document` write row by row: for any text (commas, quotes, line breaks, formula starts, no email),
any currency, any figures, with and without a hold, across block boundaries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.csv_safety import safe_text
from commands.json_text import document
from commands.ledger_files import HOLD_FIGURES, LEDGER_CSV_HEADER, ledger_json, write_ledger_csv, write_ledger_json
from domain import ledger_data
from domain.dates import DateRange
from domain.ledger_data import LedgerReport, LedgerRow, LedgerRows, totals_by_currency
from domain.money import format_plain

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
_TEXT = st.one_of(
    st.text(alphabet="ab ,\"'\r\n=+-@\t\0é漢", max_size=8),
    st.text(max_size=8),
    st.sampled_from(["P1", "Smith, Jo", 'say "hi"', "=SUM(A1)", "-5", "@x", "\tx", "line\nbreak"]),
)
_FIGURE = st.integers(min_value=-(10**15), max_value=10**15)
_ROW = st.builds(
    LedgerRow, partner_id=st.integers(min_value=1, max_value=10**6), partner_code=_TEXT, partner_name=_TEXT,
    email=st.one_of(st.none(), _TEXT), currency=st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
    beginning_balance=_FIGURE, commissions=_FIGURE, clawbacks=_FIGURE, payments=_FIGURE, on_hold=_FIGURE,
)


@contextmanager
def _blocks_of(rows: int) -> Iterator[None]:
    """Blocks of a few rows, so that a handful of rows crosses their boundaries."""
    saved, ledger_data.STREAMED_ROWS = ledger_data.STREAMED_ROWS, rows
    try:
        yield
    finally:
        ledger_data.STREAMED_ROWS = saved


def _csv_row_by_row(rows: list[LedgerRow], holds: bool) -> str:
    handle = io.StringIO()
    out = csv.writer(handle, lineterminator="\r\n")
    out.writerow(LEDGER_CSV_HEADER + (HOLD_FIGURES if holds else ()))
    for row in rows:
        figures = [row.beginning_balance, row.commissions, row.clawbacks, row.payments, row.ending_balance]
        figures += [row.on_hold, row.payable] if holds else []
        out.writerow([safe_text(row.partner_code), safe_text(row.partner_name), safe_text(row.email), row.currency,
                      *(format_plain(figure, row.currency) for figure in figures)])
    return handle.getvalue()


def _streamed(writer, rows: list[LedgerRow], holds: bool, block: int) -> str:  # type: ignore[no-untyped-def]
    """What `writer` writes of the rows streamed in blocks of `block` rows."""
    with _blocks_of(block):
        handle = io.StringIO()
        writer(LedgerRows(JUNE, holds, iter(rows)), handle)
    return handle.getvalue()


_REPORTS = (st.lists(_ROW, max_size=9), st.booleans(), st.integers(min_value=1, max_value=4))


@settings(max_examples=150)
@given(*_REPORTS)
def test_the_csv_report_is_what_the_csv_module_writes_row_by_row(rows, holds, block):
    assert _streamed(write_ledger_csv, rows, holds, block) == _csv_row_by_row(rows, holds)


@settings(max_examples=150)
@given(*_REPORTS)
def test_the_json_report_is_the_document_of_the_whole_report(rows, holds, block):
    whole = LedgerReport(JUNE, rows, totals_by_currency(rows), holds=holds)
    assert _streamed(write_ledger_json, rows, holds, block) == document(ledger_json(whole))


def test_a_report_of_a_list_is_written_as_the_same_report_streamed():
    rows = [LedgerRow(n, f"P{n}", "Partner, the first", None, "USD", 100 * n, 5, 0, 1) for n in range(1, 6)]
    listed, streamed = io.StringIO(), io.StringIO()
    write_ledger_csv(LedgerReport(JUNE, rows, totals_by_currency(rows)), listed)
    write_ledger_csv(LedgerRows(JUNE, False, iter(rows)), streamed)
    assert listed.getvalue() == streamed.getvalue()
    assert '"Partner, the first"' in listed.getvalue()
