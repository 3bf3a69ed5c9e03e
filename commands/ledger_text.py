"""The ledger report and a partner ledger as aligned, currency-formatted text for a terminal."""

from __future__ import annotations

from typing import TextIO

from commands.text_table import SpooledTable, render
from domain.ledger_data import CurrencyTotals, LedgerReport, LedgerRow, LedgerRows, PartnerLedger
from domain.money import format_display
from domain.text import visible

_REPORT_HEADER = ("Code", "Partner", "Cur", "Beginning", "Commissions", "Clawbacks", "Payments", "Ending")
_HOLD_HEADER = ("On hold", "Payable")
_REPORT_RIGHT = (False, False, False, True, True, True, True, True)


def _amounts(item: LedgerRow | CurrencyTotals, currency: str, holds: bool) -> list[str]:
    """The figures of a row or a total; with a hold configured, on hold and payable after ending (SPEC §12)."""
    values = [item.beginning_balance, item.commissions, item.clawbacks, item.payments, item.ending_balance]
    if holds:
        values += [item.on_hold, item.payable]
    return [format_display(value, currency) for value in values]


def _report_row(row: LedgerRow, holds: bool) -> list[str]:
    return [row.partner_code, row.partner_name, row.currency, *_amounts(row, row.currency, holds)]


def _total_row(total: CurrencyTotals, holds: bool) -> list[str]:
    return [f"Total ({total.partners})", "", total.currency, *_amounts(total, total.currency, holds)]


def _title(report: LedgerReport | LedgerRows, count: int) -> str:
    return f"Referral partner ledger {report.range}: {count} partner(s)"


def write_report_table(report: LedgerRows, out: TextIO) -> None:
    """`report_table`'s text and a newline, from one pass over the report as the database returns
    it: the rows are counted, totalled and set aside in a spooled table (the title, the columns and
    the last rows need them all), then written. A 100,000-partner report is never held."""
    header = _REPORT_HEADER + (_HOLD_HEADER if report.holds else ())
    table = SpooledTable(header, _REPORT_RIGHT + ((True, True) if report.holds else ()))
    try:
        totals: dict[str, CurrencyTotals] = {}
        for row in report.rows:
            totals.setdefault(row.currency, CurrencyTotals(row.currency)).add(row)
            table.add(_report_row(row, report.holds))
        if not table.rows:
            out.write(f"{_title(report, 0)}\nNo partner has any activity or balance in this range.\n")
            return
        out.write(_title(report, table.rows) + "\n")
        table.write(out, [_total_row(totals[currency], report.holds) for currency in sorted(totals)])
        out.write("\n")
    finally:
        table.close()


def report_table(report: LedgerReport) -> str:
    rows = [_report_row(row, report.holds) for row in report.rows]
    totals = [_total_row(total, report.holds) for total in report.totals]
    title = _title(report, len(report.rows))
    if not rows:
        return f"{title}\nNo partner has any activity or balance in this range."
    header = _REPORT_HEADER + (_HOLD_HEADER if report.holds else ())
    right = _REPORT_RIGHT + ((True, True) if report.holds else ())
    body = render(header, rows + totals, right)
    return f"{title}\n{body}"


def partner_ledger_table(ledger: PartnerLedger) -> str:
    cur = ledger.currency
    holds = ledger.holds
    rows = [["", "Beginning balance", "", "", "", format_display(ledger.beginning_balance, cur)]]
    rows += [
        [line.date.isoformat(), line.kind, line.reference, line.description,
         format_display(line.amount, cur), format_display(line.balance, cur)]
        + ([line.payable_on.isoformat() if line.payable_on else ""] if holds else [])
        for line in ledger.lines
    ]
    closing = [["", "Ending balance", "", "", "", format_display(ledger.ending_balance, cur)]]
    if holds:
        rows = [row + [""] if len(row) == 6 else row for row in rows]
        closing = [row + [""] for row in closing] + [
            ["", "On hold", "", "", "", format_display(ledger.on_hold, cur), ""],
            ["", "Payable", "", "", "", format_display(ledger.payable, cur), ""],
        ]
    title = visible(
        f"{ledger.partner_name} ({ledger.partner_code}), {ledger.range}, {cur}"
        + (f", {ledger.email}" if ledger.email else "")
    )
    header = ("Date", "Kind", "Reference", "Description", "Amount", "Balance") + (("Payable on",) if holds else ())
    table = render(header, rows + closing, (False, False, False, False, True, True) + ((False,) if holds else ()))
    return f"{title}\n{table}"
