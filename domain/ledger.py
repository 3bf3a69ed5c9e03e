"""The referral partner ledger report and the individual partner ledger (SPEC §2).

The report is computed by the database. Each partner row carries the net of every entry it ever
had (`partner.balance`, kept by a trigger), so a range needs only the entries dated on or after
its start: beginning = balance - net(entries since start). The cost of a recent month therefore
does not grow with the years of history before it. `ledger_report_plain` is the textbook single
GROUP BY over every entry, kept as the reference the fast path is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from domain.dates import DateRange
from domain.holds import held_commissions, holds_configured, partner_hold_days, partner_holds, payable_on
from domain.models import CLAWBACK, COMMISSION, PAYMENT, Batch, Entry, Partner


class UnknownPartner(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no partner with code '{code}'")
        self.code = code


@dataclass(frozen=True)
class LedgerRow:
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

    def first_scanned(self, period: DateRange) -> date:
        """The earliest entry date the report reads: the range's start, or the hold window's if earlier."""
        return min(period.start, period.end - timedelta(days=max(self.days) - 1))

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


def _recent_activity(period: DateRange, dialect: str, holds: _Holds | None = None):  # type: ignore[no-untyped-def]
    """Sums of the entries dated on or after the range's start, read from the (date, partner) index.

    With holds the same pass also sums, per distinct hold, the commissions still held at the end,
    starting earlier when the longest hold reaches back before the start.

    On SQLite the GROUP BY names `partner_id + 0` rather than the bare column: otherwise the planner
    walks the (partner, date) index to save a sort, reading every entry ever recorded. (SQLite
    allows the bare column beside it in the select list; PostgreSQL does not, nor needs the trick.)
    """
    first = holds.first_scanned(period) if holds else period.start
    since_start = [Entry.effective_date >= period.start] if first < period.start else []
    in_range = and_(Entry.effective_date <= period.end, *since_start)
    group_key = Entry.partner_id + literal_column("0") if dialect == "sqlite" else Entry.partner_id
    net = signed_amount() if not since_start else case((since_start[0], signed_amount()), else_=0)
    return (
        select(
            Entry.partner_id.label("partner_id"),
            _sum_of(COMMISSION, in_range).label("commissions"),
            _sum_of(CLAWBACK, in_range).label("clawbacks"),
            _sum_of(PAYMENT, in_range).label("payments"),
            func.sum(net).label("net_since_start"),
            *(holds.held_columns(period) if holds else []),
        )
        .where(Entry.effective_date >= first)
        .group_by(group_key)
        .subquery("recent")
    )


def _report_query(
    period: DateRange, include_all: bool, partner_codes: Iterable[str] | None, dialect: str,
    holds: _Holds | None = None,
) -> Select:
    recent = _recent_activity(period, dialect, holds)
    query = (
        select(
            Partner.id,
            Partner.code,
            Partner.name,
            Partner.email,
            Partner.currency,
            (Partner.balance - func.coalesce(recent.c.net_since_start, 0)).label("beginning"),
            func.coalesce(recent.c.commissions, 0),
            func.coalesce(recent.c.clawbacks, 0),
            func.coalesce(recent.c.payments, 0),
            *([holds.on_hold(recent)] if holds else []),
        )
        .outerjoin(recent, recent.c.partner_id == Partner.id)
        .order_by(Partner.code)
    )
    if partner_codes is not None:
        query = query.where(Partner.code.in_(list(partner_codes)))
    elif not include_all:
        query = query.where(or_(Partner.balance != 0, recent.c.partner_id.is_not(None)))
    return query


def _rows(session: Session, query: Select, include_all: bool) -> list[LedgerRow]:
    rows = [LedgerRow(*(int(v) if i >= 5 else v for i, v in enumerate(record))) for record in session.execute(query)]
    return rows if include_all else [row for row in rows if not row.is_zero]


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
    listed_all = include_all or partner_codes is not None
    holds = _report_holds(session, hold_days)
    query = _report_query(period, include_all, partner_codes, session.get_bind().dialect.name, holds)
    rows = _rows(session, query, listed_all)
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
