"""Payout files for a posted batch (SPEC §7, §9): the files a finance team uploads to a provider.

`write_provider_files` writes one file per payout method and currency: PayPal Payouts, Wise by
e-mail, Wise to bank accounts, and a check register. `write_payout_files` writes one format for the
whole batch (`--format paypal|wise|csv`). Each provider rule below names the page it comes from; the
README's Files section lists them too. Before anything is written every line is checked, and a line
that a provider would refuse or pay wrongly stops the export naming every such partner: nobody is
left out silently, and no value is altered to make it fit.

A batch of 100,000 lines is exported in two passes over its lines as the database returns them:
one checks and counts every line (so each file's name and parts are known), the next writes each
row to its file as it is read. Neither the lines nor any file's text is held whole; `provider_files`
and `payout_files` give the same bytes in memory, for chat attachments.

Files uploaded to a provider hold values exactly as stored (a recipient `-bob@example.com` stays
that, an apostrophe would change whom PayPal pays); the files meant for a spreadsheet (the generic
CSV, the check register) neutralise formulas.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from commands.csv_safety import safe_text, write_rows, writer
from commands.payout_formats import FORMATS, GENERIC
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
    """One file of an export; `currency` is set when the format splits files by currency.

    `text` is the file's content when it was written to memory (empty when it went straight to a
    file); `rows` counts its payments. `customer_ids` pairs each partner code with the PayPal
    customer ID written for it where the two differ.
    """

    currency: str | None
    part: int
    text: str
    method: str | None = None
    parts: int = 1
    customer_ids: tuple[tuple[str, str], ...] = ()
    rows: int = 0


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


# ---- checks -----------------------------------------------------------------------------------


def _check_problem(partner: Partner) -> str | None:
    missing = missing_address(_address(partner), needs_state=partner.country == "US")
    return f"a check needs {', '.join(missing)}" if missing else None


# ---- one file per method and currency ----------------------------------------------------------


def _line_problem(item: _Line, source_currency: str | None) -> str | None:
    if item.method == PAYPAL:
        return _paypal_problem(item.line, item.partner)
    if item.method == WISE_EMAIL:
        return _wise_email_problem(item.line, item.partner)
    if item.method == BANK:
        return _bank_problem(item.line, item.partner, item.bank, source_currency)
    return _check_problem(item.partner)


# ---- layouts: each file's header and rows --------------------------------------------------------


Row = Callable[[_Line], list[str]]


def _paypal_layout(batch: Batch, currency: str, ids: dict[str, str]) -> tuple[tuple[str, ...] | None, Row]:
    """PayPal's upload has no header; a partner code that is no customer ID PayPal takes is replaced by one."""
    note = _paypal_note(batch)
    return None, lambda item: [recipient(item.partner) or "", paypal_amount(item.line.amount, currency), currency,
                               ids.get(item.line.partner_code, item.line.partner_code), note, "PAYPAL"]


def _wise_layout(batch: Batch, currency: str, method: str, source_currency: str | None) -> tuple[tuple[str, ...], Row]:
    """Wise's send-by-email or send-to-bank-accounts template; a recipient address goes with USD
    (as a target) and USD or AUD (as the source), as Wise's recipient pages ask."""
    if method != BANK:
        return WISE_HEADER, lambda item: _wise_start(batch, item, source_currency)
    with_address = currency == "USD" or source_currency in ("USD", "AUD")
    return (_wise_bank_header(currency, with_address),
            lambda item: _wise_bank_row(batch, item, source_currency, with_address))


def _check_layout(batch: Batch, currency: str) -> tuple[tuple[str, ...], Row]:
    memo = safe_text(f"Referral commission {batch.batch_id}")
    return CHECK_HEADER, lambda item: (
        [safe_text(item.line.partner_name)] + [safe_text(value or "") for value in _address(item.partner).values()]
        + [format_plain(item.line.amount, currency), currency, memo]
    )


def _generic_row(batch: Batch, line: PlannedLine, partner: Partner) -> list[str]:
    return [batch.batch_id, safe_text(line.partner_code), safe_text(line.partner_name),
            safe_text(recipient(partner) or ""), format_plain(line.amount, line.currency),
            line.currency, safe_text(batch.payment_type), batch.payment_date.isoformat()]


def _generic_layout(batch: Batch) -> tuple[tuple[str, ...], Row]:
    return GENERIC_HEADER, lambda item: _generic_row(batch, item.line, item.partner)


def _rows_per_file(method: str) -> int:
    """PayPal and Wise take so many rows an upload; a check register and the generic CSV are one file."""
    if method == PAYPAL:
        return PAYPAL_ROWS_PER_FILE
    if method in (WISE_EMAIL, BANK):
        return WISE_ROWS_PER_FILE
    return sys.maxsize


# ---- checking every line, then writing the files row by row --------------------------------------


Source = Callable[[], Iterable[_Line]]
"""A fresh pass over a batch's lines in the order they were frozen. Every line is checked on one
pass and the files are written on the next, so no line and no file's text is ever held whole."""

_LOOKS_LIKE_OUR_ID = re.compile(r"-[0-9a-f]{9,}$")


def _needs_listing(code: str) -> bool:
    """A code `customer_ids` replaces, or one that could collide with a replacement: only these
    need to be known before the PayPal file is written (every other code is its own ID)."""
    fits = len(code) <= PAYPAL_CUSTOMER_ID_LENGTH and not re.search(r"\s", code)
    return not fits or bool(_LOOKS_LIKE_OUR_ID.search(code))


@dataclass
class _Group:
    """One payout method and currency: how many rows it has, and the PayPal codes it must rename."""

    method: str
    currency: str
    rows: int = 0
    codes: list[tuple[int, str]] = field(default_factory=list)  # (row number in the group, partner code)

    @property
    def size(self) -> int:
        return _rows_per_file(self.method)

    def customer_ids(self) -> dict[str, str]:
        """The PayPal customer IDs of the codes that need listing (every other code is its own)."""
        return customer_ids(code for _, code in self.codes)

    def files(self, ids: dict[str, str]) -> list[PayoutFile]:
        """Its files, numbered before the first row is written; a PayPal file lists its renamed codes."""
        size = self.size
        parts = max(1, -(-self.rows // size))
        return [
            PayoutFile(self.currency, part, "", None if self.method == GENERIC else self.method, parts,
                       tuple((code, ids[code]) for index, code in self.codes
                             if index // size == part - 1 and ids[code] != code),
                       min(size, self.rows - (part - 1) * size))
            for part in range(1, parts + 1)
        ]


class FileSink(Protocol):
    """Where the files go: all of them named once every line has passed its checks (`plan`, with
    the batch ID as stored), then each opened when its first row is due and closed after its last."""

    def plan(self, batch_id: str, files: list[PayoutFile]) -> None: ...

    def open(self, payout: PayoutFile) -> TextIO: ...

    def close(self, payout: PayoutFile, handle: TextIO) -> None: ...


def _is_money(currency: str) -> bool:
    try:
        normalize_currency(currency)
    except MoneyError:
        return False
    return True


def _wanted(source: Source, currency: str | None) -> Iterator[_Line]:
    return (item for item in source() if currency is None or item.line.currency == currency)


def _survey(batch: Batch, source: Source, currency: str | None,
            problem: Callable[[_Line], str | None], what: str) -> dict[tuple[str, str], _Group]:
    """Every line checked and counted into its group, or an ExportError naming every line that
    stops the export; nothing is written either way."""
    if batch.status != POSTED:
        raise ExportError(f"{batch.batch_id} is {batch.status}; only a posted batch has payouts to export")
    groups: dict[tuple[str, str], _Group] = {}
    money: dict[str, bool] = {}
    unpayable: dict[str, list[PlannedLine]] = {}
    problems: list[tuple[PlannedLine, str]] = []
    for item in _wanted(source, currency):
        line = item.line
        if line.currency not in money:
            money[line.currency] = _is_money(line.currency)
        if not money[line.currency]:
            unpayable.setdefault(line.currency, []).append(line)
            continue
        if (reason := problem(item)) is not None:
            problems.append((line, reason))
        group = groups.setdefault((item.method, line.currency), _Group(item.method, line.currency))
        if item.method == PAYPAL and _needs_listing(line.partner_code):
            group.codes.append((group.rows, line.partner_code))
        group.rows += 1
    if currency is not None and not money:
        raise ExportError(f"{batch.batch_id} pays nobody in {currency}")
    _refuse_unpayable(unpayable)
    if problems:
        raise ExportError(f"{what} for {len(problems)} partner(s), nothing was written: {_named_with_reasons(problems)}")
    return dict(sorted(groups.items()))


def _refuse_unpayable(unpayable: dict[str, list[PlannedLine]]) -> None:
    """A partner stored in a code that is no currency of money (XAU, QQQ) cannot be paid by file."""
    for code, lines in sorted(unpayable.items()):
        try:
            normalize_currency(code)
        except MoneyError as exc:
            raise ExportError(f"{exc}: no payout file for {len(lines)} partner(s): {_named(lines)}") from None


@dataclass
class _Writing:
    """A group's files being written: its layout, how many rows it has written, the file open now."""

    files: list[PayoutFile]
    header: tuple[str, ...] | None
    row: Row
    size: int
    written: int = 0
    current: PayoutFile | None = None
    handle: TextIO | None = None
    out: Any = None


def _write(source: Source, currency: str | None, groups: dict[tuple[str, str], _Writing], sink: FileSink) -> None:
    """The second pass: each row goes to its group's current file as it is read. A file left open
    by an error is handed back to the sink all the same."""
    try:
        for item in _wanted(source, currency):
            group = groups[(item.method, item.line.currency)]
            if group.written % group.size == 0:
                _next_file(group, sink)
            group.out.writerow(group.row(item))
            group.written += 1
    finally:
        for group in groups.values():
            _finish(group, sink)


def _next_file(group: _Writing, sink: FileSink) -> None:
    _finish(group, sink)
    group.current = group.files[group.written // group.size]
    group.handle = sink.open(group.current)
    group.out = writer(group.handle)
    if group.header is not None:
        group.out.writerow(list(group.header))


def _finish(group: _Writing, sink: FileSink) -> None:
    if group.current is not None and group.handle is not None:
        payout, handle = group.current, group.handle
        group.current = group.handle = None
        sink.close(payout, handle)


def _layout(batch: Batch, group: _Group, ids: dict[str, str], source_currency: str | None) -> _Writing:
    files = group.files(ids)
    if group.method == PAYPAL:
        header, row = _paypal_layout(batch, group.currency, ids)
    elif group.method == CHECK:
        header, row = _check_layout(batch, group.currency)
    elif group.method == GENERIC:
        header, row = _generic_layout(batch)
    else:
        header, row = _wise_layout(batch, group.currency, group.method, source_currency)
    return _Writing(files, header, row, group.size)


def _export(batch: Batch, source: Source, sink: FileSink, currency: str | None, source_currency: str | None,
            problem: Callable[[_Line], str | None], what: str) -> list[PayoutFile]:
    groups = _survey(batch, source, currency, problem, what)
    writing = {key: _layout(batch, group, group.customer_ids(), source_currency) for key, group in groups.items()}
    files = [payout for group in writing.values() for payout in group.files]
    sink.plan(batch.batch_id, files)
    _write(source, currency, writing, sink)
    return files


def write_provider_files(batch: Batch, source: Source, sink: FileSink, *, source_currency: str | None = None,
                         currency: str | None = None) -> list[PayoutFile]:
    """One file (or numbered parts) per payout method and currency, each ready for its provider,
    written to `sink` row by row once every line has passed its provider's checks."""
    return _export(batch, source, sink, currency, source_currency,
                   lambda item: _line_problem(item, source_currency), "no payout file can be written")


_FORMAT_PROBLEMS: dict[str, Callable[[PlannedLine, Partner], str | None]] = {
    "paypal": _paypal_problem, "wise": _wise_email_problem,
}
_FORMAT_METHODS = {"paypal": PAYPAL, "wise": WISE_EMAIL, GENERIC: GENERIC}


def write_payout_files(batch: Batch, source: Source, fmt: str, sink: FileSink, currency: str | None = None, *,
                       source_currency: str | None = None) -> list[PayoutFile]:
    """The files for a posted batch in `fmt`, one per currency (in parts where the provider asks),
    optionally only the lines in one currency; `source` gives each line with `fmt` as its method."""
    check = _FORMAT_PROBLEMS.get(fmt)
    return _export(batch, source, sink, currency, source_currency,
                   (lambda item: check(item.line, item.partner)) if check else (lambda item: None),
                   f"no {fmt} file can be written")


def format_source(pairs: Callable[[], Iterable[tuple[PlannedLine, Partner]]], fmt: str) -> Source:
    """The lines as one format pays them, whatever each partner's own method."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    method = _FORMAT_METHODS[fmt]
    return lambda: (_Line(line, partner, method, _NO_BANK) for line, partner in pairs())


def provider_source(pairs: Callable[[], Iterable[tuple[PlannedLine, Partner]]],
                    bank: Callable[[Partner], BankDetails]) -> Source:
    """The lines as each partner is paid: its own method (SPEC §9), with its bank details in clear
    when that method is a bank transfer (the only file that reads them)."""

    def lines() -> Iterator[_Line]:
        for line, partner in pairs():
            method = effective_method(partner.payout_method, recipient(partner))
            yield _Line(line, partner, method, bank(partner) if method == BANK else _NO_BANK)

    return lines


_NO_BANK = BankDetails()


# ---- in memory: the files as text, for chat attachments -----------------------------------------


class FilesInMemory:
    """A sink keeping each file's text, for a chat attachment (Slack takes the file's bytes whole)."""

    def __init__(self) -> None:
        self.texts: dict[tuple[str | None, str | None, int], str] = {}

    def plan(self, batch_id: str, files: list[PayoutFile]) -> None:
        pass

    def open(self, payout: PayoutFile) -> TextIO:
        return io.StringIO()

    def close(self, payout: PayoutFile, handle: TextIO) -> None:
        assert isinstance(handle, io.StringIO)
        self.texts[(payout.method, payout.currency, payout.part)] = handle.getvalue()

    def filled(self, files: list[PayoutFile]) -> list[PayoutFile]:
        return [replace(payout, text=self.texts[(payout.method, payout.currency, payout.part)]) for payout in files]


def _pairs(lines: list[PlannedLine], partners: Mapping[int, Partner]) -> Callable[[], Iterable[tuple[PlannedLine, Partner]]]:
    return lambda: ((line, partners[line.partner_id]) for line in lines)


def provider_files(batch: Batch, lines: list[PlannedLine], partners: Mapping[int, Partner],
                   bank: dict[int, BankDetails], *, source_currency: str | None = None,
                   currency: str | None = None) -> list[PayoutFile]:
    """`write_provider_files` into memory; `bank` holds the decrypted bank details of the partners that have some."""
    sink = FilesInMemory()
    source = provider_source(_pairs(lines, partners), lambda partner: bank.get(partner.id, _NO_BANK))
    return sink.filled(write_provider_files(batch, source, sink, source_currency=source_currency, currency=currency))


def payout_files(batch: Batch, lines: list[PlannedLine], partners: Mapping[int, Partner], fmt: str,
                 currency: str | None = None, *, source_currency: str | None = None) -> list[PayoutFile]:
    """`write_payout_files` into memory."""
    sink = FilesInMemory()
    source = format_source(_pairs(lines, partners), fmt)
    return sink.filled(write_payout_files(batch, source, fmt, sink, currency, source_currency=source_currency))


def generic_csv(batch: Batch, lines: list[PlannedLine], partners: Mapping[int, Partner]) -> str:
    """Every line in one generic CSV: the file attached to a posted batch in chat."""
    buffer = io.StringIO()
    write_rows(buffer, GENERIC_HEADER, (_generic_row(batch, line, partners[line.partner_id]) for line in lines))
    return buffer.getvalue()


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


def provider_file_name(batch_id: str, payout: PayoutFile) -> str:
    """ID-METHOD-CUR.csv (SPEC §9), with -1, -2… when a group is split into parts."""
    safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", batch_id)
    part = f"-{payout.part}" if payout.parts > 1 else ""
    return f"{safe_id}-{payout.method}-{payout.currency}{part}.csv"
