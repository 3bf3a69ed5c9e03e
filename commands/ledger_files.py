"""The ledger report as CSV and JSON: the shapes of SPEC §5 and §7 that scripts depend on."""

from __future__ import annotations

from typing import Any, TextIO

from commands.csv_safety import safe_text, write_rows
from domain.ledger import CurrencyTotals, LedgerLine, LedgerReport, LedgerRow, PartnerLedger
from domain.money import format_plain

LEDGER_CSV_HEADER = (
    "partner_code", "partner_name", "email", "currency",
    "beginning_balance", "commissions", "clawbacks", "payments", "ending_balance",
)
FIGURES = ("beginning_balance", "commissions", "clawbacks", "payments", "ending_balance")
HOLD_FIGURES = ("on_hold", "payable")


def _names(holds: bool) -> tuple[str, ...]:
    """The figures a report carries: SPEC §12's two more only when a hold is configured."""
    return FIGURES + HOLD_FIGURES if holds else FIGURES


def _figures(item: LedgerRow | CurrencyTotals, currency: str, holds: bool = False) -> list[str]:
    return [format_plain(getattr(item, name), currency) for name in _names(holds)]


def write_ledger_csv(report: LedgerReport, handle: TextIO) -> None:
    write_rows(
        handle,
        LEDGER_CSV_HEADER + (HOLD_FIGURES if report.holds else ()),
        (
            [safe_text(row.partner_code), safe_text(row.partner_name), safe_text(row.email), row.currency,
             *_figures(row, row.currency, report.holds)]
            for row in report.rows
        ),
    )


def ledger_json(report: LedgerReport) -> dict[str, Any]:
    names = _names(report.holds)
    return {
        "start": report.range.start.isoformat(),
        "end": report.range.end.isoformat(),
        "rows": [
            {"partner_code": row.partner_code, "partner_name": row.partner_name, "currency": row.currency,
             **dict(zip(names, _figures(row, row.currency, report.holds), strict=True))}
            for row in report.rows
        ],
        "totals": [
            {"currency": total.currency,
             **dict(zip(names, _figures(total, total.currency, report.holds), strict=True))}
            for total in report.totals
        ],
    }


def _json_line(line: LedgerLine, currency: str, holds: bool) -> dict[str, Any]:
    """An entry; with a hold configured each carries `payable_on`, the day a held commission is payable."""
    item = {"date": line.date.isoformat(), "kind": line.kind, "reference": line.reference,
            "description": line.description, "amount": format_plain(line.amount, currency),
            "balance": format_plain(line.balance, currency)}
    if holds:
        item["payable_on"] = line.payable_on.isoformat() if line.payable_on else None
    return item


def partner_ledger_json(ledger: PartnerLedger) -> dict[str, Any]:
    currency = ledger.currency
    body = {
        "partner_code": ledger.partner_code,
        "partner_name": ledger.partner_name,
        "currency": currency,
        "start": ledger.range.start.isoformat(),
        "end": ledger.range.end.isoformat(),
        "beginning_balance": format_plain(ledger.beginning_balance, currency),
        "entries": [_json_line(line, currency, ledger.holds) for line in ledger.lines],
        "ending_balance": format_plain(ledger.ending_balance, currency),
    }
    if ledger.holds:
        body["on_hold"] = format_plain(ledger.on_hold, currency)
        body["payable"] = format_plain(ledger.payable, currency)
    return body
