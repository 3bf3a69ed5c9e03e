"""A block of report rows is planned line for line as `_plan_line` plans each row: the lines worked
out a column at a time are the same lines, whatever the method, the figures, a minimum, inactive
partners, holds or a currency that is not money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.batches import METHODS, BatchError, CurrencyTotal, _plan_line, _planned_block, currency_totals
from domain.holds import Held
from domain.ledger_data import LedgerRow

_FIGURE = st.integers(min_value=-(10**9), max_value=10**9)
_ROW = st.builds(
    LedgerRow, partner_id=st.integers(min_value=1, max_value=40), partner_code=st.just("P"),
    partner_name=st.just("Partner"), email=st.none(), currency=st.sampled_from(["USD", "EUR", "JPY", "XAU"]),
    beginning_balance=_FIGURE, commissions=_FIGURE, clawbacks=_FIGURE, payments=_FIGURE,
)
_HELD = st.builds(Held, amount=st.integers(0, 10**6), in_range=st.integers(0, 10**6), until=st.just(date(2015, 7, 30)))


@settings(max_examples=300)
@given(
    block=st.lists(_ROW, min_size=1, max_size=12, unique_by=lambda row: row.partner_id),
    method=st.sampled_from(METHODS),
    minimum=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2)),
    inactive=st.sets(st.integers(min_value=1, max_value=40), max_size=5),
    held=st.dictionaries(st.integers(min_value=1, max_value=40), _HELD, max_size=5),
)
def test_a_block_is_planned_as_each_row_of_it_would_be(block, method, minimum, inactive, held):
    expected = [_plan_line(row, method, minimum, row.partner_id in inactive, held.get(row.partner_id)) for row in block]
    assert _planned_block(block, method, minimum, inactive, held) == expected


def test_lines_that_pay_in_full_need_no_look_and_the_others_keep_their_reason():
    rows = [LedgerRow(1, "P1", "One", None, "USD", 500, 100, 0, 0), LedgerRow(2, "P2", "Two", None, "USD", 0, 0, 0, 0)]
    paid, skipped = _planned_block(rows, "ending-balance", None, set(), {})
    assert (paid.amount, paid.ending_balance, paid.skip_reason, paid.held, paid.failure) == (600, 600, None, 0, None)
    assert skipped.skip_reason == "nothing owed ($0.00)"


def test_an_unknown_method_is_refused_by_name():
    with pytest.raises(BatchError, match="unknown method 'everything'"):
        _planned_block([LedgerRow(1, "P1", "One", None, "USD", 5, 1, 0, 0)], "everything", Decimal(0), set(), {})


@given(st.lists(_ROW, max_size=30), st.sampled_from(METHODS))
def test_totals_are_each_currencys_amount_and_count_added_up_line_by_line(rows, method):
    lines = _planned_block(rows, method, None, set(), {}) if rows else []
    expected: dict[str, list[int]] = {}
    for line in lines:
        expected.setdefault(line.currency, [0, 0])
        expected[line.currency][0] += line.amount
        expected[line.currency][1] += 1
    assert currency_totals(iter(lines)) == [CurrencyTotal(currency, *expected[currency]) for currency in sorted(expected)]
