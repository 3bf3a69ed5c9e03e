"""The ledger's figures as plain values: a report's rows and totals, a partner's ledger lines.

Kept apart from the queries (domain.ledger, domain.report_sql) so that writing a report, which a
report read through the driver alone does (domain.direct_read), loads neither SQLAlchemy nor the
tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, islice
from operator import add, sub
from typing import NamedTuple

from domain.dates import DateRange
from domain.kinds import COMMISSION

STREAMED_ROWS = 2000  # rows fetched from the database at a time while a report is written


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
