"""The ledger report's query as SQL text for SQLite and PostgreSQL, and its rows read from the driver.

The report is computed by the database. Each partner row carries the net of every entry it ever
had (`partner.balance`, kept by a trigger), so beginning = balance - net(entries since start). The
same trigger keeps per-partner sums by kind per calendar month and year (`partner_period`), so the
range's figures and the net after it are read from whole years and months of those checkpoints and
from the entries only for the loose days at the edges (`spans`): a five-year range costs about what
a month does, and neither grows with the history around it.

Written as text, without SQLAlchemy: a command that only writes the report reads it through the
driver alone (domain.direct_read), and loading SQLAlchemy and the tables was a third of a large
month report as a whole process. A session runs the same text on its own connection (domain.ledger).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, NamedTuple

from domain import ledger_data
from domain.dates import DateRange
from domain.kinds import CLAWBACK, COMMISSION, MONTH, PAYMENT, YEAR
from domain.ledger_data import LedgerRow

SQLITE = "sqlite"


@dataclass
class Statement:
    """SQL text and its named parameters, in the driver's style (`:name` for sqlite3, `%(name)s` for
    psycopg). Dates go to SQLite as the ISO text its date columns hold."""

    dialect: str
    text: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        """A placeholder for `value`, which is added to the parameters."""
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value.isoformat() if self.dialect == SQLITE and isinstance(value, date) else value
        return f":{name}" if self.dialect == SQLITE else f"%({name})s"

    def code_point_order(self) -> str:
        """Partner codes in code point order, as SQLite compares text and Python sorts it: PostgreSQL
        orders by the database's collation otherwise, which a linguistic one (en_US.UTF-8) makes
        another order. Comparing bytes also sorts 100,000 codes 50–70 ms sooner than C.UTF-8 does."""
        return "partner.code" if self.dialect == SQLITE else 'partner.code COLLATE "C"'

    def partner_key(self) -> str:
        """The GROUP BY key of a sum of entries by partner. On SQLite it names `partner_id + 0` rather
        than the bare column: otherwise the planner walks the (partner, date) index to save a sort,
        reading every entry ever recorded. (PostgreSQL needs no such trick.)"""
        return "entry.partner_id + 0" if self.dialect == SQLITE else "entry.partner_id"


@dataclass(frozen=True)
class ReportHolds:
    """The holds a report applies (SPEC §12): HOLD_DAYS and every partner's own hold, distinct."""

    default_days: int
    days: tuple[int, ...]


PARTNER_HOLDS = "SELECT DISTINCT partner.hold_days FROM partner WHERE partner.hold_days IS NOT NULL"


def partner_holds(driver: Any) -> set[int]:
    """The distinct per-partner holds (PARTNER_HOLDS), read on a driver connection."""
    cursor = driver.cursor()
    try:
        cursor.execute(PARTNER_HOLDS)
        return {int(days) for (days,) in cursor.fetchall()}
    finally:
        cursor.close()


def report_holds(partner_holds: Iterable[int], hold_days: int) -> ReportHolds | None:
    """The holds to apply given the partners' own (PARTNER_HOLDS) and HOLD_DAYS, or None when no
    commission can be held (every figure is then SPEC §2's)."""
    days = set(partner_holds) | {hold_days}
    return ReportHolds(hold_days, tuple(sorted(days))) if max(days) > 0 else None


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


def _period_after(months: int, first: date) -> date:
    """The day after the checkpoint period of `months` that starts on `first`."""
    if months == YEAR:
        return first.replace(year=first.year + 1)
    return (first + timedelta(days=32)).replace(day=1)


def _kind_sum(kind: str, *conditions: str) -> str:
    """The sum of the amounts of one kind of entry meeting `conditions`, zero when there are none."""
    test = " AND ".join((f"entry.kind = '{kind}'", *conditions))
    return f"coalesce(sum(CASE WHEN {test} THEN entry.amount ELSE 0 END), 0)"


def _entry_sums(statement: Statement, first: date, after: date | None) -> str:
    """Per partner, the sums by kind (c, k, p) of the entries dated in [first, after)."""
    dated = f"entry.effective_date >= {statement.bind(first)}"
    if after is not None:
        dated += f" AND entry.effective_date < {statement.bind(after)}"
    return (f"SELECT entry.partner_id AS partner_id, {_kind_sum(COMMISSION)} AS c, {_kind_sum(CLAWBACK)} AS k, "
            f"{_kind_sum(PAYMENT)} AS p FROM entry WHERE {dated} GROUP BY {statement.partner_key()}")


def _checkpoint_sums(statement: Statement, months: int, first: date, after: date | None) -> str:
    """Per partner, the sums by kind of its checkpoints of `months` starting in [first, after)."""
    starts = f"partner_period.start >= {statement.bind(first)}"
    if after is not None:
        starts += f" AND partner_period.start < {statement.bind(after)}"
    return ("SELECT partner_period.partner_id AS partner_id, sum(partner_period.commissions) AS c, "
            "sum(partner_period.clawbacks) AS k, sum(partner_period.payments) AS p FROM partner_period "
            f"WHERE partner_period.months = {int(months)} AND {starts} GROUP BY partner_period.partner_id")


def _span_sums(statement: Statement, length: int, first: date, after: date | None) -> str:
    return _entry_sums(statement, first, after) if length == 0 else _checkpoint_sums(statement, length, first, after)


def _summed(statement: Statement, found: list[tuple[int, date, date | None]]) -> str:
    """Per partner, the sums by kind (c, k, p) over the spans: one span's grouped query, or their union
    grouped again."""
    if len(found) == 1:
        return _span_sums(statement, *found[0])
    every = " UNION ALL ".join(_span_sums(statement, *span) for span in found)
    return ("SELECT summed.partner_id AS partner_id, sum(summed.c) AS c, sum(summed.k) AS k, sum(summed.p) AS p "
            f"FROM ({every}) AS summed GROUP BY summed.partner_id")


class _Within(NamedTuple):
    """How the range's sums by kind per partner join the partner row, and their three columns."""

    joined: str
    commissions: str
    clawbacks: str
    payments: str


def _within(statement: Statement, period: DateRange) -> _Within:
    """The range's sums by kind per partner.

    A range that is one calendar month or year (the usual report) is one checkpoint row per partner,
    joined by its key as the partners are read; any other range is summed and grouped first.
    """
    found = spans(period.start, period.end + timedelta(days=1))
    if len(found) == 1 and found[0][0] != 0 and found[0][2] == _period_after(found[0][0], found[0][1]):
        months, first, _after = found[0]
        joined = (f"partner_period AS within ON within.months = {int(months)} "
                  f"AND within.start = {statement.bind(first)} AND within.partner_id = partner.id")
        return _Within(joined, "within.commissions", "within.clawbacks", "within.payments")
    joined = f"({_summed(statement, found)}) AS within ON within.partner_id = partner.id"
    return _Within(joined, "within.c", "within.k", "within.p")


def _later(statement: Statement, period: DateRange) -> str:
    """Per partner, the sums by kind of every entry dated after the range.

    Both these and the range's sums come from the checkpoints for whole months and years and from
    the entries for the days at the edges, so their cost does not grow with the length of the range
    or of the history after it.
    """
    return _summed(statement, spans(period.end + timedelta(days=1), None))


def _held(statement: Statement, period: DateRange, holds: ReportHolds) -> str:
    """Per partner and distinct hold (held_0, held_1, …), the commissions dated by the end and not
    payable on it: read from the entries of the longest hold's window before the end only."""
    end = statement.bind(period.end)
    columns = []
    for index, days in enumerate(holds.days):
        not_payable = f"entry.effective_date > {statement.bind(period.end - timedelta(days=days))}"
        columns.append(f"{_kind_sum(COMMISSION, not_payable, f'entry.effective_date <= {end}')} AS held_{index}")
    first = statement.bind(period.end - timedelta(days=max(holds.days) - 1))
    return (f"SELECT entry.partner_id AS partner_id, {', '.join(columns)} FROM entry "
            f"WHERE entry.effective_date >= {first} AND entry.effective_date <= {end} "
            f"GROUP BY {statement.partner_key()}")


def _on_hold(statement: Statement, holds: ReportHolds) -> str:
    """Each partner's on_hold: the held sum of its own hold, else of HOLD_DAYS."""
    chosen = " ".join(f"WHEN {int(days)} THEN coalesce(recent.held_{index}, 0)"
                      for index, days in enumerate(holds.days))
    return f"CASE coalesce(partner.hold_days, {int(holds.default_days)}) {chosen} ELSE 0 END"


def _whole(figure: str) -> str:
    """A sum as a whole number of minor units from the driver (PostgreSQL's SUM of BIGINT is NUMERIC),
    so rows need no conversion in Python."""
    return f"CAST({figure} AS BIGINT)"


def report_statement(
    dialect: str, period: DateRange, *, include_all: bool = False, partner_codes: Iterable[str] | None = None,
    holds: ReportHolds | None = None, with_email: bool = True,
) -> Statement:
    """Every partner's LedgerRow for the range, in code order: the partners named by `partner_codes`,
    else every partner with a non-zero figure (every partner with `include_all`). With `with_email`
    False each row's email is NULL, for a reader that does not show it (100,000 texts fewer to read)."""
    statement = Statement(dialect)
    within = _within(statement, period)
    later = _later(statement, period)
    held = _held(statement, period, holds) if holds else None
    net_within = f"coalesce({within.commissions} - {within.clawbacks} - {within.payments}, 0)"
    figures = [
        _whole(f"partner.balance - {net_within} - coalesce(later.c - later.k - later.p, 0)"),
        _whole(f"coalesce({within.commissions}, 0)"),
        _whole(f"coalesce({within.clawbacks}, 0)"),
        _whole(f"coalesce({within.payments}, 0)"),
        _whole(_on_hold(statement, holds)) if holds else "0",
    ]
    email = "partner.email" if with_email else "NULL"
    text = (f"SELECT partner.id, partner.code, partner.name, {email}, partner.currency, {', '.join(figures)} "
            f"FROM partner LEFT OUTER JOIN {within.joined} "
            f"LEFT OUTER JOIN ({later}) AS later ON later.partner_id = partner.id")
    if held is not None:
        text += f" LEFT OUTER JOIN ({held}) AS recent ON recent.partner_id = partner.id"
    if partner_codes is not None:
        codes = [statement.bind(code) for code in partner_codes]
        text += f" WHERE partner.code IN ({', '.join(codes)})" if codes else " WHERE 1 = 0"
    elif not include_all:
        text += " WHERE " + " OR ".join(f"{figure} != 0" for figure in figures)  # LedgerRow.is_zero, asked by the database
    statement.text = text + f" ORDER BY {statement.code_point_order()}"
    return statement


def report_rows(driver: Any, statement: Statement) -> Iterator[LedgerRow]:
    """The rows of `report_statement` read from a driver connection in its open transaction, a few
    thousand at a time, each record made a LedgerRow by `tuple.__new__` alone: the query returns
    every field in order and has left out the zero rows already, so no Python code runs per row (a
    report of a large program has 100,000).

    SQLite steps through the rows as they are fetched. PostgreSQL reads them from a server-side
    cursor, planned for all its rows: unless told otherwise it plans a cursor for its first tenth,
    and the plan for all of them read a large month 0.1–0.2 s sooner.
    """
    if statement.dialect == SQLITE:
        cursor = driver.cursor()
        try:
            cursor.execute(statement.text, statement.parameters)
            yield from _fetched(cursor)
        finally:
            cursor.close()
        return
    driver.execute("SET LOCAL cursor_tuple_fraction = 1")
    with driver.cursor(name="report_rows") as cursor:
        cursor.execute(statement.text, statement.parameters)
        yield from _fetched(cursor)


def _fetched(cursor: Any) -> Iterator[LedgerRow]:
    for part in iter(partial(cursor.fetchmany, ledger_data.STREAMED_ROWS), []):
        yield from map(_ledger_row, part)


_ledger_row = partial(tuple.__new__, LedgerRow)
