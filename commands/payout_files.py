"""Payout files for a posted batch (SPEC §7, §9): the files a finance team uploads to a provider.

`provider_files` writes one file per payout method and currency: PayPal Payouts, Wise by e-mail,
Wise to bank accounts, and a check register. `payout_files` writes one format for the whole batch
(`--format paypal|wise|csv`). Each provider rule below names the page it comes from; the README's
Files section lists them too. Before anything is written every line is checked, and a line that a
provider would refuse or pay wrongly stops the export naming every such partner: nobody is left out
silently, and no value is altered to make it fit.

Files uploaded to a provider hold values exactly as stored (a recipient `-bob@example.com` stays
that, an apostrophe would change whom PayPal pays); the files meant for a spreadsheet (the generic
CSV, the check register) neutralise formulas.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.csv_safety import safe_text, writer
from commands.payout_formats import FORMATS
from domain.models import POSTED, Batch, Partner
from domain.money import MoneyError, exponent, format_plain, normalize_currency
from domain.payout_details import (
    BANK,
    BUSINESS,
    CHECK,
    PAYPAL,
    WISE_EMAIL,
    BankDetails,
    bank_fields_for,
    effective_method,
    missing_address,
)

if TYPE_CHECKING:
    from domain.batches import PlannedLine

# https://developer.paypal.com/docs/api/reference/currency-codes/ : the currencies PayPal pays in.
PAYPAL_CURRENCIES = frozenset({
    "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD",
    "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD",
})
# Same page: HUF, JPY and TWD "do not support decimals".
PAYPAL_WHOLE_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
# https://docs.paypal.ai/send/use-web-ui : "use 100.5 for USD and "100,45" for EUR" (quoted).
PAYPAL_DECIMAL_COMMA_CURRENCIES = frozenset({"EUR"})
# https://developer.paypal.com/api/payments.payouts-batch/v1/definitions/payout_item_request
PAYPAL_RECIPIENT_LENGTH = 127
# https://docs.paypal.ai/send/use-web-ui : customer ID 30 characters, no spaces; note 400.
PAYPAL_CUSTOMER_ID_LENGTH = 30
PAYPAL_NOTE_LENGTH = 400
PAYPAL_ROWS_PER_FILE = 5_000
# https://wise.com/help/articles/2663302 and https://transferwise.com/help/article/2721161
WISE_ROWS_PER_FILE = 1_000
WISE_HEADER = (
    "name", "recipientEmail", "paymentReference", "receiverType",
    "amountCurrency", "amount", "sourceCurrency", "targetCurrency",
)
# The bank columns of Wise's send-to-bank-accounts template, per target currency.
WISE_BANK_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "IBAN": (("IBAN", "iban"),),
    "GBP": (("sortCode", "sort_code"), ("accountNumber", "account_number")),
    "USD": (("abartn", "ach_routing"), ("accountNumber", "account_number"), ("accountType", "account_type")),
    "AUD": (("accountNumber", "account_number"), ("bsbCode", "bsb")),
}
WISE_ADDRESS_COLUMNS = (
    ("addressCountryCode", "country"), ("addressCity", "city"), ("addressFirstLine", "address_line1"),
    ("addressState", "state"), ("addressPostCode", "postcode"),
)
CHECK_HEADER = ("payee_name", "address_line1", "city", "state", "postcode", "country", "amount", "currency", "memo")
GENERIC_HEADER = (
    "batch_id", "partner_code", "partner_name", "email", "amount", "currency", "payment_type", "payment_date",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class PayoutFile:
    """One file's text; `currency` is set when the format splits files by currency.

    `customer_ids` pairs each partner code with the PayPal customer ID written for it where the two differ.
    """

    currency: str | None
    part: int
    text: str
    method: str | None = None
    parts: int = 1
    customer_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Line:
    """A batch line with what the files need of its partner."""

    line: PlannedLine
    partner: Partner
    method: str
    bank: BankDetails


def recipient(partner: Partner) -> str | None:
    return (partner.payout_email or partner.email or "").strip() or None


def _named(lines: Iterable[PlannedLine]) -> str:
    return ", ".join(f"{line.partner_code} ({line.partner_name})" for line in lines)


def _named_with_reasons(problems: Iterable[tuple[PlannedLine, str]]) -> str:
    return "; ".join(f"{line.partner_code} ({line.partner_name}): {reason}" for line, reason in problems)


def _require_money(lines: list[PlannedLine]) -> None:
    """A partner stored in a code that is no currency of money (XAU, QQQ) cannot be paid by file."""
    for currency, group in _by_currency(lines).items():
        try:
            normalize_currency(currency)
        except MoneyError as exc:
            raise ExportError(f"{exc}: no payout file for {len(group)} partner(s): {_named(group)}") from None


def _by_currency(lines: Iterable[PlannedLine]) -> dict[str, list[PlannedLine]]:
    groups: dict[str, list[PlannedLine]] = {}
    for line in lines:
        groups.setdefault(line.currency, []).append(line)
    return dict(sorted(groups.items()))


def _chunks(items: list, size: int) -> list[list]:  # type: ignore[type-arg]
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _render(rows: Iterable[Iterable[str]], header: Iterable[str] | None = None) -> str:
    buffer = io.StringIO()
    out = writer(buffer)
    if header is not None:
        out.writerow(list(header))
    out.writerows(rows)
    return buffer.getvalue()


# ---- PayPal -----------------------------------------------------------------------------------


def paypal_amount(amount: int, currency: str) -> str:
    """The amount as PayPal's web upload reads it: whole for HUF, JPY, TWD; a decimal comma for EUR.

    Raises ValueError for an amount with cents in a currency PayPal pays only whole units of.
    """
    if currency in PAYPAL_WHOLE_CURRENCIES:
        unit = 10 ** exponent(currency)
        if amount % unit:
            raise ValueError(f"PayPal pays {currency} in whole units only and {format_plain(amount, currency)} "
                             f"{currency} is not whole")
        return str(amount // unit)
    text = format_plain(amount, currency)
    return text.replace(".", ",") if currency in PAYPAL_DECIMAL_COMMA_CURRENCIES else text


def _paypal_problem(line: PlannedLine, partner: Partner) -> str | None:
    """Why PayPal would refuse this line, or None."""
    if line.currency not in PAYPAL_CURRENCIES:
        return f"PayPal Payouts does not pay in {line.currency}"
    to = recipient(partner)
    if to is None:
        return "no e-mail address to pay"
    if len(to) > PAYPAL_RECIPIENT_LENGTH:
        return f"e-mail address longer than PayPal's {PAYPAL_RECIPIENT_LENGTH} characters"
    if not _EMAIL.match(to):
        return f"'{to}' is not an e-mail address PayPal can pay"
    try:
        paypal_amount(line.amount, line.currency)
    except ValueError as exc:
        return str(exc)
    return None


def customer_ids(codes: Iterable[str]) -> dict[str, str]:
    """A PayPal customer ID per partner code: the code when it fits (30 characters, no spaces), else
    its first characters and a hash of the whole code, unique among `codes`."""
    wanted = list(dict.fromkeys(codes))
    fitting = {code for code in wanted if len(code) <= PAYPAL_CUSTOMER_ID_LENGTH and not re.search(r"\s", code)}
    taken = set(fitting)
    ids: dict[str, str] = {}
    for code in wanted:
        if code in fitting:
            ids[code] = code
            continue
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        stem = re.sub(r"\s", "", code)[:20]
        width = 9
        candidate = f"{stem}-{digest[:width]}"
        while candidate in taken:
            width += 1
            candidate = f"{stem[: PAYPAL_CUSTOMER_ID_LENGTH - width - 1]}-{digest[:width]}"
        taken.add(candidate)
        ids[code] = candidate
    return ids


def _paypal_note(batch: Batch) -> str:
    return f"Referral commission payout {batch.batch_id}"[:PAYPAL_NOTE_LENGTH]


def _paypal_group(batch: Batch, currency: str, items: list[_Line]) -> list[PayoutFile]:
    ids = customer_ids(item.line.partner_code for item in items)
    note = _paypal_note(batch)
    chunks = _chunks(items, PAYPAL_ROWS_PER_FILE)
    files = []
    for part, chunk in enumerate(chunks, start=1):
        rows = (
            [recipient(item.partner) or "", paypal_amount(item.line.amount, currency), currency,
             ids[item.line.partner_code], note, "PAYPAL"]
            for item in chunk
        )
        renamed = tuple((item.line.partner_code, ids[item.line.partner_code]) for item in chunk
                        if ids[item.line.partner_code] != item.line.partner_code)
        files.append(PayoutFile(currency, part, _render(rows), PAYPAL, len(chunks), renamed))
    return files


# ---- Wise -------------------------------------------------------------------------------------


def _receiver_type(partner: Partner) -> str:
    """Wise's template values are PERSON and BUSINESS (PRIVATE is its API's legalType, not a template value)."""
    return "BUSINESS" if partner.entity == BUSINESS else "PERSON"


def _wise_start(batch: Batch, item: _Line, source_currency: str | None) -> list[str]:
    line = item.line
    return [line.partner_name, recipient(item.partner) or "", batch.batch_id, _receiver_type(item.partner), "target",
            format_plain(line.amount, line.currency), source_currency or line.currency, line.currency]


def _wise_email_problem(line: PlannedLine, partner: Partner) -> str | None:
    to = recipient(partner)
    if to is None:
        return "no e-mail address to pay"
    if not _EMAIL.match(to):
        return f"'{to}' is not an e-mail address"
    return None


def _bank_template(currency: str) -> str | None:
    fields = bank_fields_for(currency)
    if fields is None:
        return None
    return "IBAN" if fields == ("iban",) else currency


def _address(partner: Partner) -> dict[str, str | None]:
    return {"address_line1": partner.address_line1, "city": partner.city, "state": partner.state,
            "postcode": partner.postcode, "country": partner.country}


def _bank_problem(line: PlannedLine, partner: Partner, bank: BankDetails, source_currency: str | None) -> str | None:
    fields = bank_fields_for(line.currency)
    if fields is None:
        return f"no Wise bank template for {line.currency}; pay this partner by another method"
    missing = [name for name in fields if not getattr(bank, name)]
    if line.currency == "USD" or source_currency in ("USD", "AUD"):
        missing += missing_address(_address(partner), needs_state=partner.country == "US")
    if missing:
        return f"bank payouts in {line.currency} need {', '.join(missing)}"
    return None


def _wise_bank_header(currency: str, with_address: bool) -> tuple[str, ...]:
    template = _bank_template(currency) or currency
    address = tuple(column for column, _ in WISE_ADDRESS_COLUMNS) if with_address else ()
    return WISE_HEADER + tuple(column for column, _ in WISE_BANK_COLUMNS[template]) + address


def _bank_value(bank: BankDetails, name: str) -> str:
    value = getattr(bank, name) or ""
    return value.upper() if name == "account_type" else value


def _wise_bank_row(batch: Batch, item: _Line, source_currency: str | None, with_address: bool) -> list[str]:
    template = _bank_template(item.line.currency) or item.line.currency
    row = _wise_start(batch, item, source_currency) + [_bank_value(item.bank, name) for _, name in WISE_BANK_COLUMNS[template]]
    if with_address:
        address = _address(item.partner)
        row += [address[name] or "" for _, name in WISE_ADDRESS_COLUMNS]
    return row


def _wise_group(batch: Batch, currency: str, items: list[_Line], source_currency: str | None,
                method: str) -> list[PayoutFile]:
    """Wise's send-by-email or send-to-bank-accounts template; a recipient address goes with USD
    (as a target) and USD or AUD (as the source), as Wise's recipient pages ask."""
    chunks = _chunks(items, WISE_ROWS_PER_FILE)
    with_address = method == BANK and (currency == "USD" or source_currency in ("USD", "AUD"))
    header = _wise_bank_header(currency, with_address) if method == BANK else WISE_HEADER
    files = []
    for part, chunk in enumerate(chunks, start=1):
        if method == BANK:
            rows = [_wise_bank_row(batch, item, source_currency, with_address) for item in chunk]
        else:
            rows = [_wise_start(batch, item, source_currency) for item in chunk]
        files.append(PayoutFile(currency, part, _render(rows, header), method, len(chunks)))
    return files


# ---- checks -----------------------------------------------------------------------------------


def _check_problem(partner: Partner) -> str | None:
    missing = missing_address(_address(partner), needs_state=partner.country == "US")
    return f"a check needs {', '.join(missing)}" if missing else None


def _check_group(batch: Batch, currency: str, items: list[_Line]) -> list[PayoutFile]:
    memo = f"Referral commission {batch.batch_id}"
    rows = (
        [safe_text(item.line.partner_name)] + [safe_text(value or "") for value in _address(item.partner).values()]
        + [format_plain(item.line.amount, currency), currency, safe_text(memo)]
        for item in items
    )
    return [PayoutFile(currency, 1, _render(rows, CHECK_HEADER), CHECK, 1)]


# ---- one file per method and currency ----------------------------------------------------------


def _line_problem(item: _Line, source_currency: str | None) -> str | None:
    if item.method == PAYPAL:
        return _paypal_problem(item.line, item.partner)
    if item.method == WISE_EMAIL:
        return _wise_email_problem(item.line, item.partner)
    if item.method == BANK:
        return _bank_problem(item.line, item.partner, item.bank, source_currency)
    return _check_problem(item.partner)


def _refuse_problems(problems: list[tuple[PlannedLine, str]], what: str) -> None:
    if problems:
        raise ExportError(f"{what} for {len(problems)} partner(s), nothing was written: {_named_with_reasons(problems)}")


def _paid_lines(batch: Batch, lines: list[PlannedLine], currency: str | None) -> list[PlannedLine]:
    if batch.status != POSTED:
        raise ExportError(f"{batch.batch_id} is {batch.status}; only a posted batch has payouts to export")
    if currency is not None:
        lines = [line for line in lines if line.currency == currency]
        if not lines:
            raise ExportError(f"{batch.batch_id} pays nobody in {currency}")
    _require_money(lines)
    return lines


def provider_files(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner],
                   bank: dict[int, BankDetails], *, source_currency: str | None = None,
                   currency: str | None = None) -> list[PayoutFile]:
    """One file (or numbered parts) per payout method and currency, each ready for its provider.

    `bank` holds the decrypted bank details of the partners that have some.
    """
    lines = _paid_lines(batch, lines, currency)
    items = [
        _Line(line, partners[line.partner_id],
              effective_method(partners[line.partner_id].payout_method, recipient(partners[line.partner_id])),
              bank.get(line.partner_id, BankDetails()))
        for line in lines
    ]
    problems = [(item.line, reason) for item in items if (reason := _line_problem(item, source_currency))]
    _refuse_problems(problems, "no payout file can be written")
    groups: dict[tuple[str, str], list[_Line]] = {}
    for item in items:
        groups.setdefault((item.method, item.line.currency), []).append(item)
    files: list[PayoutFile] = []
    for (method, group_currency), group in sorted(groups.items()):
        if method == PAYPAL:
            files += _paypal_group(batch, group_currency, group)
        elif method == CHECK:
            files += _check_group(batch, group_currency, group)
        else:
            files += _wise_group(batch, group_currency, group, source_currency, method)
    return files


def provider_file_name(batch_id: str, payout: PayoutFile) -> str:
    """ID-METHOD-CUR.csv (SPEC §9), with -1, -2… when a group is split into parts."""
    safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", batch_id)
    part = f"-{payout.part}" if payout.parts > 1 else ""
    return f"{safe_id}-{payout.method}-{payout.currency}{part}.csv"


# ---- one format for the whole batch -------------------------------------------------------------


def generic_csv(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner]) -> str:
    """Every line in one generic CSV: the file attached to a posted batch in chat."""
    rows = (
        [batch.batch_id, safe_text(line.partner_code), safe_text(line.partner_name),
         safe_text(recipient(partners[line.partner_id]) or ""), format_plain(line.amount, line.currency),
         line.currency, safe_text(batch.payment_type), batch.payment_date.isoformat()]
        for line in lines
    )
    return _render(rows, GENERIC_HEADER)


def _generic(batch: Batch, items: list[_Line], source_currency: str | None) -> list[PayoutFile]:
    """One file per currency, like the other formats (SPEC §5, batch export)."""
    partners = {item.line.partner_id: item.partner for item in items}
    return [PayoutFile(currency, 1, generic_csv(batch, group, partners))
            for currency, group in _by_currency(item.line for item in items).items()]


def _single_format(batch: Batch, items: list[_Line], fmt: str, source_currency: str | None) -> list[PayoutFile]:
    by_currency: dict[str, list[_Line]] = {}
    for item in items:
        by_currency.setdefault(item.line.currency, []).append(item)
    files: list[PayoutFile] = []
    for currency, group in sorted(by_currency.items()):
        if fmt == "paypal":
            files += _paypal_group(batch, currency, group)
        else:
            files += _wise_group(batch, currency, group, source_currency, WISE_EMAIL)
    return files


_FORMAT_PROBLEMS: dict[str, Callable[[PlannedLine, Partner], str | None]] = {
    "paypal": _paypal_problem, "wise": _wise_email_problem,
}


def payout_files(batch: Batch, lines: list[PlannedLine], partners: dict[int, Partner], fmt: str,
                 currency: str | None = None, *, source_currency: str | None = None) -> list[PayoutFile]:
    """The files for a posted batch in `fmt`, optionally only the lines in one currency."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    lines = _paid_lines(batch, lines, currency)
    items = [_Line(line, partners[line.partner_id], fmt, BankDetails()) for line in lines]
    if fmt == "csv":
        return _generic(batch, items, source_currency)
    check = _FORMAT_PROBLEMS[fmt]
    problems = [(item.line, reason) for item in items if (reason := check(item.line, item.partner))]
    _refuse_problems(problems, f"no {fmt} file can be written")
    return _single_format(batch, items, fmt, source_currency)


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
