"""SPEC §2 as properties: whatever the entries and the range, the report's arithmetic holds.

Each example writes its own partners (fresh codes) into the test's database and asks only for
them, so one migrated database serves every example, on SQLite and on PostgreSQL. A plain Python
model of the ledger, summing effects by date, is the yardstick.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.dates import DateRange
from domain.ledger import ledger_report, ledger_report_plain, partner_ledger
from tests.factories import add_entry, add_partner

FIRST_DAY = date(2013, 1, 1)
SPAN_DAYS = 3 * 365
CURRENCIES = ("USD", "EUR", "JPY", "KWD")

database_examples = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_example_numbers = count(1)


@dataclass(frozen=True)
class GeneratedEntry:
    partner: int
    kind: str
    amount: int
    day: date

    @property
    def effect(self) -> int:
        return self.amount if self.kind == "commission" else -self.amount


days = st.integers(0, SPAN_DAYS).map(lambda offset: FIRST_DAY + timedelta(days=offset))
amounts = st.one_of(st.integers(1, 100), st.integers(1, 10**12))
entries = st.builds(
    GeneratedEntry,
    partner=st.integers(0, 3),
    kind=st.sampled_from(("commission", "clawback", "payment")),
    amount=amounts,
    day=days,
) | st.builds(
    # a void's reversing entry: a negative payment
    GeneratedEntry, partner=st.integers(0, 3), kind=st.just("payment"), amount=amounts.map(lambda a: -a), day=days,
)
# a failed line (SPEC §10): a payment and its reversal, dated alike
failed_payments = st.builds(
    lambda partner, amount, day: (GeneratedEntry(partner, "payment", amount, day),
                                  GeneratedEntry(partner, "payment", -amount, day)),
    partner=st.integers(0, 3), amount=amounts, day=days,
)
ledgers = st.tuples(
    st.lists(st.sampled_from(CURRENCIES), min_size=4, max_size=4),
    st.lists(entries.map(lambda entry: (entry,)) | failed_payments, max_size=30).map(
        lambda groups: [entry for group in groups for entry in group]),
)


def _month_end(year: int, month: int) -> date:
    return (date(year, month, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@st.composite
def calendar_ranges(draw, first: date, last: date) -> DateRange:
    """Ranges of whole calendar months and years, or starting or ending on a loose day within one.

    The report reads whole months and years from the partner_period checkpoints and only the loose
    days at the edges from the entries (domain.ledger.spans); these ranges make it read every kind.
    """
    year = draw(st.integers(first.year - 1, last.year))
    month = draw(st.sampled_from((1, 1, 2, 6, 12)))
    start = date(year, month, 1) + timedelta(days=draw(st.sampled_from((0, 0, 1, 14))))
    months_on = month - 1 + draw(st.sampled_from((0, 1, 5, 11, 12, 13, 23, 24, 40)))
    end_year, end_month = year + months_on // 12, months_on % 12 + 1
    end = _month_end(end_year, end_month) - timedelta(days=draw(st.sampled_from((0, 0, 1, 20))))
    return DateRange(start, max(start, end))


@st.composite
def ranges(draw) -> DateRange:
    if draw(st.booleans()):
        return draw(calendar_ranges(FIRST_DAY, FIRST_DAY + timedelta(days=SPAN_DAYS)))
    start = draw(st.integers(-30, SPAN_DAYS + 30))
    length = draw(st.sampled_from((0, 1, 6, 30, 90, 400, 2000)))
    return DateRange(FIRST_DAY + timedelta(days=start), FIRST_DAY + timedelta(days=start + length))


def write_ledger(db, currencies: list[str], generated: list[GeneratedEntry]) -> list[str]:
    """Store the partners and entries of one example; return the partners' codes."""
    prefix = f"X{next(_example_numbers)}"
    with db.write() as session:
        partners = [add_partner(session, f"{prefix}-{i}", currency=currency) for i, currency in enumerate(currencies)]
        for entry in generated:
            add_entry(session, partners[entry.partner], entry.kind, entry.amount, entry.day)
    return [partner.code for partner in partners]


def model_row(generated: list[GeneratedEntry], partner: int, period: DateRange) -> tuple[int, int, int, int, int]:
    """(beginning, commissions, clawbacks, payments, ending) by the definitions of SPEC §2."""
    mine = [entry for entry in generated if entry.partner == partner]
    within = [entry for entry in mine if period.start <= entry.day <= period.end]
    beginning = sum(entry.effect for entry in mine if entry.day < period.start)
    sums = {kind: sum(entry.amount for entry in within if entry.kind == kind) for kind in ("commission", "clawback", "payment")}
    ending = sum(entry.effect for entry in mine if entry.day <= period.end)
    return beginning, sums["commission"], sums["clawback"], sums["payment"], ending


@database_examples
@given(ledger=ledgers, period=ranges())
def test_every_row_follows_the_definitions_and_ending_is_beginning_plus_movements(db, ledger, period):
    currencies, generated = ledger
    codes = write_ledger(db, currencies, generated)
    with db.read() as session:
        rows = {row.partner_code: row for row in ledger_report(session, period, partner_codes=codes).rows}
    for index, code in enumerate(codes):
        row = rows[code]
        beginning, commissions, clawbacks, payments, ending = model_row(generated, index, period)
        assert (row.beginning_balance, row.commissions, row.clawbacks, row.payments) == (
            beginning, commissions, clawbacks, payments)
        assert row.ending_balance == ending == beginning + commissions - clawbacks - payments


@database_examples
@given(ledger=ledgers, period=ranges(), data=st.data())
def test_splitting_a_range_the_second_part_begins_where_the_first_ends(db, ledger, period, data):
    currencies, generated = ledger
    codes = write_ledger(db, currencies, generated)
    split = period.start + timedelta(days=data.draw(st.integers(1, max(1, period.days - 1))))
    first = DateRange(period.start, split - timedelta(days=1))
    second = DateRange(split, max(split, period.end))
    with db.read() as session:
        whole, part_one, part_two = (
            {row.partner_code: row for row in ledger_report(session, part, partner_codes=codes).rows}
            for part in (DateRange(period.start, second.end), first, second)
        )
    for code in codes:
        assert part_two[code].beginning_balance == part_one[code].ending_balance
        assert part_one[code].beginning_balance == whole[code].beginning_balance
        assert part_two[code].ending_balance == whole[code].ending_balance
        for column in ("commissions", "clawbacks", "payments"):
            assert getattr(part_one[code], column) + getattr(part_two[code], column) == getattr(whole[code], column)


@database_examples
@given(ledger=ledgers, period=ranges())
def test_partner_ledger_running_balance_agrees_with_the_report_row_to_the_cent(db, ledger, period):
    currencies, generated = ledger
    codes = write_ledger(db, currencies, generated)
    with db.read() as session:
        report = ledger_report(session, period, partner_codes=codes)
        ledgers_by_code = {code: partner_ledger(session, code, period) for code in codes}
    for row in report.rows:
        ledger = ledgers_by_code[row.partner_code]
        balance = ledger.beginning_balance
        for line in ledger.lines:
            balance += line.amount
            assert line.balance == balance
            assert period.contains(line.date)
        assert [line.date for line in ledger.lines] == sorted(line.date for line in ledger.lines)
        assert ledger.beginning_balance == row.beginning_balance
        assert ledger.ending_balance == row.ending_balance
        assert (ledger.total("commission"), ledger.total("clawback"), ledger.total("payment")) == (
            row.commissions, row.clawbacks, row.payments)


@database_examples
@given(ledger=ledgers, period=ranges())
def test_totals_are_per_currency_and_never_mix_currencies(db, ledger, period):
    currencies, generated = ledger
    codes = write_ledger(db, currencies, generated)
    with db.read() as session:
        report = ledger_report(session, period, partner_codes=codes)
    by_currency: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for row in report.rows:
        figures = (row.beginning_balance, row.commissions, row.clawbacks, row.payments, row.ending_balance)
        by_currency[row.currency] = [a + b for a, b in zip(by_currency[row.currency], figures, strict=True)]
    totals = {total.currency: total for total in report.totals}
    assert len(totals) == len(report.totals)
    assert set(totals) == set(currencies)
    for currency, expected in by_currency.items():
        total = totals[currency]
        assert [total.beginning_balance, total.commissions, total.clawbacks, total.payments,
                total.ending_balance] == expected
        assert total.partners == sum(1 for row in report.rows if row.currency == currency)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ledger=ledgers, period=ranges())
def test_fast_report_equals_the_plain_aggregate_over_every_entry(db, ledger, period):
    currencies, generated = ledger
    codes = set(write_ledger(db, currencies, generated))
    with db.read() as session:
        fast = [row for row in ledger_report(session, period, include_all=True).rows if row.partner_code in codes]
        plain = [row for row in ledger_report_plain(session, period, include_all=True).rows if row.partner_code in codes]
    assert fast == plain


@database_examples
@given(ledger=ledgers, failed=st.lists(failed_payments, min_size=1, max_size=5), period=ranges())
def test_failed_payments_leave_every_row_as_if_they_had_never_been_paid(db, ledger, failed, period):
    """SPEC §10: a failed line's reversal carries the payment's date, so no range sees the payment."""
    currencies, generated = ledger
    with_failures = write_ledger(db, currencies, generated + [entry for pair in failed for entry in pair])
    without = write_ledger(db, currencies, generated)
    with db.read() as session:
        rows = {row.partner_code: row for row in ledger_report(session, period, partner_codes=with_failures + without).rows}
    for failing, plain in zip(with_failures, without, strict=True):
        figures = rows[failing]
        assert (figures.beginning_balance, figures.clawbacks, figures.commissions, figures.ending_balance) == (
            rows[plain].beginning_balance, rows[plain].clawbacks, rows[plain].commissions, rows[plain].ending_balance)
        assert figures.payments == rows[plain].payments  # the pair nets to nothing within any range holding its day
