"""SPEC §12 as properties: for random ledgers, holds, ranges and payment dates, on_hold, payable and
each method's amount follow the definitions, and with no hold nothing differs from SPEC §2-§3.

Each example writes its own partners (fresh codes), with random per-partner holds, and reads only
them, on SQLite and on PostgreSQL. A plain Python model, summing commissions by date, is the yardstick.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from commands.cli_batch_views import plan_json
from commands.ledger_files import LEDGER_CSV_HEADER, ledger_json, partner_ledger_json, write_ledger_csv
from domain import batches
from domain.batches import BatchOptions
from domain.dates import DateRange
from domain.ledger import ledger_report, ledger_report_plain, partner_ledger
from domain.ledger_data import LedgerReport, totals_by_currency
from domain.models import Partner
from tests.factories import add_entry, add_partner
from tests.test_ledger_properties import GeneratedEntry as Move
from tests.test_ledger_properties import calendar_ranges

FIRST_DAY = date(2014, 1, 1)
SPAN_DAYS = 400
CURRENCIES = ("USD", "EUR", "JPY", "KWD")
KINDS = ("commission", "clawback", "payment")

examples = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_numbers = count(1)


days = st.integers(0, SPAN_DAYS).map(lambda offset: FIRST_DAY + timedelta(days=offset))
moves = st.lists(
    st.builds(Move, partner=st.integers(0, 2), kind=st.sampled_from(("commission", "commission") + KINDS),
              amount=st.one_of(st.integers(1, 100), st.integers(1, 10**10)), day=days),
    max_size=30,
)
own_holds = st.lists(st.one_of(st.none(), st.sampled_from((0, 1, 7, 14, 30, 45, 365))), min_size=3, max_size=3)
default_holds = st.sampled_from((0, 14, 30))


@st.composite
def ranges(draw) -> DateRange:
    if draw(st.booleans()):
        return draw(calendar_ranges(FIRST_DAY, FIRST_DAY + timedelta(days=SPAN_DAYS)))
    start = FIRST_DAY + timedelta(days=draw(st.integers(-10, SPAN_DAYS + 10)))
    return DateRange(start, start + timedelta(days=draw(st.sampled_from((0, 6, 30, 91)))))


def write(db, moves_: list[Move], holds: list[int | None]) -> list[str]:
    prefix = f"H{next(_numbers)}"
    with db.write() as session:
        partners = [add_partner(session, f"{prefix}-{i}", currency=CURRENCIES[i]) for i in range(3)]
        for index, days_ in enumerate(holds):
            session.execute(update(Partner).where(Partner.id == partners[index].id).values(hold_days=days_))
        for move in moves_:
            add_entry(session, partners[move.partner], move.kind, move.amount, move.day)
    return [partner.code for partner in partners]


def hold_of(holds: list[int | None], partner: int, default: int) -> int:
    return default if holds[partner] is None else holds[partner]


def model_held(mine: list[Move], hold: int, as_of: date, until: date, since: date = date.min) -> int:
    """SPEC §12: commissions dated by `until` (and from `since`) not yet payable on `as_of`."""
    return sum(m.amount for m in mine
               if m.kind == "commission" and since <= m.day <= until and m.day + timedelta(days=hold) > as_of)


@examples
@given(moves_=moves, holds=own_holds, default=default_holds, period=ranges())
def test_on_hold_follows_the_definition_and_payable_is_ending_less_on_hold(db, moves_, holds, default, period):
    codes = write(db, moves_, holds)
    with db.read() as session:
        report = ledger_report(session, period, partner_codes=codes, hold_days=default)
    for row in report.rows:
        index = codes.index(row.partner_code)
        mine = [m for m in moves_ if m.partner == index]
        assert row.on_hold == model_held(mine, hold_of(holds, index, default), period.end, period.end)
        assert row.payable == row.ending_balance - row.on_hold
    for total in report.totals:
        assert total.payable == total.ending_balance - total.on_hold


@examples
@given(moves_=moves, holds=own_holds, default=default_holds, period=ranges())
def test_a_partners_ledger_marks_exactly_the_held_commissions_and_agrees_with_the_report(
    db, moves_, holds, default, period
):
    codes = write(db, moves_, holds)
    with db.read() as session:
        rows = {row.partner_code: row for row in ledger_report(session, period, partner_codes=codes, hold_days=default).rows}
        ledgers = {code: partner_ledger(session, code, period, hold_days=default) for code in codes}
    for index, code in enumerate(codes):
        hold = hold_of(holds, index, default)
        for line in ledgers[code].lines:
            due = line.date + timedelta(days=hold)
            assert line.payable_on == (due if line.kind == "commission" and due > period.end else None)
        assert ledgers[code].on_hold == rows[code].on_hold
        assert ledgers[code].payable == rows[code].payable


@examples
@given(moves_=moves, holds=own_holds, default=default_holds, period=ranges(), paid_after=st.integers(-5, 60),
       method=st.sampled_from(batches.METHODS))
def test_each_methods_amount_with_holds_follows_spec_12(db, moves_, holds, default, period, paid_after, method):
    codes = write(db, moves_, holds)
    paid = period.end + timedelta(days=paid_after)
    with db.read() as session:
        plan = batches.plan_batch(session, BatchOptions(period, method, "Check", paid), hold_days=default)
        listed = ledger_report(session, period, partner_codes=codes).rows
        rows = {row.partner_code: row for row in listed if not row.is_zero}
    lines = {line.partner_code: line for line in plan.lines + plan.skipped if line.partner_code in codes}
    assert set(lines) == set(rows)
    for code, line in lines.items():
        index = codes.index(code)
        mine = [m for m in moves_ if m.partner == index]
        hold = hold_of(holds, index, default)
        row = rows[code]
        in_range = model_held(mine, hold, paid, period.end, period.start)
        expected = {
            "commission": row.commissions - in_range,
            "beginning-plus-commission": row.beginning_balance + row.commissions - in_range,
            "ending-balance": row.ending_balance - model_held(mine, hold, paid, period.end),
        }[method]
        assert line.amount == expected
        assert (line in plan.lines) == (expected > 0)
        if line.held:
            held_days = [m.day for m in mine if m.kind == "commission" and m.day <= period.end
                         and m.day + timedelta(days=hold) > paid]
            assert line.held_until == max(held_days) + timedelta(days=hold)


def _csv(report) -> str:  # type: ignore[no-untyped-def]
    handle = io.StringIO()
    write_ledger_csv(report, handle)
    return handle.getvalue()


@examples
@given(moves_=moves, holds=st.lists(st.sampled_from((None, 0)), min_size=3, max_size=3), period=ranges(),
       method=st.sampled_from(batches.METHODS))
def test_with_no_hold_every_report_batch_and_file_is_what_spec_2_and_3_define(db, moves_, holds, period, method):
    """HOLD_DAYS=0 and no partner hold: the files are byte for byte those of the plain aggregate,
    which knows nothing of holds, with SPEC §5's and §7's shapes, and each line pays SPEC §3's amount."""
    codes = write(db, moves_, holds)
    with db.read() as session:
        report = ledger_report(session, period, partner_codes=codes)
        mine = [row for row in ledger_report_plain(session, period, include_all=True).rows if row.partner_code in codes]
        plain = LedgerReport(period, mine, totals_by_currency(mine))
        plan = batches.plan_batch(session, BatchOptions(period, method, "Check", period.end))
        ledgers = [partner_ledger(session, code, period) for code in codes]
    assert _csv(report) == _csv(plain)
    assert _csv(report).splitlines()[0] == ",".join(LEDGER_CSV_HEADER)
    assert json.dumps(ledger_json(report)) == json.dumps(ledger_json(plain))
    for row in ledger_json(report)["rows"]:
        assert list(row) == ["partner_code", "partner_name", "currency", "beginning_balance", "commissions",
                             "clawbacks", "payments", "ending_balance"]
    for ledger in ledgers:
        body = partner_ledger_json(ledger)
        assert list(body) == ["partner_code", "partner_name", "currency", "start", "end", "beginning_balance",
                              "entries", "ending_balance"]
        assert all(list(entry) == ["date", "kind", "reference", "description", "amount", "balance"]
                   for entry in body["entries"])
    rows = {row.partner_code: row for row in plain.rows}
    for line in plan.lines + plan.skipped:
        if line.partner_code in rows:
            assert line.amount == batches.amount_for(method, rows[line.partner_code]) and line.held == 0
    assert all(list(line) == ["partner_code", "amount", "currency"] for line in plan_json(plan)["lines"])
