"""The ledger report as CSV and JSON: the shapes of SPEC §5 and §7 that scripts depend on."""

from __future__ import annotations

from typing import Any, TextIO

from commands.csv_safety import safe_text, write_rows
from domain.ledger import CurrencyTotals, LedgerReport, LedgerRow, PartnerLedger
from domain.money import format_plain

LEDGER_CSV_HEADER = (
    "partner_code", "partner_name", "email", "currency",
    "beginning_balance", "commissions", "clawbacks", "payments", "ending_balance",
)
FIGURES = ("beginning_balance", "commissions", "clawbacks", "payments", "ending_balance")


def _figures(item: LedgerRow | CurrencyTotals, currency: str) -> list[str]:
    return [format_plain(getattr(item, name), currency) for name in FIGURES]


def write_ledger_csv(report: LedgerReport, handle: TextIO) -> None:
    write_rows(
        handle,
        LEDGER_CSV_HEADER,
        (
            [safe_text(row.partner_code), safe_text(row.partner_name), safe_text(row.email), row.currency,
             *_figures(row, row.currency)]
            for row in report.rows
        ),
    )


def ledger_json(report: LedgerReport) -> dict[str, Any]:
    return {
        "start": report.range.start.isoformat(),
        "end": report.range.end.isoformat(),
        "rows": [
            {"partner_code": row.partner_code, "partner_name": row.partner_name, "currency": row.currency,
             **dict(zip(FIGURES, _figures(row, row.currency), strict=True))}
            for row in report.rows
        ],
        "totals": [
            {"currency": total.currency, **dict(zip(FIGURES, _figures(total, total.currency), strict=True))}
            for total in report.totals
        ],
    }


def partner_ledger_json(ledger: PartnerLedger) -> dict[str, Any]:
    currency = ledger.currency
    return {
        "partner_code": ledger.partner_code,
        "partner_name": ledger.partner_name,
        "currency": currency,
        "start": ledger.range.start.isoformat(),
        "end": ledger.range.end.isoformat(),
        "beginning_balance": format_plain(ledger.beginning_balance, currency),
        "entries": [
            {"date": line.date.isoformat(), "kind": line.kind, "reference": line.reference,
             "description": line.description, "amount": format_plain(line.amount, currency),
             "balance": format_plain(line.balance, currency)}
            for line in ledger.lines
        ],
        "ending_balance": format_plain(ledger.ending_balance, currency),
    }
