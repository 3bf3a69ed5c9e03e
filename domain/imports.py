"""CSV imports of partners and entries (SPEC §5): streamed, all or nothing, idempotent by reference.

Rows are read and written a chunk at a time inside one write transaction, so a million-row file
is never held in memory and any bad row rolls the whole file back. Entries go in with
INSERT ... ON CONFLICT DO NOTHING on the (partner, kind, reference) key, counting the rows that went
in; a chunk where fewer rows went in than were sent is then compared with what the database
holds, so a re-import changes nothing and a reused reference with new values is an error naming its row. Chunks keep going in after a bad row, inside
the transaction that the refusal rolls back, so every problem of the file is found in one pass.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, TextIO, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import audit, payout_details
from domain.batches import FAIL_SUFFIX, PENDING, POSTED, VOID_SUFFIX
from domain.bound_lists import among
from domain.dates import DateError, parse_date
from domain.deferred_checkpoints import DeferredCheckpoints
from domain.deferred_indexes import DeferredIndexes
from domain.driver_rows import RowInserter
from domain.kinds import ENTRY_KINDS
from domain.ledger import partner_entries
from domain.limits import CURRENCY_IMPORT_LIMIT, PARTNER_IMPORT_LIMIT, TurnoverBudget
from domain.models import Batch, BatchLine, Entry, Partner
from domain.money import MoneyError, format_display, normalize_currency, parse_amount
from domain.secret_box import SECRET_KEY_SETTING, SecretBox, SecretKeyError
from domain.settings import parse_hold_days
from domain.text import describe, first_control, visible

T = TypeVar("T")
MAX_REPORTED_ERRORS = 20
# Reading stops once this many problems are counted: a file this wrong is not fixed row by row, and
# reading on through millions of bad rows would take minutes only to count them.
MAX_COUNTED_PROBLEMS = 1_000
# The longest row read, in characters (a quoted cell's line breaks included): nothing longer is held whole.
MAX_ROW_CHARACTERS = 1_000_000
_UTF16_BYTE_ORDER_MARKS = (b"\xff\xfe", b"\xfe\xff")
CHUNK_ROWS = 5_000
PARTNER_COLUMNS = ("code", "name", "email", "payout_email", "currency", "status", "hold_days")
ENTRY_COLUMNS = ("date", "partner_code", "kind", "amount", "reference", "description")
PARTNER_STATUSES = ("active", "inactive")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """Whether the partners import would take the text as an e-mail address."""
    return len(text) <= 254 and first_control(text) is None and _EMAIL.match(text) is not None


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass
class ImportRefused(Exception):
    """The file was refused whole; `problems` holds the first `shown` (every one when None), `count` all
    of them, or all of those found before reading stopped at row `stopped_at`."""

    source: str
    problems: list[RowProblem] = field(default_factory=list)
    count: int = 0
    stopped_at: int | None = None
    shown: int | None = MAX_REPORTED_ERRORS

    def add(self, problem: RowProblem) -> None:
        self.count += 1
        if self.shown is None or len(self.problems) < self.shown:
            self.problems.append(problem)

    def __str__(self) -> str:
        """One line, as the command line's contract asks of a reason; `problems` holds the list."""
        shown = "; ".join(str(problem) for problem in self.problems)
        more = f"; … and {self.count - len(self.problems)} more" if self.count > len(self.problems) else ""
        if self.stopped_at is not None:
            counted = f"at least {self.count} problem(s), stopped reading at row {self.stopped_at};"
        else:
            counted = f"{self.count} problem(s),"
        return f"{self.source}: {counted} nothing was imported: {shown}{more}"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    added: int
    updated: int = 0
    unchanged: int = 0


Progress = Callable[[int], None]


def _open_rows(
    handle: TextIO, source: str, required: tuple[str, ...], refused: ImportRefused | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with header names normalised; refuse a file missing a required column.

    Once `refused` has counted MAX_COUNTED_PROBLEMS, no further row is read.
    """
    bound = _RowBound(MAX_ROW_CHARACTERS)
    reader = csv.reader(_bounded_lines(handle, bound))
    names = _read_header(reader, source, required)
    bound.used = 0
    width = len(names)
    row_start = reader.line_num + 1
    try:
        for record in reader:
            bound.used = 0
            line, row_start = reader.line_num, reader.line_num + 1
            joined = "".join(record)
            if not joined.strip():
                continue
            if len(record) > width:
                _refuse_extra_cells(source, line, record[width:])
            elif len(record) < width:
                record += [""] * (width - len(record))
            row = dict(zip(names, map(str.strip, record), strict=False))
            if "\x00" in joined:
                _refuse_nul(source, line, row)
            yield line, row
            if refused is not None and refused.count >= MAX_COUNTED_PROBLEMS:
                refused.stopped_at = line
                return
    except _RowTooLong:
        raise _row_too_long(source, row_start) from None
    except UnicodeDecodeError as exc:
        raise ImportRefused(source, [RowProblem(reader.line_num + 1, "(file)", _not_utf8(exc))], 1) from None
    except csv.Error as exc:
        raise ImportRefused(source, [RowProblem(reader.line_num, "(file)", f"unreadable CSV: {exc}")], 1) from None


def _read_header(reader: Iterator[list[str]], source: str, required: tuple[str, ...]) -> list[str]:
    """The header's column names, trimmed and lower-cased; refuse a header the rows cannot be read by."""
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused(source, [RowProblem(1, "(header)", "the file is empty")], 1) from None
    except _RowTooLong:
        raise _row_too_long(source, 1) from None
    except UnicodeDecodeError as exc:
        raise ImportRefused(source, [RowProblem(1, "(file)", _not_utf8(exc))], 1) from None
    except csv.Error as exc:
        raise ImportRefused(source, [RowProblem(1, "(file)", f"unreadable CSV: {exc}")], 1) from None
    _refuse_utf16_header(source, header)
    names = [name.strip().lower() for name in header]
    _refuse_repeated_columns(source, names)
    missing = [column for column in required if column not in names]
    if missing:
        problem = RowProblem(1, "(header)", f"missing column(s): {', '.join(missing)}")
        raise ImportRefused(source, [problem], 1)
    return names


class _RowTooLong(Exception):
    """The row being read went past MAX_ROW_CHARACTERS before it was read whole."""


class _RowBound:
    """How much of the row being read has come in; the reader's loop sets `used` to 0 at each row.

    A row past the bound, on one line or on the many lines of a quoted cell, refuses the file before
    it is held whole: otherwise a single 200 MB line would take more than twice that in memory.
    """

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


def _bounded_lines(handle: TextIO, bound: _RowBound) -> Iterator[str]:
    """The file's lines for csv.reader, never reading more than what is left of the row's bound."""
    readline = handle.readline
    while text := readline(bound.limit + 1 - bound.used):
        bound.used += len(text)
        if bound.used > bound.limit:
            raise _RowTooLong
        yield text


def _row_too_long(source: str, row: int) -> ImportRefused:
    return ImportRefused(source, [RowProblem(row, "(row)", f"longer than {MAX_ROW_CHARACTERS:,} characters")], 1)


def _not_utf8(error: UnicodeDecodeError) -> str:
    """Why the text cannot be read, naming UTF-16 (what a spreadsheet's "Unicode text" saves) when it is that."""
    if error.start == 0 and bytes(error.object[:2]) in _UTF16_BYTE_ORDER_MARKS:
        return "not UTF-8 text: it is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    return f"not UTF-8 text ({error.reason})"


def _refuse_utf16_header(source: str, header: list[str]) -> None:
    """UTF-16 text without a byte-order mark decodes as UTF-8 with a NUL beside every ASCII letter, which
    would otherwise be refused as a file missing every column."""
    if any("\x00" in name for name in header):
        reason = "not UTF-8 text: it looks like UTF-16 (NUL bytes in the header); save it as UTF-8"
        raise ImportRefused(source, [RowProblem(1, "(file)", reason)], 1)


def _refuse_repeated_columns(source: str, names: list[str]) -> None:
    """A repeated column would let its last value silently win (a second partner_code credits another
    partner), so the file is refused. Unnamed columns are never read and may repeat."""
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        if name:
            positions.setdefault(name, []).append(position)
    for name, where in positions.items():
        if len(where) > 1:
            listed = ", ".join(str(n) for n in where[:-1]) + f" and {where[-1]}"
            problem = RowProblem(1, "(header)", f"column '{name}' appears more than once (columns {listed})")
            raise ImportRefused(source, [problem], 1)


def _refuse_extra_cells(source: str, line: int, extra: list[str]) -> None:
    """More values than the header names is a comma typed into an unquoted amount (1,234.50): every
    value after it moved one column, so reading the row would record a wrong amount."""
    if any(cell.strip() for cell in extra):
        reason = (f"{len(extra)} value(s) more than the header has columns; quote a value that contains "
                  'a comma, like "1,234.50"')
        raise ImportRefused(source, [RowProblem(line, "(row)", reason)], 1)


def _nul_problem(line: int, row: dict[str, str]) -> RowProblem | None:
    """A NUL character is no text: PostgreSQL cannot store it, so it is refused on either database."""
    for name, value in row.items():
        if "\x00" in value:
            return RowProblem(line, name, "contains a NUL character (byte 0x00)")
    return None


def _refuse_nul(source: str, line: int, row: dict[str, str]) -> None:
    if (problem := _nul_problem(line, row)) is not None:
        raise ImportRefused(source, [problem], 1)


def checked_records(records: Iterable[tuple[int, dict[str, str]]], refused: ImportRefused) -> Iterator[tuple[int, dict[str, str]]]:
    """Records that come as data rather than as a file (an API's JSON items), trimmed as a file's cells
    are, so both meet the same row checks; one holding a NUL is a problem of its own and goes no further."""
    for index, record in records:
        row = {name.strip().lower(): value.strip() for name, value in record.items()}
        if (problem := _nul_problem(index, row)) is not None:
            refused.add(problem)
            continue
        yield index, row


def _open_file(path: Path) -> TextIO:
    return path.open("r", encoding="utf-8-sig", newline="")


# ---- partners ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PartnerRow:
    """A partner as the file gives it; None is a cell left empty or a column the file does not have.

    `bank` holds the bank columns the row gives, checked but in clear: they are merged with what is
    stored and encrypted before anything is written.
    """

    code: str
    name: str
    email: str | None
    payout_email: str | None
    currency: str | None
    status: str | None
    payout_method: str | None = None
    entity: str | None = None
    address_line1: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    bank: tuple[tuple[str, str], ...] = ()
    hold_days: int | None = None

    def _plain(self) -> dict[str, str | None]:
        return {key: value for key, value in self.__dict__.items() if key != "bank"}

    def new_partner(self, default_currency: str) -> dict[str, str | None]:
        """A new partner's values: DEFAULT_CURRENCY and `active` unless the file says otherwise."""
        return {**self._plain(), "currency": self.currency or default_currency, "status": self.status or "active"}

    def given(self) -> dict[str, str]:
        """The values an update may change: an upsert never wipes what the file leaves out."""
        return {key: value for key, value in self._plain().items() if value is not None}


def _parse_details(line: int, row: dict[str, str], refused: ImportRefused) -> dict[str, object]:
    """The payout-detail columns of a row (SPEC §9), each checked; a bad one is a row problem."""
    if not any(row.get(column) for column in payout_details.DETAIL_COLUMNS):
        return {}
    details: dict[str, object] = {}
    bank: list[tuple[str, str]] = []
    for column in payout_details.DETAIL_COLUMNS:
        value = row.get(column) or None
        if value is None:
            continue
        try:
            if column == "payout_method":
                details[column] = payout_details.check_choice(value, payout_details.PAYOUT_METHODS)
            elif column == "entity":
                details[column] = payout_details.check_choice(value, payout_details.ENTITIES)
            elif column == "country":
                details[column] = payout_details.check_country(value)
            elif column in payout_details.ADDRESS_COLUMNS:
                details[column] = payout_details.check_address_part(column, value)
            else:
                bank.append((column, payout_details.check_bank_column(column, value, row)))
        except payout_details.DetailError as exc:
            refused.add(RowProblem(line, column, str(exc)))
    details["bank"] = tuple(bank)
    return details


def _refuse_controls(line: int, row: dict[str, str], columns: tuple[str, ...], refused: ImportRefused) -> set[str]:
    """Refuse text that would steer how it is shown (a newline drawing a made-up table row, an ESC
    sequence, a bidi override); return the columns refused, so no other reason repeats the value."""
    bad = set()
    for column in columns:
        value = row.get(column, "")
        char = first_control(value)
        if char is not None:
            reason = (f"'{visible(value)}' contains {describe(char)}; text may not hold control characters "
                      "(newlines, tabs, escapes, bidi overrides)")
            refused.add(RowProblem(line, column, reason))
            bad.add(column)
    return bad


def _optional_cell(line: int, row: dict[str, str], column: str, parse: Callable[[str], T],
                   refused: ImportRefused) -> T | None:
    """A cell read when the row gives it; a bad value is a row problem, an empty cell None."""
    if not row.get(column):
        return None
    try:
        return parse(row[column])
    except ValueError as exc:
        refused.add(RowProblem(line, column, str(exc)))
        return None


def _parse_partner(line: int, row: dict[str, str], refused: ImportRefused) -> _PartnerRow | None:
    problems_before = refused.count
    code, name = row.get("code", ""), row.get("name", "")
    controlled = _refuse_controls(line, row, ("code", "name", "email", "payout_email"), refused)
    if not code:
        refused.add(RowProblem(line, "code", "required"))
    elif "code" not in controlled and (len(code) > 64 or any(ch.isspace() for ch in code)):
        refused.add(RowProblem(line, "code", f"'{code}' must be at most 64 characters with no spaces"))
    if not name:
        refused.add(RowProblem(line, "name", "required"))
    elif len(name) > 200:
        refused.add(RowProblem(line, "name", "longer than 200 characters"))
    emails: dict[str, str | None] = {}
    for column in ("email", "payout_email"):
        value = row.get(column) or None
        if value is not None and column not in controlled and len(value) > 254:
            refused.add(RowProblem(line, column, "longer than 254 characters"))
        elif value is not None and column not in controlled and not _EMAIL.match(value):
            refused.add(RowProblem(line, column, f"'{value}' is not an e-mail address"))
        emails[column] = value
    currency = _optional_cell(line, row, "currency", normalize_currency, refused)
    status = row.get("status", "").lower() or None
    if status is not None and status not in PARTNER_STATUSES:
        refused.add(RowProblem(line, "status", f"'{status}' is not one of {', '.join(PARTNER_STATUSES)}"))
    details = _parse_details(line, row, refused)
    hold_days = _optional_cell(line, row, "hold_days", parse_hold_days, refused)
    if refused.count > problems_before:
        return None
    return _PartnerRow(code, name, emails["email"], emails["payout_email"], currency, status,  # type: ignore[arg-type]
                       hold_days=hold_days, **details)


def _bank_problem(line: int, item: _PartnerRow, secrets: SecretBox | None) -> RowProblem | None:
    """Bank details in a row are refused without a key: they are never stored in clear."""
    if item.bank and secrets is None:
        return RowProblem(line, item.bank[0][0], f"bank details are stored encrypted: set {SECRET_KEY_SETTING} "
                          "(create one with `payouts secret-key`) and import again")
    return None


def _merged_bank(line: int, item: _PartnerRow, stored: str | None, secrets: SecretBox | None,
                 refused: ImportRefused) -> payout_details.BankDetails | None:
    """The partner's bank details once the row's are merged in, or None when the row gives none."""
    if not item.bank or secrets is None:
        return None
    try:
        current = payout_details.BankDetails.from_json(secrets.decrypt(stored)) if stored else payout_details.BankDetails()
    except SecretKeyError as exc:
        refused.add(RowProblem(line, item.bank[0][0], str(exc)))
        return None
    merged = current.merged(dict(item.bank))
    if merged.sort_code and merged.account_number and len(merged.account_number) != 8:
        refused.add(RowProblem(line, "account_number", f"{payout_details.mask(merged.account_number)} is not a "
                               "UK account number (8 digits, with a sort code)"))
        return None
    return merged


def _bank_columns(bank: payout_details.BankDetails, secrets: SecretBox) -> dict[str, str]:
    return {"bank_details": secrets.encrypt(bank.to_json()), "bank_mask": bank.masked()}


def import_partners(
    session: Session, handle: TextIO, *, source: str, actor: str, default_currency: str, now=None,
    secrets: SecretBox | None = None,
) -> ImportResult:
    """Create or update partners by code from a CSV file (see import_partner_records)."""
    refused = ImportRefused(source)
    rows = _open_rows(handle, source, ("code", "name"), refused)
    return import_partner_records(session, rows, source=source, actor=actor, default_currency=default_currency,
                                  now=now, refused=refused, secrets=secrets)


Records = Iterable[tuple[int, dict[str, str]]]
"""(row number, cells) pairs with the import file's column names: a file's rows, an API's items, Keap's records."""


def _has_entries(session: Session, partner_id: int) -> bool:
    """Whether the partner has any entry, asked of both parts of its entries (each by its index)."""
    parts = partner_entries([partner_id], date.min, None, Entry.id)
    return any(session.scalar(select(part.exists())) for part in parts)


def import_partner_records(
    session: Session, records: Records, *, source: str, actor: str, default_currency: str, now=None,
    refused: ImportRefused | None = None, secrets: SecretBox | None = None,
) -> ImportResult:
    """Create or update partners by code, from rows that need not come from a file, all or nothing.

    A partner's currency cannot change once it has entries. Problems go to `refused`, which may
    already hold some. Bank details are encrypted with `secrets` (PAYOUTS_SECRET_KEY); rows that
    give some without a key are refused.
    """
    refused = refused if refused is not None else ImportRefused(source)
    seen: dict[str, int] = {}
    parsed: list[tuple[int, _PartnerRow]] = []
    for line, row in records:
        item = _parse_partner(line, row, refused)
        if item is None:
            continue
        if item.code in seen:
            refused.add(RowProblem(line, "code", f"'{item.code}' appears again (first on row {seen[item.code]})"))
            continue
        if (problem := _bank_problem(line, item, secrets)) is not None:
            refused.add(problem)
            continue
        seen[item.code] = line
        parsed.append((line, item))
    existing = {
        partner.code: partner
        for offset in range(0, len(parsed), 900)
        for partner in session.scalars(
            select(Partner).where(Partner.code.in_([item.code for _, item in parsed[offset : offset + 900]]))
        )
    }
    added = updated = unchanged = bank_changed = 0
    moment = now or audit.utcnow()
    for line, item in parsed:
        partner = existing.get(item.code)
        stored = partner.bank_details if partner is not None else None
        bank = _merged_bank(line, item, stored, secrets, refused)
        if partner is None:
            secret_columns = _bank_columns(bank, secrets) if bank is not None and secrets is not None else {}
            session.add(Partner(**item.new_partner(default_currency), **secret_columns, balance=0, created_at=moment))
            added += 1
            bank_changed += bool(secret_columns)
            continue
        changes = {key: value for key, value in item.given().items() if getattr(partner, key) != value}
        if "currency" in changes and _has_entries(session, partner.id):
            refused.add(RowProblem(line, "currency", f"'{item.code}' has entries in {partner.currency}; its currency cannot change"))
            continue
        if bank is not None and secrets is not None and (
            stored is None or payout_details.BankDetails.from_json(secrets.decrypt(stored)) != bank
        ):
            changes.update(_bank_columns(bank, secrets))
            bank_changed += 1
        if not changes:
            unchanged += 1
            continue
        for key, value in changes.items():
            setattr(partner, key, value)
        updated += 1
    if refused.count:
        raise refused
    session.flush()
    counted = {"bank_details_changed": bank_changed} if bank_changed else {}
    audit.record(session, actor, "import.partners", refused.source, added=added, updated=updated, unchanged=unchanged,
                 **counted)
    return ImportResult(rows=len(parsed), added=added, updated=updated, unchanged=unchanged)


# ---- entries ----------------------------------------------------------------------------------


class _EntryRow(NamedTuple):
    """A checked row; a tuple because an import builds millions of them."""

    line: int
    partner_id: int
    kind: str
    amount: int
    currency: str
    effective_date: date
    reference: str
    description: str


# A file or request holds few distinct dates (a month's worth, repeated on thousands of rows), so each
# is read once; a refused text raises every time, as it is never cached.
_entry_date = lru_cache(maxsize=4096)(parse_date)


def _parse_entry(
    line: int, row: dict[str, str], partners: dict[str, tuple[int, str]], refused: ImportRefused
) -> _EntryRow | None:
    problems_before = refused.count
    day: date | None = None
    try:
        day = _entry_date(row.get("date", ""))
    except DateError as exc:
        refused.add(RowProblem(line, "date", str(exc) if row.get("date") else "required"))
    code = row.get("partner_code", "")
    partner = partners.get(code)
    if partner is None:
        refused.add(RowProblem(line, "partner_code", f"no partner with code '{code}'" if code else "required"))
    kind = row.get("kind", "").lower()
    if kind not in ENTRY_KINDS:
        refused.add(RowProblem(line, "kind", f"'{row.get('kind', '')}' is not one of {', '.join(ENTRY_KINDS)}"))
    amount = 0
    if partner is not None:
        try:
            amount = parse_amount(row.get("amount", ""), partner[1])
            if amount == 0:
                refused.add(RowProblem(line, "amount", "must be more than zero"))
        except MoneyError as exc:
            refused.add(RowProblem(line, "amount", str(exc)))
    reference = row.get("reference", "")
    description = row.get("description", "")
    if not (reference.isprintable() and description.isprintable()):
        _refuse_controls(line, row, ("reference", "description"), refused)
    if not reference:
        refused.add(RowProblem(line, "reference", "required"))
    elif len(reference) > 200:
        refused.add(RowProblem(line, "reference", "longer than 200 characters"))
    if len(description) > 500:
        refused.add(RowProblem(line, "description", "longer than 500 characters"))
    if refused.count > problems_before or partner is None or day is None:
        return None
    return _EntryRow(line, partner[0], kind, amount, partner[1], day, reference, description)


_INSERTED_COLUMNS = ("partner_id", "kind", "amount", "currency", "effective_date", "reference", "description",
                     "recorded_at", "recorded_by")


class _EntryWriter:
    """Inserts checked rows many to a statement, leaving keys already stored as they are.

    ON CONFLICT DO NOTHING counts no ignored row, so a statement's row count is the number of rows
    that went in.
    """

    def __init__(self, session: Session, actor: str, moment: datetime) -> None:
        self.rows = RowInserter(session.connection(), Entry.__table__, _INSERTED_COLUMNS,
                                on_conflict="ON CONFLICT (partner_id, kind, reference) DO NOTHING")
        self.as_date = self.rows.converter("effective_date")
        self.recorded_at = self.rows.converter("recorded_at")(moment)
        self.actor = actor

    def insert(self, rows: list[_EntryRow]) -> int:
        """Write the rows whose keys are new; return how many went in."""
        as_date, at, by = self.as_date, self.recorded_at, self.actor
        return self.rows.insert_ready([
            (r.partner_id, r.kind, r.amount, r.currency, as_date(r.effective_date), r.reference, r.description, at, by)
            for r in rows
        ])


_STORED_OF_WANTED = (
    "SELECT e.partner_id, e.kind, e.reference, e.amount, e.effective_date, e.description "
    "FROM wanted JOIN entry AS e ON e.partner_id = wanted.partner_id AND e.kind = wanted.kind "
    "AND e.reference = wanted.reference"
)


def _stored_values(session: Session, chunk: list[_EntryRow]) -> dict[tuple[int, str, str], tuple[int, date, str]]:
    """The stored (amount, date, description) of the chunk's keys, one unique-index probe per key.

    The keys are joined as a VALUES list sent straight to the driver: SQLite runs a row-value IN
    list as a scan of every entry, and SQLAlchemy compiling 15,000 bound values per chunk cost
    more than the query, which together made re-importing a million-row file take minutes. On
    PostgreSQL they go as three arrays instead: the driver rewrote a statement of 15,000 parameters
    for every chunk (3.8 s of re-importing 200,000 rows) and the server parsed it.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sql = ("WITH wanted (partner_id, kind, reference) AS "
               "(SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[])) " + _STORED_OF_WANTED)
        parameters: tuple = (
            [row.partner_id for row in chunk], [row.kind for row in chunk], [row.reference for row in chunk])
    else:
        typed = "(CAST(? AS BIGINT), CAST(? AS VARCHAR(16)), CAST(? AS VARCHAR(200)))"
        rows = ", ".join([typed] + ["(?, ?, ?)"] * (len(chunk) - 1))
        sql = f"WITH wanted (partner_id, kind, reference) AS (VALUES {rows}) " + _STORED_OF_WANTED
        parameters = tuple(value for row in chunk for value in (row.partner_id, row.kind, row.reference))
    return {
        (pid, kind, ref): (amount, day if isinstance(day, date) else date.fromisoformat(day), description)
        for pid, kind, ref, amount, day, description in connection.exec_driver_sql(sql, parameters)
    }


def _check_against_stored(session: Session, chunk: list[_EntryRow], refused: ImportRefused) -> int:
    """Compare a chunk with the stored entries of the same keys; return how many were already there."""
    stored = _stored_values(session, chunk)
    for row in chunk:
        held = stored.get((row.partner_id, row.kind, row.reference))
        if held is not None and held != (row.amount, row.effective_date, row.description):
            refused.add(RowProblem(row.line, "reference", f"'{row.reference}' is already recorded for this partner and kind with other values"))
    return len(chunk)


def _pending_batch_payments(session: Session) -> set[tuple[int, str]]:
    """(partner, batch ID) of every payment a pending batch will post under the batch ID as reference.

    An imported payment under the same key would make that batch impossible to post, so it is refused.
    """
    query = (
        select(BatchLine.partner_id, Batch.batch_id)
        .join(Batch, Batch.id == BatchLine.batch_pk)
        .where(Batch.status == PENDING, BatchLine.skip_reason.is_(None))
    )
    return {(partner_id, batch_id) for partner_id, batch_id in session.execute(query)}


def _void_reference_taken(session: Session, row: _EntryRow) -> bool:
    """Whether the row's reference is the one a void of a batch paying this partner would record, or
    the failure of its line (SPEC §10)."""
    suffix = next((end for end in (VOID_SUFFIX, FAIL_SUFFIX) if row.reference.endswith(end)), None)
    if suffix is None:
        return False
    query = (
        select(BatchLine.id)
        .join(Batch, Batch.id == BatchLine.batch_pk)
        .where(Batch.batch_id == row.reference.removesuffix(suffix), BatchLine.partner_id == row.partner_id,
               BatchLine.skip_reason.is_(None), Batch.status.in_((PENDING, POSTED)))
    )
    return session.scalar(query.limit(1)) is not None


def _limit_reason(crossed: str, code: str, currency: str) -> str:
    if crossed == "partner":
        most = format_display(PARTNER_IMPORT_LIMIT, currency)
        return (f"partner '{code}' would hold more than {most} of entries (the sum of their amounts, "
                "the most one partner may accumulate)")
    most = format_display(CURRENCY_IMPORT_LIMIT, currency)
    return (f"partner '{code}' would take the {currency} entries of all partners past {most} "
            "(the sum of their amounts, the most one currency may accumulate)")


def import_entries(
    session: Session, handle: TextIO, *, source: str, actor: str, progress: Progress | None = None, now=None
) -> ImportResult:
    """Append commissions, clawbacks and payments; nothing is written unless every row is good."""
    refused = ImportRefused(source)
    rows = _open_rows(handle, source, tuple(c for c in ENTRY_COLUMNS if c != "description"), refused)
    return import_entry_records(session, rows, source=source, actor=actor, progress=progress, now=now,
                                refused=refused)


def _partners_and_budget(
    session: Session, codes: Collection[str] | None
) -> tuple[dict[str, tuple[int, str]], TurnoverBudget]:
    """The partners rows may name, with what they and their currencies have accumulated.

    Given `codes`, only those partners are read, and the other partners' turnover is counted per
    currency in one sum: a sync that imports one partner at a time then reads one row, not them all.
    """
    partners: dict[str, tuple[int, str]] = {}
    budget = TurnoverBudget()
    query = select(Partner.id, Partner.code, Partner.currency, Partner.turnover)
    if codes is not None:
        query = query.where(among(session, Partner.code, codes))
    for pid, code, currency, turnover in session.execute(query):
        partners[code] = (pid, currency)
        budget.start(pid, currency, turnover)
    if codes is not None:
        others = (select(Partner.currency, func.coalesce(func.sum(Partner.turnover), 0))
                  .where(~among(session, Partner.code, codes)).group_by(Partner.currency))
        for currency, turnover in session.execute(others):
            budget.start_currency(currency, int(turnover))
    return partners, budget


def import_entry_records(
    session: Session, records: Records, *, source: str, actor: str, progress: Progress | None = None, now=None,
    refused: ImportRefused | None = None, partner_codes: Collection[str] | None = None, audited: bool = True,
) -> ImportResult:
    """The entries import over rows that need not come from a file, with the same rules, all or nothing.

    `partner_codes` limits the partners the rows may name; `audited=False` leaves the audit log to a
    caller that records the whole operation once (a sync imports thousands of small groups).
    """
    partners, budget = _partners_and_budget(session, partner_codes)
    refused = refused if refused is not None else ImportRefused(source)
    over_limit: set[tuple[str, str]] = set()
    pending = _pending_batch_payments(session)
    writer = _EntryWriter(session, actor, now or audit.utcnow())
    indexes = DeferredIndexes(session.connection())
    checkpoints = DeferredCheckpoints(session.connection())
    count = added = 0
    chunk: list[_EntryRow] = []

    def flush() -> None:
        nonlocal added
        if not chunk:
            return
        inserted = writer.insert(chunk)
        added += inserted
        if inserted != len(chunk):
            _check_against_stored(session, chunk, refused)
        chunk.clear()
        indexes.added(added)
        checkpoints.added(added)

    for line, row in records:
        count += 1
        item = _parse_entry(line, row, partners, refused)
        code = row.get("partner_code", "")
        if item is not None and item.kind == "payment" and (item.partner_id, item.reference) in pending:
            refused.add(RowProblem(line, "reference", f"'{item.reference}' is the ID of a pending batch that pays this partner; approve or reject the batch instead"))
        elif item is not None and item.kind == "payment" and _void_reference_taken(session, item):
            kept_for = "a failed payment" if item.reference.endswith(FAIL_SUFFIX) else "the void"
            refused.add(RowProblem(line, "reference", f"'{item.reference}' is kept for {kept_for} of the batch that pays this partner"))
        elif item is not None and (crossed := budget.add(item.partner_id, item.currency, item.amount)):
            key = (crossed, code if crossed == "partner" else item.currency)
            if key not in over_limit:
                over_limit.add(key)
                refused.add(RowProblem(line, "amount", _limit_reason(crossed, code, item.currency)))
        elif item is not None:
            chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            flush()
        if progress is not None and count % 50_000 == 0:
            progress(count)
    flush()
    if refused.count:
        raise refused  # the caller's transaction rolls back the rows and any index set aside with them
    indexes.build()
    checkpoints.apply()
    if audited:
        audit.record(session, actor, "import.entries", refused.source, rows=count, added=added, unchanged=count - added)
    return ImportResult(rows=count, added=added, unchanged=count - added)


def import_partners_file(session: Session, path: Path, **kwargs) -> ImportResult:  # type: ignore[no-untyped-def]
    with _open_file(path) as handle:
        return import_partners(session, handle, source=path.name, **kwargs)


def import_entries_file(session: Session, path: Path, **kwargs) -> ImportResult:  # type: ignore[no-untyped-def]
    with _open_file(path) as handle:
        return import_entries(session, handle, source=path.name, **kwargs)
