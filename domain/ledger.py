"""The referral partner ledger report and the individual partner ledger (SPEC §2).

The report is computed by the database. Each partner row carries the net of every entry it ever
had (`partner.balance`, kept by a trigger), so beginning = balance - net(entries since start). The
same trigger keeps per-partner sums by kind per calendar month and year (`partner_period`), so the
range's figures and the net after it are read from whole years and months of those checkpoints and
from the entries only for the loose days at the edges (`spans`): a five-year range costs about what
a month does, and neither grows with the history around it. `ledger_report_plain` is the textbook
single GROUP BY over every entry, kept as the reference the fast path is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from itertools import compress, islice
from operator import add, sub
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from domain.dates import DateRange
from domain.holds import held_commissions, holds_configured, partner_hold_days, partner_holds, payable_on
from domain.models import CLAWBACK, COMMISSION, MONTH, PAYMENT, YEAR, Batch, Entry, Partner, PartnerPeriod


class UnknownPartner(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no partner with code '{code}'")
        self.code = code


class LedgerRow(NamedTuple):
    """One partner's figures; a tuple because a report of a large program builds hundreds of thousands."""

    partner_id: int
    partner_code: str
    partner_name: str
    email: str | None
    currency: str
    beginning_balance: int
    commissions: int
    clawbacks: int
    payments: int
    on_hold: int = 0

    @property
    def ending_balance(self) -> int:
        return self.beginning_balance + self.commissions - self.clawbacks - self.payments

    @property
    def payable(self) -> int:
        """SPEC §12: the ending balance less the commissions not yet payable on the range's end."""
        return self.ending_balance - self.on_hold

    @property
    def is_zero(self) -> bool:
        return not (self.beginning_balance or self.commissions or self.clawbacks or self.payments or self.on_hold)


@dataclass
class CurrencyTotals:
    currency: str
    partners: int = 0
    beginning_balance: int = 0
    commissions: int = 0
    clawbacks: int = 0
    payments: int = 0
    ending_balance: int = 0
    on_hold: int = 0

    @property
    def payable(self) -> int:
        return self.ending_balance - self.on_hold

    def add(self, row: LedgerRow) -> None:
        self.partners += 1
        self.beginning_balance += row.beginning_balance
        self.commissions += row.commissions
        self.clawbacks += row.clawbacks
        self.payments += row.payments
        self.ending_balance += row.ending_balance
        self.on_hold += row.on_hold


@dataclass(frozen=True)
class LedgerReport:
    range: DateRange
    rows: list[LedgerRow]
    totals: list[CurrencyTotals]
    holds: bool = False  # a hold is configured: the files carry on_hold and payable (SPEC §12)

    def row_for(self, code: str) -> LedgerRow | None:
        return next((row for row in self.rows if row.partner_code == code), None)


def totals_by_currency(rows: Iterable[LedgerRow]) -> list[CurrencyTotals]:
    """Totals per currency, never adding one currency to another."""
    totals: dict[str, CurrencyTotals] = {}
    for row in rows:
        totals.setdefault(row.currency, CurrencyTotals(row.currency)).add(row)
    return [totals[currency] for currency in sorted(totals)]


def ending_balances(beginning: Iterable[int], commissions: Iterable[int], clawbacks: Iterable[int],
                    payments: Iterable[int]) -> list[int]:
    """`LedgerRow.ending_balance` of a block of rows given a column at a time, added up in C."""
    return list(map(sub, map(sub, map(add, beginning, commissions), clawbacks), payments))


def add_column_totals(totals: dict[str, CurrencyTotals], currencies: Sequence[str],
                      figures: Sequence[Sequence[int]]) -> None:
    """`CurrencyTotals.add` for a block of rows given a column at a time (beginning, commissions,
    clawbacks, payments, ending, on hold), each column summed in C: a report of a large program has
    100,000 rows. Never adds one currency to another."""
    kinds = set(currencies)
    for currency in kinds:
        picked = figures
        if len(kinds) > 1:
            mask = list(map(currency.__eq__, currencies))
            picked = [list(compress(column, mask)) for column in figures]
        total = totals.setdefault(currency, CurrencyTotals(currency))
        total.partners += len(picked[0])
        beginning, commissions, clawbacks, payments, ending, on_hold = map(sum, picked)
        total.beginning_balance += beginning
        total.commissions += commissions
        total.clawbacks += clawbacks
        total.payments += payments
        total.ending_balance += ending
        total.on_hold += on_hold


def signed_amount():  # type: ignore[no-untyped-def]
    """An entry's effect on the balance: commissions add, clawbacks and payments subtract."""
    return case((Entry.kind == COMMISSION, Entry.amount), else_=-Entry.amount)


def _sum_of(kind: str, *conditions):  # type: ignore[no-untyped-def]
    return func.coalesce(func.sum(case((and_(Entry.kind == kind, *conditions), Entry.amount), else_=0)), 0)


@dataclass(frozen=True)
class _Holds:
    """The holds a report applies (SPEC §12): HOLD_DAYS and every partner's own hold, distinct."""

    default_days: int
    days: tuple[int, ...]

    def held_columns(self, period: DateRange) -> list:  # type: ignore[type-arg]
        """Per distinct hold, the commissions dated by the end and not payable on it."""
        return [
            _sum_of(COMMISSION, Entry.effective_date > period.end - timedelta(days=days),
                    Entry.effective_date <= period.end).label(f"held_{index}")
            for index, days in enumerate(self.days)
        ]

    def on_hold(self, recent):  # type: ignore[no-untyped-def]
        """Each partner's on_hold: the held sum of its own hold, else of HOLD_DAYS."""
        chosen = {days: func.coalesce(recent.c[f"held_{index}"], 0) for index, days in enumerate(self.days)}
        return case(chosen, value=func.coalesce(Partner.hold_days, self.default_days), else_=0)


def _report_holds(session: Session, hold_days: int) -> _Holds | None:
    """The holds to apply, or None when no commission can be held (every figure is then SPEC §2's)."""
    days = partner_holds(session) | {hold_days}
    return _Holds(hold_days, tuple(sorted(days))) if max(days) > 0 else None


def _month_on_or_after(day: date) -> date:
    return day if day.day == 1 else (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _year_on_or_after(day: date) -> date:
    return day if (day.month, day.day) == (1, 1) else date(day.year + 1, 1, 1)


def spans(start: date, end: date | None) -> list[tuple[int, date, date | None]]:
    """[start, end) cut into (length, first, after) spans: loose days (0), whole months, whole years.

    Whole months and years are read from the checkpoints, loose days from the entries, so no span
    of days is longer than a month at either edge and at most eleven months are read on each side
    of a year boundary.
    `end` None means no end (every entry from `start` on).
    """
    first_month = _month_on_or_after(start)
    if end is not None and first_month >= end:
        return [(0, start, end)] if start < end else []
    first_year = _year_on_or_after(first_month)
    if end is None:
        return [(length, first, after) for length, first, after in
                ((0, start, first_month), (MONTH, first_month, first_year), (YEAR, first_year, None))
                if after is None or first < after]
    last_month = end.replace(day=1)
    last_year = last_month.replace(month=1)
    if first_year >= last_year:
        found = [(0, start, first_month), (MONTH, first_month, last_month), (0, last_month, end)]
    else:
        found = [(0, start, first_month), (MONTH, first_month, first_year), (YEAR, first_year, last_year),
                 (MONTH, last_year, last_month), (0, last_month, end)]
    return [(length, first, after) for length, first, after in found if first < after]


def _entry_sums(first: date, after: date | None, dialect: str) -> Select:
    """Per partner, the sums by kind of the entries dated in [first, after).

    On SQLite the GROUP BY names `partner_id + 0` rather than the bare column: otherwise the planner
    walks the (partner, date) index to save a sort, reading every entry ever recorded. (SQLite
    allows the bare column beside it in the select list; PostgreSQL does not, nor needs the trick.)
    """
    group_key = Entry.partner_id + literal_column("0") if dialect == "sqlite" else Entry.partner_id
    dated = [Entry.effective_date >= first] + ([Entry.effective_date < after] if after is not None else [])
    return (
        select(Entry.partner_id.label("partner_id"), _sum_of(COMMISSION).label("c"), _sum_of(CLAWBACK).label("k"),
               _sum_of(PAYMENT).label("p"))
        .where(*dated)
        .group_by(group_key)
    )


def _checkpoint_sums(months: int, first: date, after: date | None) -> Select:
    """Per partner, the sums by kind of its checkpoints of `months` starting in [first, after)."""
    starts = [PartnerPeriod.start >= first] + ([PartnerPeriod.start < after] if after is not None else [])
    return (
        select(PartnerPeriod.partner_id.label("partner_id"), func.sum(PartnerPeriod.commissions).label("c"),
               func.sum(PartnerPeriod.clawbacks).label("k"), func.sum(PartnerPeriod.payments).label("p"))
        .where(PartnerPeriod.months == months, *starts)
        .group_by(PartnerPeriod.partner_id)
    )


def _span_sums(length: int, first: date, after: date | None, dialect: str) -> Select:
    return _entry_sums(first, after, dialect) if length == 0 else _checkpoint_sums(length, first, after)


def _period_after(months: int, first: date) -> date:
    """The day after the checkpoint period of `months` that starts on `first`."""
    if months == YEAR:
        return first.replace(year=first.year + 1)
    return (first + timedelta(days=32)).replace(day=1)


def _summed(found: list[tuple[int, date, date | None]], dialect: str, name: str):  # type: ignore[no-untyped-def]
    """Per partner, the sums by kind (c, k, p) over the spans: one span's grouped query, or their union
    grouped again."""
    if len(found) == 1:
        return _span_sums(*found[0], dialect).subquery(name)
    every = union_all(*(_span_sums(length, first, after, dialect) for length, first, after in found)).subquery()
    return (
        select(every.c.partner_id, func.sum(every.c.c).label("c"), func.sum(every.c.k).label("k"),
               func.sum(every.c.p).label("p"))
        .group_by(every.c.partner_id)
        .subquery(name)
    )


class _Within(NamedTuple):
    """The range's sums by kind per partner (columns of `source`) and how `source` joins the partner row."""

    partner_id: Any
    commissions: Any
    clawbacks: Any
    payments: Any
    source: Any
    joined: Any


def _within(period: DateRange, dialect: str) -> _Within:
    """The range's sums by kind per partner.

    A range that is one calendar month or year (the usual report) is one checkpoint row per partner,
    joined by its key as the partners are read; any other range is summed and grouped first.
    """
    found = spans(period.start, period.end + timedelta(days=1))
    if len(found) == 1 and found[0][0] != 0 and found[0][2] == _period_after(found[0][0], found[0][1]):
        months, first, _after = found[0]
        row = PartnerPeriod.__table__.alias("within")
        joined = and_(row.c.months == months, row.c.start == first, row.c.partner_id == Partner.id)
        return _Within(row.c.partner_id, row.c.commissions, row.c.clawbacks, row.c.payments, row, joined)
    sums = _summed(found, dialect, "within")
    return _Within(sums.c.partner_id, sums.c.c, sums.c.k, sums.c.p, sums, sums.c.partner_id == Partner.id)


def _later(period: DateRange, dialect: str):  # type: ignore[no-untyped-def]
    """Per partner, the sums by kind of every entry dated after the range.

    Both these and the range's sums come from the checkpoints for whole months and years and from
    the entries for the days at the edges, so their cost does not grow with the length of the range
    or of the history after it. The beginning balance is then `partner.balance` less the net of
    everything from the start on.
    """
    return _summed(spans(period.end + timedelta(days=1), None), dialect, "later")


def _held(period: DateRange, dialect: str, holds: _Holds):  # type: ignore[no-untyped-def]
    """Per partner and distinct hold, the commissions dated by the end and not payable on it.

    Read from the entries of the longest hold's window before the end only.
    """
    group_key = Entry.partner_id + literal_column("0") if dialect == "sqlite" else Entry.partner_id
    first = period.end - timedelta(days=max(holds.days) - 1)
    return (
        select(Entry.partner_id.label("partner_id"), *holds.held_columns(period))
        .where(Entry.effective_date >= first, Entry.effective_date <= period.end)
        .group_by(group_key)
        .subquery("recent")
    )


def _whole(figure):  # type: ignore[no-untyped-def]
    """A sum as a whole number of minor units from the driver (PostgreSQL's SUM of BIGINT is NUMERIC),
    so rows need no conversion in Python."""
    return cast(figure, BigInteger)


def _report_query(
    period: DateRange, include_all: bool, partner_codes: Iterable[str] | None, dialect: str,
    holds: _Holds | None = None, with_email: bool = True,
) -> Select:
    within = _within(period, dialect)
    later = _later(period, dialect)
    held = _held(period, dialect, holds) if holds else None
    net_within = func.coalesce(within.commissions - within.clawbacks - within.payments, 0)
    net_later = func.coalesce(later.c.c - later.c.k - later.c.p, 0)
    figures = [
        _whole(Partner.balance - net_within - net_later).label("beginning"),
        _whole(func.coalesce(within.commissions, 0)),
        _whole(func.coalesce(within.clawbacks, 0)),
        _whole(func.coalesce(within.payments, 0)),
        _whole(holds.on_hold(held)) if holds else literal_column("0", BigInteger),
    ]
    query = (
        select(Partner.id, Partner.code, Partner.name, Partner.email if with_email else null(), Partner.currency,
               *figures)
        .outerjoin(within.source, within.joined)
        .outerjoin(later, later.c.partner_id == Partner.id)
        .order_by(Partner.code)
    )
    if held is not None:
        query = query.outerjoin(held, held.c.partner_id == Partner.id)
    if partner_codes is not None:
        query = query.where(Partner.code.in_(list(partner_codes)))
    elif not include_all:
        query = query.where(or_(*(figure != 0 for figure in figures)))  # LedgerRow.is_zero, asked by the database
    return query


def _rows(session: Session, query: Select, include_all: bool) -> list[LedgerRow]:
    """The rows of a query of the nine columns of a row without its hold, zero rows left out unless
    `include_all` (the reference computation, `ledger_report_plain`)."""
    rows = (LedgerRow(*record) for record in session.connection().execute(query))
    return [row for row in rows if include_all or not row.is_zero]


STREAMED_ROWS = 2000  # rows fetched from the database at a time while a report is written


def _report_rows(session: Session, query: Select) -> Iterator[LedgerRow]:
    """The rows of `_report_query` as the database returns them, a few thousand at a time (a
    server-side cursor on PostgreSQL).

    Read from the driver's cursor in the session's transaction, and each record made a LedgerRow by
    `tuple.__new__` alone: the query returns every field in order and has left out the zero rows
    already, so no Python code runs per row (a report of a large program has 100,000).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        yield from _sqlite_report_rows(connection, query)
    else:
        yield from _postgres_report_rows(connection, query)


def _sqlite_report_rows(connection: Connection, query: Select) -> Iterator[LedgerRow]:
    """The rows read from the driver's own cursor, which SQLite steps through as they are fetched:
    SQLAlchemy makes a Row of every record first, a twelfth of a large month report. The report's
    columns are integers and texts, which need no conversion from the driver's values."""
    result = connection.execute(query)
    try:
        for part in iter(partial(result.cursor.fetchmany, STREAMED_ROWS), []):
            yield from map(_ledger_row, part)
    finally:
        result.close()


def _postgres_report_rows(connection: Connection, query: Select) -> Iterator[LedgerRow]:
    """The rows read from a server-side cursor of the driver in the session's transaction, the
    query compiled by SQLAlchemy and its parameters converted by their types as SQLAlchemy would:
    SQLAlchemy's Row for every record took a sixth of the reading.

    PostgreSQL plans a cursor for its first tenth of rows unless told otherwise; a report reads
    them all, and the plan for all of them read a large month 0.1–0.2 s sooner.
    """
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    parameters = compiled.params
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            parameters[name] = convert(parameters[name])
    driver = connection.connection.dbapi_connection
    driver.execute("SET LOCAL cursor_tuple_fraction = 1")  # type: ignore[union-attr]
    with driver.cursor(name="report_rows") as cursor:  # type: ignore[union-attr, call-arg]
        cursor.execute(compiled.string, parameters)
        for part in iter(partial(cursor.fetchmany, STREAMED_ROWS), []):
            yield from map(_ledger_row, part)


_ledger_row = partial(tuple.__new__, LedgerRow)


def row_blocks(rows: Iterable[LedgerRow]) -> Iterator[list[LedgerRow]]:
    """The rows a block of a few thousand at a time, as they are read: for work done a column at a time."""
    remaining = iter(rows)
    return iter(lambda: list(islice(remaining, STREAMED_ROWS)), [])


@dataclass(frozen=True)
class LedgerRows:
    """A report's rows as a stream, read once while the session is open: for writing a large report
    as it is read, so that no range, however long, is held in memory."""

    range: DateRange
    holds: bool
    rows: Iterator[LedgerRow]


def ledger_rows(session: Session, period: DateRange, *, include_all: bool = False, hold_days: int = 0,
                with_email: bool = True) -> LedgerRows:
    """The rows of `ledger_report`, in the same order, streamed from the database; with `with_email`
    False each row's email is None, for a reader that does not show it (100,000 texts fewer to read)."""
    holds = _report_holds(session, hold_days)
    query = _report_query(period, include_all, None, session.get_bind().dialect.name, holds, with_email)
    return LedgerRows(period, holds is not None, _report_rows(session, query))


def ledger_report(
    session: Session,
    period: DateRange,
    *,
    include_all: bool = False,
    partner_codes: Iterable[str] | None = None,
    hold_days: int = 0,
) -> LedgerReport:
    """Every partner with a non-zero figure for the range (all partners with `include_all`).

    `hold_days` is HOLD_DAYS; with a hold configured each row carries what is on hold at the end.
    """
    holds = _report_holds(session, hold_days)
    query = _report_query(period, include_all, partner_codes, session.get_bind().dialect.name, holds)
    rows = list(_report_rows(session, query))
    return LedgerReport(period, rows, totals_by_currency(rows), holds=holds is not None)


def ledger_report_plain(session: Session, period: DateRange, *, include_all: bool = False) -> LedgerReport:
    """The reference computation: one GROUP BY over every entry, no stored balances."""
    before = Entry.effective_date < period.start
    within = and_(Entry.effective_date >= period.start, Entry.effective_date <= period.end)
    sums = (
        select(
            Entry.partner_id.label("partner_id"),
            func.sum(case((before, signed_amount()), else_=0)).label("beginning"),
            _sum_of(COMMISSION, within).label("commissions"),
            _sum_of(CLAWBACK, within).label("clawbacks"),
            _sum_of(PAYMENT, within).label("payments"),
        )
        .where(Entry.effective_date <= period.end)
        .group_by(Entry.partner_id)
        .subquery("sums")
    )
    query = (
        select(
            Partner.id,
            Partner.code,
            Partner.name,
            Partner.email,
            Partner.currency,
            func.coalesce(sums.c.beginning, literal(0)),
            func.coalesce(sums.c.commissions, 0),
            func.coalesce(sums.c.clawbacks, 0),
            func.coalesce(sums.c.payments, 0),
        )
        .outerjoin(sums, sums.c.partner_id == Partner.id)
        .order_by(Partner.code)
    )
    rows = _rows(session, query, include_all)
    return LedgerReport(period, rows, totals_by_currency(rows))


@dataclass(frozen=True)
class LedgerLine:
    """One entry as a partner's ledger shows it: `amount` is its signed effect on the balance."""

    entry_id: int
    date: date
    kind: str
    reference: str
    description: str
    amount: int
    balance: int
    batch_id: str | None = None
    payable_on: date | None = None  # a commission still on hold at the range's end: the day it is payable


@dataclass
class PartnerLedger:
    partner_id: int
    partner_code: str
    partner_name: str
    email: str | None
    currency: str
    range: DateRange
    beginning_balance: int
    lines: list[LedgerLine] = field(default_factory=list)
    on_hold: int = 0
    holds: bool = False  # a hold is configured, so the ledger shows on_hold and payable

    @property
    def ending_balance(self) -> int:
        return self.lines[-1].balance if self.lines else self.beginning_balance

    @property
    def payable(self) -> int:
        return self.ending_balance - self.on_hold

    def total(self, kind: str) -> int:
        """The column total for a kind, as the report shows it (payments net of reversals)."""
        return sum(-line.amount if kind != COMMISSION else line.amount for line in self.lines if line.kind == kind)


def find_partner(session: Session, code: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.code == code))
    if partner is None:
        raise UnknownPartner(code)
    return partner


def code_in_other_case(session: Session, code: str) -> str | None:
    """The partner code that `code` names but for case: codes are exact, and case is the usual slip."""
    return session.scalars(
        select(Partner.code).where(func.lower(Partner.code) == code.lower()).order_by(Partner.code).limit(1)
    ).first()


def _beginning_balances(session: Session, period: DateRange, partner_ids: list[int]) -> dict[int, int]:
    query = (
        select(Partner.id, Partner.balance - func.coalesce(func.sum(signed_amount()), 0))
        .outerjoin(Entry, and_(Entry.partner_id == Partner.id, Entry.effective_date >= period.start))
        .where(Partner.id.in_(partner_ids))
        .group_by(Partner.id, Partner.balance)
    )
    return {partner_id: int(balance) for partner_id, balance in session.execute(query)}


def partner_ledger(session: Session, code: str, period: DateRange, *, hold_days: int = 0) -> PartnerLedger:
    """One partner's entries in the range with a running balance that agrees with the report row."""
    partner = find_partner(session, code)
    return next(iter_partner_ledgers(session, period, [partner], hold_days=hold_days))


def _held_line(line: LedgerLine, hold: int, end: date) -> LedgerLine:
    """A commission not payable on the range's end is marked with the day it becomes payable."""
    if line.kind != COMMISSION or hold <= 0 or payable_on(line.date, hold) <= end:
        return line
    return replace(line, payable_on=payable_on(line.date, hold))


def _mark_holds(session: Session, period: DateRange, group: list[Partner], ledgers: dict[int, PartnerLedger],
                hold_days: int) -> None:
    held = held_commissions(session, as_of=period.end, until=period.end, default_days=hold_days,
                            partner_ids=[partner.id for partner in group])
    for partner in group:
        ledger = ledgers[partner.id]
        hold = partner_hold_days(partner.hold_days, hold_days)
        ledger.holds = True
        ledger.on_hold = held[partner.id].amount if partner.id in held else 0
        ledger.lines = [_held_line(line, hold, period.end) for line in ledger.lines]


def iter_partner_ledgers(
    session: Session, period: DateRange, partners: list[Partner], chunk: int = 500, *, hold_days: int = 0
) -> Iterator[PartnerLedger]:
    """Partner ledgers one at a time, a chunk of partners per query, so memory stays bounded."""
    holds = holds_configured(session, hold_days)
    for offset in range(0, len(partners), chunk):
        group = partners[offset : offset + chunk]
        ids = [partner.id for partner in group]
        beginnings = _beginning_balances(session, period, ids)
        ledgers = {
            partner.id: PartnerLedger(
                partner.id, partner.code, partner.name, partner.email, partner.currency, period,
                beginnings.get(partner.id, 0),
            )
            for partner in group
        }
        entries = session.execute(
            select(
                Entry.id, Entry.partner_id, Entry.effective_date, Entry.kind, Entry.reference,
                Entry.description, Entry.amount, Batch.batch_id,
            )
            .outerjoin(Batch, Batch.id == Entry.batch_pk)
            .where(Entry.partner_id.in_(ids), Entry.effective_date.between(period.start, period.end))
            .order_by(Entry.partner_id, Entry.effective_date, Entry.id)
        )
        balances = {pid: ledger.beginning_balance for pid, ledger in ledgers.items()}
        for entry_id, partner_id, day, kind, reference, description, amount, batch_id in entries:
            effect = amount if kind == COMMISSION else -amount
            balances[partner_id] += effect
            ledgers[partner_id].lines.append(
                LedgerLine(entry_id, day, kind, reference, description or "", effect, balances[partner_id], batch_id)
            )
        if holds:
            _mark_holds(session, period, group, ledgers, hold_days)
        for partner in group:
            yield ledgers[partner.id]


def partners_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Partner]:
    """Partner rows by ID, fetched in chunks that every database's parameter limit allows."""
    wanted = list(ids)
    found: dict[int, Partner] = {}
    for offset in range(0, len(wanted), 900):
        for partner in session.scalars(select(Partner).where(Partner.id.in_(wanted[offset : offset + 900]))):
            found[partner.id] = partner
    return found


@dataclass(frozen=True)
class MonthActivity:
    """One calendar month's commissions, clawbacks and payments in one currency, in minor units."""

    month: date  # the first day of the month
    commissions: int = 0
    clawbacks: int = 0
    payments: int = 0


def monthly_activity(session: Session, period: DateRange) -> dict[str, list[MonthActivity]]:
    """Per currency, every month the range touches with its sums (months without entries at zero).

    The database sums by day, which works the same on SQLite and PostgreSQL; the days fold into
    months here, at most 31 rows per month, kind and currency whatever the number of entries."""
    query = (
        select(Entry.currency, Entry.effective_date, Entry.kind, func.sum(Entry.amount))
        .where(Entry.effective_date >= period.start, Entry.effective_date <= period.end)
        .group_by(Entry.currency, Entry.effective_date, Entry.kind)
    )
    sums: dict[str, dict[date, dict[str, int]]] = {}
    for currency, day, kind, amount in session.execute(query):
        month = sums.setdefault(currency, {}).setdefault(day.replace(day=1), {})
        month[kind] = month.get(kind, 0) + int(amount)
    months = _months(period)
    return {
        currency: [MonthActivity(first, by_month.get(first, {}).get(COMMISSION, 0),
                                 by_month.get(first, {}).get(CLAWBACK, 0), by_month.get(first, {}).get(PAYMENT, 0))
                   for first in months]
        for currency, by_month in sorted(sums.items())
    }


def _months(period: DateRange) -> list[date]:
    """The first day of every month from the range's start to its end."""
    first, months = period.start.replace(day=1), []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return months
