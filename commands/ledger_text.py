"""The ledger report and a partner ledger as aligned, currency-formatted text for a terminal."""

from __future__ import annotations

from commands.text_table import render
from domain.ledger import LedgerReport, PartnerLedger
from domain.money import format_display
from domain.text import visible

_REPORT_HEADER = ("Code", "Partner", "Cur", "Beginning", "Commissions", "Clawbacks", "Payments", "Ending")
_REPORT_RIGHT = (False, False, False, True, True, True, True, True)


def report_table(report: LedgerReport) -> str:
    rows = [
        [row.partner_code, row.partner_name, row.currency,
         *(format_display(v, row.currency) for v in (
             row.beginning_balance, row.commissions, row.clawbacks, row.payments, row.ending_balance))]
        for row in report.rows
    ]
    totals = [
        [f"Total ({total.partners})", "", total.currency,
         *(format_display(v, total.currency) for v in (
             total.beginning_balance, total.commissions, total.clawbacks, total.payments, total.ending_balance))]
        for total in report.totals
    ]
    title = f"Referral partner ledger {report.range}: {len(report.rows)} partner(s)"
    if not rows:
        return f"{title}\nNo partner has any activity or balance in this range."
    body = render(_REPORT_HEADER, rows + totals, _REPORT_RIGHT)
    return f"{title}\n{body}"


def partner_ledger_table(ledger: PartnerLedger) -> str:
    cur = ledger.currency
    rows = [["", "Beginning balance", "", "", "", format_display(ledger.beginning_balance, cur)]]
    rows += [
        [line.date.isoformat(), line.kind, line.reference, line.description,
         format_display(line.amount, cur), format_display(line.balance, cur)]
        for line in ledger.lines
    ]
    rows.append(["", "Ending balance", "", "", "", format_display(ledger.ending_balance, cur)])
    title = visible(
        f"{ledger.partner_name} ({ledger.partner_code}), {ledger.range}, {cur}"
        + (f", {ledger.email}" if ledger.email else "")
    )
    table = render(("Date", "Kind", "Reference", "Description", "Amount", "Balance"), rows,
                   (False, False, False, False, True, True))
    return f"{title}\n{table}"
