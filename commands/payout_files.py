"""Payout files for a posted batch (SPEC §7): PayPal Payouts, Wise batch CSV and a generic CSV.

PayPal takes one currency per file and no header row; Wise takes its own header, which must not
be renamed. Both need an e-mail for every recipient, so a partner without one stops the export
with their name rather than silently dropping their payment.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.csv_safety import safe_text, writer
from domain.models import POSTED, Batch, Partner
from domain.money import MoneyError, format_plain, normalize_currency

if TYPE_CHECKING:
    from domain.batches import PlannedLine

GENERIC = "csv"  # the generic payout file, also attached to a batch approved in chat
FORMATS = ("paypal", "wise", GENERIC)
WISE_HEADER = (
    "name", "recipientEmail", "paymentReference", "receiverType",
    "amountCurrency", "amount", "sourceCurrency", "targetCurrency",
)
GENERIC_HEADER = (
    "batch_id", "partner_code", "partner_name", "email", "amount", "currency", "payment_type", "payment_date",
)
PAYPAL_ROWS_PER_FILE = 5_000
WISE_ROWS_PER_FILE = 1_000


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class PayoutFile:
    """One file's text; `currency` is set when the format splits files by currency."""

    currency: str | None
    part: int
    text: str


def recipient(partner: Partner) -> str | None:
    return (partner.payout_email or partner.email or "").strip() or None


def _require_emails(lines: list[PlannedLine], partners: dict[int, Partner]) -> None:
    missing = [f"{line.partner_code} ({line.partner_name})" for line in lines if recipient(partners[line.partner_id]) is None]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise ExportError(f"no e-mail address to pay {len(missing)} partner(s): {shown}; add one with `payouts import partners`")


def _require_money(lines: list[PlannedLine]) -> None:
    """A partner stored in a code that is no currency of money (XAU, QQQ) cannot be paid by file."""
    for currency, group in _by_currency(lines).items():
        try:
            normalize_currency(currency)
        except MoneyError as exc:
            names = [f"{line.partner_code} ({line.partner_name})" for line in group]
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            raise ExportError(f"{exc}: no payout file for {len(names)} partner(s): {shown}") from None


def _by_currency(lines: Iterable[PlannedLine]) -> dict[str, list[PlannedLine]]:
    groups: dict[str, list[PlannedLine]] = {}
    for line in lines:
        groups.setdefault(line.currency, []).append(line)
    return dict(sorted(groups.items()))


def _chunks(lines: list[PlannedLine], size: int) -> list[list[PlannedLine]]:
    return [lines[i : i + size] for i in range(0, len(lines), size)] or [[]]


def _render(rows: Iterable[Iterable[str]], header: Iterable[str] | None = None) -> str:
    buffer = io.StringIO()
    out = writer(buffer)
    if header is not None:
        out.writerow(list(header))
    out.writerows(rows)
    return buffer.getvalue()


def _paypal(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner]) -> list[PayoutFile]:
    note = f"Referral commission payout {batch.batch_id}"
    files = []
    for currency, group in _by_currency(lines).items():
        for part, chunk in enumerate(_chunks(group, PAYPAL_ROWS_PER_FILE), start=1):
            rows = (
                [safe_text(recipient(partners[line.partner_id])), format_plain(line.amount, currency), currency,
                 safe_text(line.partner_code[:30]), note, "PAYPAL"]
                for line in chunk
            )
            files.append(PayoutFile(currency, part, _render(rows)))
    return files


def _wise(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner]) -> list[PayoutFile]:
    files = []
    for currency, group in _by_currency(lines).items():
        for part, chunk in enumerate(_chunks(group, WISE_ROWS_PER_FILE), start=1):
            rows = (
                [safe_text(line.partner_name), safe_text(recipient(partners[line.partner_id])), batch.batch_id,
                 "PRIVATE", "target", format_plain(line.amount, currency), currency, currency]
                for line in chunk
            )
            files.append(PayoutFile(currency, part, _render(rows, WISE_HEADER)))
    return files


def generic_csv(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner]) -> str:
    """Every line in one generic CSV: the file attached to a posted batch in chat."""
    rows = (
        [batch.batch_id, safe_text(line.partner_code), safe_text(line.partner_name),
         safe_text(recipient(partners[line.partner_id]) or ""), format_plain(line.amount, line.currency),
         line.currency, safe_text(batch.payment_type), batch.payment_date.isoformat()]
        for line in lines
    )
    return _render(rows, GENERIC_HEADER)


def _generic(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner]) -> list[PayoutFile]:
    """One file per currency, like the other formats (SPEC §5, batch export)."""
    return [PayoutFile(currency, 1, generic_csv(batch, group, partners)) for currency, group in _by_currency(lines).items()]


def payout_files(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner], fmt: str,
                 currency: str | None = None) -> list[PayoutFile]:
    """The files for a posted batch in `fmt`, optionally only the lines in one currency."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    if batch.status != POSTED:
        raise ExportError(f"{batch.batch_id} is {batch.status}; only a posted batch has payouts to export")
    if currency is not None:
        lines = [line for line in lines if line.currency == currency]
        if not lines:
            raise ExportError(f"{batch.batch_id} pays nobody in {currency}")
    _require_money(lines)
    if fmt == "csv":
        return _generic(batch, lines, partners)
    _require_emails(lines, partners)
    return (_paypal if fmt == "paypal" else _wise)(batch, lines, partners)


def file_name(base: str, payout: PayoutFile, several: bool) -> str:
    """payouts.csv -> payouts-USD.csv when a batch is split by currency; -2, -3 for further parts."""
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, "csv"
    suffix = ""
    if payout.currency is not None and several:
        suffix += f"-{payout.currency}"
    if payout.part > 1:
        suffix += f"-{payout.part}"
    return f"{stem}{suffix}.{extension}"
