"""The fast report (stored balance and checkpoints, entries only at the edges) equals the plain aggregate.

`ledger_report` takes the beginning balance from `partner.balance` and reads whole months and years
of the range, and of the time after it, from the `partner_period` checkpoints; only the loose days
at the edges come from the entries. The database's insert trigger keeps both the balance and the
checkpoints. These properties attack what could make them and the entries disagree: entries
recorded after a report but dated before it or inside periods already checkpointed (back-dated
corrections), batches posted and voided and lines of them failed (reversing entries dated like
the payments), and imports, including a second import of the same file whose rows are all ignored.
Ranges are drawn both anywhere and along calendar months and years, so whole checkpoints are read as well as the edges.
`ledger_report_plain`, one GROUP BY over every entry, is the yardstick. Each example writes its own
partners (fresh codes) and compares only their rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain import batches, imports
from domain.dates import DateRange
from domain.kinds import MONTH, YEAR
from domain.ledger import find_partner, ledger_report, ledger_report_plain
from domain.ledger_data import LedgerRow
from domain.models import Entry, Partner, PartnerPeriod
from domain.money import format_plain
from domain.report_sql import spans
from tests.factories import add_entry, add_partner
from tests.test_ledger_properties import calendar_ranges

FIRST_DAY = date(2014, 1, 1)
SPAN_DAYS = 2 * 365
CURRENCIES = ("USD", "EUR", "JPY", "KWD")
NOW = datetime(2016, 1, 15, 12, 0, tzinfo=UTC)
TRUSTED = batches.ApprovalPolicy(frozenset({"cli:test"}), trusted_operator=True)

database_examples = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_numbers = count(1)


@dataclass(frozen=True)
class Movement:
    partner: int
    kind: str
    amount: int
    day: date


days = st.integers(0, SPAN_DAYS).map(lambda offset: FIRST_DAY + timedelta(days=offset))
movements = st.builds(
    Movement,
    partner=st.integers(0, 2),
    kind=st.sampled_from(("commission", "commission", "commission", "clawback", "payment")),
    amount=st.one_of(st.integers(1, 100), st.integers(1, 10**9)),
    day=days,
)
currencies = st.lists(st.sampled_from(CURRENCIES), min_size=3, max_size=3)


@st.composite
def ranges(draw) -> DateRange:
    if draw(st.booleans()):
        return draw(calendar_ranges(FIRST_DAY, FIRST_DAY + timedelta(days=SPAN_DAYS)))
    start = FIRST_DAY + timedelta(days=draw(st.integers(-10, SPAN_DAYS + 10)))
    return DateRange(start, start + timedelta(days=draw(st.sampled_from((0, 6, 30, 91, 365)))))


def add_partners(db, chosen: list[str]) -> list[str]:
    prefix = f"F{next(_numbers)}"
    with db.write() as session:
        return [add_partner(session, f"{prefix}-{i}", currency=currency).code for i, currency in enumerate(chosen)]


def record(db, codes: list[str], moves: list[Movement]) -> None:
    """One transaction of entries, in the order given (not date order)."""
    with db.write() as session:
        partners = [find_partner(session, code) for code in codes]
        for move in moves:
            add_entry(session, partners[move.partner], move.kind, move.amount, move.day)


def rows_of(db, codes: list[str], period: DateRange, *, plain: bool = False) -> list[LedgerRow]:
    report = ledger_report_plain if plain else ledger_report
    with db.read() as session:
        return [row for row in report(session, period, include_all=True).rows if row.partner_code in codes]


def assert_fast_equals_plain(db, codes: list[str], periods: list[DateRange]) -> None:
    for period in periods:
        assert rows_of(db, codes, period) == rows_of(db, codes, period, plain=True), period


@database_examples
@given(chosen=currencies, early=st.lists(movements, max_size=20), late=st.lists(movements, min_size=1, max_size=10),
       periods=st.lists(ranges(), min_size=1, max_size=3))
def test_back_dated_entries_recorded_later_count_as_in_the_plain_aggregate(db, chosen, early, late, periods):
    codes = add_partners(db, chosen)
    record(db, codes, early)
    assert_fast_equals_plain(db, codes, periods)
    record(db, codes, late)
    assert_fast_equals_plain(db, codes, periods)


@database_examples
@given(chosen=currencies, moves=st.lists(movements, max_size=20), late=st.lists(movements, min_size=1, max_size=10),
       period=ranges())
def test_entries_back_dated_before_the_range_move_only_its_beginning_balance(db, chosen, moves, late, period):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    before = rows_of(db, codes, period)
    back_dated = [Movement(m.partner, m.kind, m.amount, period.start - timedelta(days=1 + m.day.day)) for m in late]
    record(db, codes, back_dated)
    after = rows_of(db, codes, period)
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        moved = sum(m.amount if m.kind == "commission" else -m.amount for m in back_dated if m.partner == index)
        assert new.beginning_balance == old.beginning_balance + moved
        assert (new.commissions, new.clawbacks, new.payments) == (old.commissions, old.clawbacks, old.payments)


def post_batch(db, period: DateRange, method: str, payment_day: date) -> str | None:
    """Request and approve a batch for everyone owed; None when nobody is."""
    options = batches.BatchOptions(period, method, "Check", payment_day, allow_overlap=True)
    try:
        with db.write() as session:
            batch_id = batches.request_batch(session, options, actor="cli:test", now=NOW).batch_id
    except batches.BatchError:
        return None
    with db.write() as session:
        batches.approve_batch(session, batch_id, actor="cli:test", policy=TRUSTED, now=NOW)
    return batch_id


def void(db, batch_id: str) -> None:
    with db.write() as session:
        batches.void_batch(session, batch_id, actor="cli:test", reason="paid by mistake", now=NOW)


@database_examples
@given(chosen=currencies, moves=st.lists(movements, min_size=1, max_size=20), batch_range=ranges(),
       method=st.sampled_from(batches.METHODS), payment_day=days, voided=st.booleans(),
       periods=st.lists(ranges(), min_size=1, max_size=3))
def test_posted_and_voided_batches_read_alike_on_fast_and_plain_reports(
    db, chosen, moves, batch_range, method, payment_day, voided, periods
):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    batch_id = post_batch(db, batch_range, method, payment_day)
    if batch_id is not None and voided:
        void(db, batch_id)
    assert_fast_equals_plain(db, codes, [batch_range, *periods])


@database_examples
@given(chosen=currencies, moves=st.lists(movements, min_size=1, max_size=20), batch_range=ranges(),
       payment_day=days, periods=st.lists(ranges(), min_size=1, max_size=3))
def test_a_voided_batch_leaves_every_fast_report_as_before_it_was_posted(
    db, chosen, moves, batch_range, payment_day, periods
):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    before = [rows_of(db, codes, period) for period in periods]
    batch_id = post_batch(db, batch_range, "ending-balance", payment_day)
    if batch_id is not None:
        void(db, batch_id)
    assert [rows_of(db, codes, period) for period in periods] == before


def fail_lines(db, batch_id: str, codes: list[str]) -> None:
    with db.write() as session:
        for code in codes:
            batches.fail_batch_line(session, batch_id, code, actor="cli:test", reason="returned", now=NOW)


def paid_codes(db, batch_id: str, codes: list[str]) -> list[str]:
    with db.read() as session:
        paid, _ = batches.frozen_lines(batches.get_batch(session, batch_id))
    return [line.partner_code for line in paid if line.partner_code in codes]


@database_examples
@given(chosen=currencies, moves=st.lists(movements, min_size=1, max_size=20), batch_range=ranges(),
       method=st.sampled_from(batches.METHODS), payment_day=days, failing=st.sets(st.integers(0, 2)),
       voided=st.booleans(), periods=st.lists(ranges(), min_size=1, max_size=3))
def test_failed_lines_read_alike_on_fast_and_plain_reports_and_as_if_those_partners_were_never_paid(
    db, chosen, moves, batch_range, method, payment_day, failing, voided, periods
):
    """SPEC §10: a failed line's reversal is dated like the payment, so every range reads as before it."""
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    before = {period: rows_of(db, codes, period) for period in periods}
    batch_id = post_batch(db, batch_range, method, payment_day)
    if batch_id is None:
        return
    failed = [code for code in paid_codes(db, batch_id, codes) if codes.index(code) in failing]
    fail_lines(db, batch_id, failed)
    if voided:
        void(db, batch_id)
    assert_fast_equals_plain(db, codes, [batch_range, *periods])
    for period in periods:
        now = {row.partner_code: row for row in rows_of(db, codes, period)}
        for row in before[period]:
            if row.partner_code in failed or voided:
                assert now[row.partner_code] == row, (period, row.partner_code)


def entries_csv(codes: list[str], chosen: list[str], moves: list[Movement]) -> str:
    lines = ["date,partner_code,kind,amount,reference,description"]
    for move in moves:
        amount = format_plain(move.amount, chosen[move.partner])
        lines.append(f"{move.day},{codes[move.partner]},{move.kind},{amount},IMP-{next(_numbers)},imported")
    return "\n".join(lines) + "\n"


def import_text(db, text: str) -> imports.ImportResult:
    with db.write() as session:
        return imports.import_entries(session, io.StringIO(text), source="entries.csv", actor="cli:test", now=NOW)


@database_examples
@given(chosen=currencies, moves=st.lists(movements, max_size=20), imported=st.lists(movements, min_size=1, max_size=20),
       period=ranges())
def test_an_import_landing_before_a_reported_range_counts_as_in_the_plain_aggregate(
    db, chosen, moves, imported, period
):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    earlier = [Movement(m.partner, m.kind, m.amount, min(m.day, period.start - timedelta(days=1))) for m in imported]
    import_text(db, entries_csv(codes, chosen, earlier))
    assert_fast_equals_plain(db, codes, [period, DateRange(earlier[0].day, period.end)])


@database_examples
@given(chosen=currencies, imported=st.lists(movements, min_size=1, max_size=20), periods=st.lists(ranges(), min_size=1, max_size=3))
def test_importing_the_same_file_twice_leaves_the_fast_report_unchanged(db, chosen, imported, periods):
    codes = add_partners(db, chosen)
    text = entries_csv(codes, chosen, imported)
    import_text(db, text)
    once = [rows_of(db, codes, period) for period in periods]
    assert import_text(db, text).added == 0
    assert [rows_of(db, codes, period) for period in periods] == once


def checkpoints_of(db, codes: list[str]) -> dict[tuple[str, int, date], tuple[int, int, int]]:
    """The partner_period rows of these partners."""
    query = (
        select(Partner.code, PartnerPeriod.months, PartnerPeriod.start, PartnerPeriod.commissions,
               PartnerPeriod.clawbacks, PartnerPeriod.payments)
        .join(Partner, Partner.id == PartnerPeriod.partner_id)
        .where(Partner.code.in_(codes))
    )
    with db.read() as session:
        return {(code, months, start): (c, k, p) for code, months, start, c, k, p in session.execute(query)}


def entry_sums_of(db, codes: list[str]) -> dict[tuple[str, int, date], tuple[int, int, int]]:
    """The same sums computed in Python from the entries: by calendar month (1) and year (12)."""
    query = select(Partner.code, Entry.kind, Entry.amount, Entry.effective_date).join(Partner).where(
        Partner.code.in_(codes))
    sums: dict[tuple[str, int, date], list[int]] = {}
    with db.read() as session:
        for code, kind, amount, day in session.execute(query):
            for months, start in ((MONTH, day.replace(day=1)), (YEAR, date(day.year, 1, 1))):
                totals = sums.setdefault((code, months, start), [0, 0, 0])
                totals[("commission", "clawback", "payment").index(kind)] += amount
    return {key: tuple(values) for key, values in sums.items()}


@database_examples
@given(chosen=currencies, early=st.lists(movements, max_size=15), late=st.lists(movements, min_size=1, max_size=10),
       imported=st.lists(movements, max_size=10), batch_range=ranges(), payment_day=days)
def test_the_checkpoints_equal_the_entries_sums_by_month_and_year_after_corrections_voids_and_imports(
    db, chosen, early, late, imported, batch_range, payment_day
):
    codes = add_partners(db, chosen)
    record(db, codes, early)
    batch_id = post_batch(db, batch_range, "ending-balance", payment_day)
    if batch_id is not None:
        void(db, batch_id)
    record(db, codes, late)
    if imported:
        import_text(db, entries_csv(codes, chosen, imported))
    assert checkpoints_of(db, codes) == entry_sums_of(db, codes)


@database_examples
@given(chosen=currencies, moves=st.lists(movements, min_size=1, max_size=20),
       imported=st.lists(movements, min_size=1, max_size=20),
       periods=st.lists(calendar_ranges(FIRST_DAY, FIRST_DAY + timedelta(days=SPAN_DAYS)), min_size=1, max_size=3))
def test_an_import_into_months_and_years_already_checkpointed_counts_as_in_the_plain_aggregate(
    db, chosen, moves, imported, periods
):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    assert_fast_equals_plain(db, codes, periods)
    same_months = [Movement(m.partner, m.kind, m.amount, moves[i % len(moves)].day.replace(day=1 + m.day.day % 28))
                   for i, m in enumerate(imported)]
    import_text(db, entries_csv(codes, chosen, same_months))
    assert_fast_equals_plain(db, codes, periods)


@given(start=days, length=st.one_of(st.none(), st.integers(0, 3 * 365)))
def test_spans_cut_a_range_into_loose_days_at_the_edges_whole_months_and_whole_years(start, length):
    end = None if length is None else start + timedelta(days=length)
    found = spans(start, end)
    bounds = [start] + [after for _, _, after in found]
    assert [first for _, first, _ in found] == bounds[:-1]
    assert bounds[-1] == end
    for kind, first, after in found:
        if kind == MONTH:
            assert first.day == 1 and after.day == 1 and after <= first + timedelta(days=31 * 22)
        elif kind == YEAR:
            assert (first.month, first.day) == (1, 1) and (after is None or (after.month, after.day) == (1, 1))
        else:
            assert after is not None and (after - first).days < 31
    assert sum(1 for kind, _, _ in found if kind == 0) <= 2
