"""The one grammar of amounts (entries, minimums) and of dates and ranges: ASCII digits only.

Python's `\\d`, int() and Decimal() accept any Unicode digit (١٢٣, １.５, 𝟗), underscores between
digits and exponents, so each form is checked against an explicit ASCII pattern before it is read.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain import batches
from domain.batches import BatchError, BatchOptions, parse_minimum
from domain.dates import DateError, DateRange, parse_date, parse_range
from domain.models import Batch
from domain.money import MoneyError, parse_amount
from tests.factories import add_entry, add_partner

TODAY = date(2015, 7, 15)
NON_ASCII_DIGITS = ["١٢٣", "１.５", "𝟗", "1.٥"]


@pytest.mark.parametrize(("text", "minor"), [
    ("1234.50", 123_450), ("1,234.50", 123_450), ("1,000,000.00", 100_000_000), (".5", 50), ("5.", 500),
    (" 12 ", 1_200),
])
def test_the_amount_forms_of_the_grammar_are_read_exactly(text, minor):
    assert parse_amount(text, "USD") == minor


@pytest.mark.parametrize("text", NON_ASCII_DIGITS)
def test_an_amount_with_digits_other_than_0_to_9_is_refused_naming_it(text):
    with pytest.raises(MoneyError, match=re.escape(f"'{text}' is not a number")):
        parse_amount(text, "USD")


def test_an_amount_with_a_plus_sign_is_refused_naming_it():
    with pytest.raises(MoneyError, match=r"'\+1.00' is not a number"):
        parse_amount("+1.00", "USD")


@pytest.mark.parametrize("text", ["1_000", "1,000_000", "1_000.00"])
def test_an_amount_with_underscores_is_refused_naming_it(text):
    with pytest.raises(MoneyError, match=re.escape(f"'{text}' is not a number")):
        parse_amount(text, "USD")


def test_a_minimum_is_read_by_the_amount_grammar():
    assert parse_minimum("1,000.50") == Decimal("1000.50")


@pytest.mark.parametrize("text", ["1e3", "1E+3", "Infinity", "+5", "1_000", "１.５", "٢٥"])
def test_a_minimum_outside_the_amount_grammar_is_refused_naming_it(text):
    with pytest.raises(BatchError, match=re.escape(f"minimum '{text}' is not a number")):
        parse_minimum(text)


def test_a_tiny_minimum_is_kept_on_the_batch_in_plain_notation(db):
    """The batch keeps its minimum as text and reads it again when approved: 1E-7 is no amount."""
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 1_000, "2015-06-10")
    options = BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                           date(2015, 6, 30), minimum="0.0000001")
    with db.write() as s:
        batches.request_batch(s, options, actor="U_REQ", now=datetime(2015, 7, 1, tzinfo=UTC))
    with db.read() as s:
        assert s.scalar(select(Batch.minimum)) == "0.0000001"


@pytest.mark.parametrize("text", ["２０１５-06-01", "2015-06-0１", "٢٠١٥-٠٦-٠١"])
def test_a_date_with_digits_other_than_0_to_9_is_refused_as_not_a_date(text):
    with pytest.raises(DateError, match=re.escape(f"'{text}' is not a date (use YYYY-MM-DD")):
        parse_date(text)


@pytest.mark.parametrize("text", ["２０１５-06", "２０１５", "２０１５-Q2", "2015-06-0１"])
def test_a_range_with_digits_other_than_0_to_9_is_refused_naming_it(text):
    with pytest.raises(DateError, match=re.escape(f"'{text}'")):
        parse_range(text, TODAY)


def _amount_by_the_full_grammar(text: str, currency: str) -> int | str:
    """parse_amount's answer for any text, read only through parse_decimal (the one grammar)."""
    from domain.money import MAX_MINOR_UNITS, exponent, parse_decimal

    try:
        value = parse_decimal(text)
    except MoneyError:
        return "refused"
    scaled = value.scaleb(exponent(currency))
    if value < 0 or scaled != scaled.to_integral_value() or abs(scaled) > MAX_MINOR_UNITS:
        return "refused"
    return int(scaled)


@settings(max_examples=3000, deadline=None)
@given(text=st.text(alphabet="0123456789.,- ١", max_size=22), currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_the_quick_reading_of_plain_amounts_agrees_with_the_full_grammar(text: str, currency: str) -> None:
    try:
        got: int | str = parse_amount(text, currency)
    except MoneyError:
        got = "refused"
    assert got == _amount_by_the_full_grammar(text, currency)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("120", "USD", 12000), ("120.5", "USD", 12050), ("120.50", "USD", 12050), ("12.", "USD", 1200),
    ("007", "USD", 700), ("1500", "JPY", 1500), ("1.250", "KWD", 1250), ("10000000000000.00", "USD", 10**15),
    ("1.0000000000", "USD", 100),
])
def test_plain_amounts_read_as_their_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["10000000000000.01", "99999999999999999", "1.005"])
def test_plain_amounts_past_the_limit_or_the_decimals_are_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text, "USD")
