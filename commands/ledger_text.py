"""The ledger report and a partner ledger as aligned, currency-formatted text for a terminal."""

from __future__ import annotations

from commands.text_table import render
from domain.ledger import CurrencyTotals, LedgerReport, LedgerRow, PartnerLedger
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


def report_table(report: LedgerReport) -> str:
    rows = [
        [row.partner_code, row.partner_name, row.currency, *_amounts(row, row.currency, report.holds)]
        for row in report.rows
    ]
    totals = [
        [f"Total ({total.partners})", "", total.currency, *_amounts(total, total.currency, report.holds)]
        for total in report.totals
    ]
    title = f"Referral partner ledger {report.range}: {len(report.rows)} partner(s)"
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
