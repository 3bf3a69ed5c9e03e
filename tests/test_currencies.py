"""Only ISO 4217 codes of money enter: partners, DEFAULT_CURRENCY, the demo, CLI options (SPEC §2, §6).

The table is ISO 4217 list one as the iso4217 package ships it; the codes refused as no money are
listed in domain/currencies.py with the reason for each.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import cli
from domain import demo
from domain.currencies import iso_table
from domain.dates import DateRange
from domain.ledger import ledger_report, partner_ledger
from domain.money import (
    _SYMBOLS,
    MoneyError,
    exponent,
    format_display,
    format_plain,
    normalize_currency,
    parse_amount,
    to_decimal,
)
from domain.settings import Settings
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))

NO_MONEY = {
    "XXX": "no currency", "XTS": "reserved for testing",
    "XAU": "precious metal", "XAG": "precious metal", "XPT": "precious metal", "XPD": "precious metal",
    "XBA": "bond-market unit", "XBB": "bond-market unit", "XBC": "bond-market unit", "XBD": "bond-market unit",
    "XDR": "special drawing right", "XSU": "Sucre", "XUA": "African Development Bank",
    "XAD": "Arab Monetary Fund", "UYW": "indexed unit of account",
}
ISO_FUND_CODES = ("BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI")


@pytest.mark.parametrize("code", ["QQQ", "ZZZ", "ABC"])
def test_a_code_iso_4217_does_not_list_is_refused(code):
    with pytest.raises(MoneyError, match=f"^'{code}' is not an ISO 4217 currency code$"):
        normalize_currency(code)


@pytest.mark.parametrize(("code", "reason"), NO_MONEY.items())
def test_an_iso_4217_code_of_no_money_is_refused_with_its_reason(code, reason):
    with pytest.raises(MoneyError, match=f"^'{code}' is not a currency of money \\(.*{reason}"):
        normalize_currency(code)


@pytest.mark.parametrize("code", ISO_FUND_CODES)
def test_an_iso_4217_fund_code_is_refused(code):
    """ISO 4217 marks these IsFund: indexation units and settlement variants, not a means of payment."""
    with pytest.raises(MoneyError, match=f"^'{code}' is not a currency of money \\(ISO 4217 fund code: "):
        normalize_currency(code)


def test_the_fund_codes_refused_are_the_ones_iso_4217_marks():
    assert sorted(code for code, entry in iso_table().items() if entry.fund) == sorted(ISO_FUND_CODES)


@pytest.mark.parametrize("code", ["xaf", "XOF", "XPF", "XCD", "XCG", "usd", "JPY", "KWD", "ZWG"])
def test_real_currencies_are_accepted_whatever_their_case(code):
    assert normalize_currency(f" {code} ") == code.upper()


@pytest.mark.parametrize(
    ("code", "decimals"),
    [("USD", 2), ("JPY", 0), ("ISK", 0), ("KRW", 0), ("UGX", 0), ("VND", 0), ("XOF", 0), ("KWD", 3),
     ("BHD", 3), ("TND", 3), ("CLF", 4), ("UYW", 4), ("MGA", 2), ("MRU", 2)],
)
def test_decimals_are_iso_4217_minor_units(code, decimals):
    assert exponent(code) == decimals


def test_a_stored_code_that_is_no_money_still_reads_with_two_decimals():
    """Partners stored before codes were checked keep working in every report."""
    assert (exponent("QQQ"), exponent("XAU")) == (2, 2)
    assert format_display(123_456, "QQQ") == "1,234.56 QQQ"
    assert parse_amount("12.34", "XAU") == 1_234


@pytest.mark.parametrize(("value", "message"), [
    ("zzz", "DEFAULT_CURRENCY: 'ZZZ' is not an ISO 4217 currency code"),
    ("XAU", "DEFAULT_CURRENCY: 'XAU' is not a currency of money (precious metal)"),
    ("dollars", "DEFAULT_CURRENCY: 'dollars' is not a currency code"),
])
def test_a_default_currency_that_is_not_money_is_refused_naming_the_setting(value, message):
    with pytest.raises(MoneyError, match=f"^{re.escape(message)}"):
        Settings.from_env({"DEFAULT_CURRENCY": value})


def test_default_currency_is_usd_when_unset_or_blank():
    assert Settings.from_env({}).default_currency == "USD"
    assert Settings.from_env({"DEFAULT_CURRENCY": " "}).default_currency == "USD"


def test_the_cli_refuses_to_start_with_a_default_currency_that_is_not_money(sqlite_db, monkeypatch, capsys):
    monkeypatch.setenv("DEFAULT_CURRENCY", "zzz")
    assert cli.main(["--database", sqlite_db.url, "ledger", "2015-06"]) == 2
    assert capsys.readouterr().err == "payouts: DEFAULT_CURRENCY: 'ZZZ' is not an ISO 4217 currency code\n"


def test_the_demo_pays_partners_only_in_currencies_of_money():
    for _name, currency, _country in demo._NAMES:
        assert normalize_currency(currency) == currency


def test_a_partner_stored_in_a_code_that_is_no_money_still_reports(db):
    with db.write() as s:
        odd = add_partner(s, "ODD", currency="QQQ")
        add_entry(s, odd, "commission", 1_250, "2015-06-10")
    with db.read() as s:
        report = ledger_report(s, JUNE)
        ledger = partner_ledger(s, "ODD", JUNE)
    assert [(row.currency, row.ending_balance) for row in report.rows] == [("QQQ", 1_250)]
    assert ledger.ending_balance == 1_250



@given(st.integers(min_value=-(10**19), max_value=10**19), st.sampled_from(["USD", "JPY", "KWD", "EUR", "CLF", "SEK"]))
def test_amounts_formatted_by_integer_arithmetic_read_as_their_exact_decimal_value(minor, currency):
    """format_plain and format_display work on whole minor units; each must show the exact decimal
    value (ISO 4217 decimals) that Decimal arithmetic gives, sign, grouping and symbol included."""
    value = to_decimal(minor, currency)
    places = exponent(currency)
    assert format_plain(minor, currency) == f"{value:.{places}f}"
    sign, body, symbol = "-" if minor < 0 else "", f"{abs(value):,.{places}f}", _SYMBOLS.get(currency)
    assert format_display(minor, currency) == (f"{sign}{body} {currency}" if symbol is None else f"{sign}{symbol}{body}")


@given(st.integers(min_value=-(10**19), max_value=10**19), st.sampled_from(["USD", "JPY", "KWD", "SEK"]))
def test_a_whole_decimal_amount_is_formatted_as_the_same_integer_is(minor, currency):
    """PostgreSQL sums a BIGINT column as NUMERIC: the plain report's figures arrive as whole Decimals."""
    from decimal import Decimal

    assert format_plain(Decimal(minor), currency) == format_plain(minor, currency)
    assert format_display(Decimal(minor), currency) == format_display(minor, currency)
