"""The referral partner ledger report and the individual partner ledger (SPEC §2).

The report is computed by the database. Each partner row carries the net of every entry it ever
had (`partner.balance`, kept by a trigger), so a range needs only the entries dated on or after
its start: beginning = balance - net(entries since start). The cost of a recent month therefore
does not grow with the years of history before it. `ledger_report_plain` is the textbook single
GROUP BY over every entry, kept as the reference the fast path is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from domain.dates import DateRange
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

    @property
    def ending_balance(self) -> int:
        return self.beginning_balance + self.commissions - self.clawbacks - self.payments

    @property
    def is_zero(self) -> bool:
        return not (self.beginning_balance or self.commissions or self.clawbacks or self.payments)


@dataclass
class CurrencyTotals:
    currency: str
    partners: int = 0
    beginning_balance: int = 0
    commissions: int = 0
    clawbacks: int = 0
    payments: int = 0
    ending_balance: int = 0

    def add(self, row: LedgerRow) -> None:
        self.partners += 1
        self.beginning_balance += row.beginning_balance
        self.commissions += row.commissions
        self.clawbacks += row.clawbacks
        self.payments += row.payments
        self.ending_balance += row.ending_balance


@dataclass(frozen=True)
class LedgerReport:
    range: DateRange
    rows: list[LedgerRow]
    totals: list[CurrencyTotals]

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


def _recent_activity(period: DateRange, dialect: str):  # type: ignore[no-untyped-def]
    """Sums of the entries dated on or after the range's start, read from the (date, partner) index.

    On SQLite the GROUP BY names `partner_id + 0` rather than the bare column: otherwise the planner
    walks the (partner, date) index to save a sort, reading every entry ever recorded. (SQLite
    allows the bare column beside it in the select list; PostgreSQL does not, nor needs the trick.)
    """
    in_range = Entry.effective_date <= period.end
    group_key = Entry.partner_id + literal_column("0") if dialect == "sqlite" else Entry.partner_id
    return (
        select(
            Entry.partner_id.label("partner_id"),
            _sum_of(COMMISSION, in_range).label("commissions"),
            _sum_of(CLAWBACK, in_range).label("clawbacks"),
            _sum_of(PAYMENT, in_range).label("payments"),
            func.sum(signed_amount()).label("net_since_start"),
        )
        .where(Entry.effective_date >= period.start)
        .group_by(group_key)
        .subquery("recent")
    )


def _report_query(
    period: DateRange, include_all: bool, partner_codes: Iterable[str] | None, dialect: str
) -> Select:
    recent = _recent_activity(period, dialect)
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
) -> LedgerReport:
    """Every partner with a non-zero figure for the range (all partners with `include_all`)."""
    listed_all = include_all or partner_codes is not None
    query = _report_query(period, include_all, partner_codes, session.get_bind().dialect.name)
    rows = _rows(session, query, listed_all)
    return LedgerReport(period, rows, totals_by_currency(rows))


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

    @property
    def ending_balance(self) -> int:
        return self.lines[-1].balance if self.lines else self.beginning_balance

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


def partner_ledger(session: Session, code: str, period: DateRange) -> PartnerLedger:
    """One partner's entries in the range with a running balance that agrees with the report row."""
    partner = find_partner(session, code)
    return next(iter_partner_ledgers(session, period, [partner]))


def iter_partner_ledgers(
    session: Session, period: DateRange, partners: list[Partner], chunk: int = 500
) -> Iterator[PartnerLedger]:
    """Partner ledgers one at a time, a chunk of partners per query, so memory stays bounded."""
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
