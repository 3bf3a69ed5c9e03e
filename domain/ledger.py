"""The referral partner ledger report and the individual partner ledger (SPEC §2), read in a session.

The report's query is domain.report_sql's text, run on the session's own connection and read from
the driver. `ledger_report_plain` is the textbook single GROUP BY over every entry, kept as the
reference the fast path is tested against.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, case, func, literal, null, select
from sqlalchemy.orm import Session

from domain.dates import DateRange
from domain.holds import held_commissions, holds_configured, partner_hold_days, partner_holds, payable_on
from domain.kinds import CLAWBACK, COMMISSION, PAYMENT
from domain.ledger_data import (
    LedgerLine,
    LedgerReport,
    LedgerRow,
    LedgerRows,
    PartnerLedger,
    UnknownPartner,
    totals_by_currency,
)
from domain.models import Batch, Entry, Partner
from domain.report_sql import ReportHolds, report_holds, report_rows, report_statement


def signed_amount():  # type: ignore[no-untyped-def]
    """An entry's effect on the balance: commissions add, clawbacks and payments subtract."""
    return case((Entry.kind == COMMISSION, Entry.amount), else_=-Entry.amount)


def _sum_of(kind: str, *conditions):  # type: ignore[no-untyped-def]
    return func.coalesce(func.sum(case((and_(Entry.kind == kind, *conditions), Entry.amount), else_=0)), 0)


def code_point_order(session: Session):  # type: ignore[no-untyped-def]
    """`Statement.code_point_order` of domain.report_sql, for a query built with SQLAlchemy: partners
    in the order the report lists them, on every database and collation."""
    return Partner.code.collate("C") if session.get_bind().dialect.name == "postgresql" else Partner.code


def _report_holds(session: Session, hold_days: int) -> ReportHolds | None:
    """The holds to apply, or None when no commission can be held (every figure is then SPEC §2's)."""
    return report_holds(partner_holds(session), hold_days)


def _driver(session: Session) -> tuple[Any, str]:
    """The driver's connection in the session's transaction (begun here if it was not), and its dialect."""
    connection = session.connection()
    return connection.connection.dbapi_connection, connection.dialect.name


def _rows(session: Session, query: Select, include_all: bool) -> list[LedgerRow]:
    """The rows of a query of the nine columns of a row without its hold, zero rows left out unless
    `include_all` (the reference computation, `ledger_report_plain`)."""
    rows = (LedgerRow(*record) for record in session.connection().execute(query))
    return [row for row in rows if include_all or not row.is_zero]


def ledger_rows(session: Session, period: DateRange, *, include_all: bool = False, hold_days: int = 0,
                with_email: bool = True) -> LedgerRows:
    """The rows of `ledger_report`, in the same order, streamed from the database; with `with_email`
    False each row's email is None, for a reader that does not show it (100,000 texts fewer to read)."""
    holds = _report_holds(session, hold_days)
    driver, dialect = _driver(session)
    statement = report_statement(dialect, period, include_all=include_all, holds=holds, with_email=with_email)
    return LedgerRows(period, holds is not None, report_rows(driver, statement))


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
    driver, dialect = _driver(session)
    statement = report_statement(dialect, period, include_all=include_all,
                                 partner_codes=None if partner_codes is None else list(partner_codes), holds=holds)
    rows = list(report_rows(driver, statement))
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
        .order_by(code_point_order(session))
    )
    rows = _rows(session, query, include_all)
    return LedgerReport(period, rows, totals_by_currency(rows))


def find_partner(session: Session, code: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.code == code))
    if partner is None:
        raise UnknownPartner(code)
    return partner


def code_in_other_case(session: Session, code: str) -> str | None:
    """The partner code that `code` names but for case: codes are exact, and case is the usual slip."""
    return session.scalars(
        select(Partner.code).where(func.lower(Partner.code) == code.lower()).order_by(code_point_order(session))
        .limit(1)
    ).first()


class PartnerEntries(NamedTuple):
    """A set of partners' entries as two reads, each by an index (`partner_entries`)."""

    unbatched: Select
    batched: Select


def partner_entries(partner_ids: list[int], first: date, last: date | None, *columns: Any) -> PartnerEntries:
    """`columns` of the partners' entries dated from `first` to `last` (None: no end), with
    `Batch.batch_id` last (NULL for an entry no batch made).

    The entries no batch made are read through the (partner, date) index, and a batch's by (batch,
    partner) for each batch paid in the range, since every entry of a batch is a payment dated on
    the batch's payment date (migration 0017, held by a trigger). A batch's payments are left out of
    the (partner, date) index so that posting does not dirty a page of it per partner.
    """
    def dated(day: Any) -> Any:
        return day >= first if last is None else day.between(first, last)

    unbatched = select(*columns, null().label("batch_id")).where(
        Entry.batch_pk.is_(None), Entry.partner_id.in_(partner_ids), dated(Entry.effective_date))
    paid_in_range = select(Batch.id).where(dated(Batch.payment_date)).correlate(None)  # also its entries' dates
    batched = (
        select(*columns, Batch.batch_id.label("batch_id"))
        .join(Batch, Batch.id == Entry.batch_pk)
        .where(Entry.batch_pk.in_(paid_in_range), Entry.partner_id.in_(partner_ids))
    )
    return PartnerEntries(unbatched, batched)


def _beginning_balances(session: Session, period: DateRange, partner_ids: list[int]) -> dict[int, int]:
    """Each partner's balance less the net of its entries dated from the range's start on: those no
    batch made summed along the (partner, date) index with the partner rows, a batch's on their own."""
    unbatched = and_(Entry.partner_id == Partner.id, Entry.batch_pk.is_(None), Entry.effective_date >= period.start)
    query = (
        select(Partner.id, Partner.balance - func.coalesce(func.sum(signed_amount()), 0))
        .outerjoin(Entry, unbatched)
        .where(Partner.id.in_(partner_ids))
        .group_by(Partner.id, Partner.balance)
    )
    balances = {partner_id: int(balance) for partner_id, balance in session.execute(query)}
    batched = partner_entries(partner_ids, period.start, None, Entry.partner_id, signed_amount().label("effect")).batched
    moved = batched.subquery("moved")
    summed = select(moved.c.partner_id, func.sum(moved.c.effect)).group_by(moved.c.partner_id)
    for partner_id, net in session.execute(summed):
        balances[partner_id] -= int(net)
    return balances


def _entries_in_order(session: Session, partner_ids: list[int], period: DateRange) -> Iterator[Any]:
    """The partners' entries in the range by partner, date and ID: both parts of `partner_entries`
    read in that order and merged. The (partner, date) index gives the first in order; a sort of the
    union in the database took a quarter longer over 100,000 partners."""
    columns = (Entry.id, Entry.partner_id, Entry.effective_date, Entry.kind, Entry.reference, Entry.description,
               Entry.amount)
    parts = partner_entries(partner_ids, period.start, period.end, *columns)
    ordered = [session.execute(part.order_by(Entry.partner_id, Entry.effective_date, Entry.id)) for part in parts]
    return heapq.merge(*ordered, key=itemgetter(1, 2, 0))


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
        entries = _entries_in_order(session, ids, period)
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
