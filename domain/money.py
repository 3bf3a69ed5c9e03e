"""Money as integer minor units of a currency; decimals only at the edges.

Amounts are stored and summed as Python ints (minor units: cents for USD, yen for JPY, fils for
KWD). Text becomes an int only through `parse_amount`, which refuses anything the currency cannot
represent exactly, and an int becomes text only through the formatters below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import call

from domain.currencies import minor_units, not_money_reason

_SYMBOLS: dict[str, str] = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$",
    "CAD": "CA$", "AUD": "A$", "MXN": "MX$", "CHF": "CHF ", "KWD": "KWD ", "CNY": "CN¥",
}


def symbol_characters() -> str:
    """Every character the display form of an amount may hold outside ASCII (€, ¥, …)."""
    return "".join(sorted({char for symbol in _SYMBOLS.values() for char in symbol if not char.isascii()}))


_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# [0-9], never \d: \d and Decimal() take any Unicode digit (١٢٣, １.５, 𝟗) as a number.
_PLAIN_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Commas only between groups of three digits: '1,50' is a decimal comma, not 150.
_GROUPED_NUMBER = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
# Digits, at most one point, nothing around them: what nearly every file and request holds.
_SIMPLE_AMOUNT = re.compile(r"([0-9]{1,16})(?:\.([0-9]*))?")


# The largest amount one entry may hold, in minor units: 10,000,000,000,000.00 USD. Far beyond any
# commission, it keeps every balance and sum well inside the 64-bit integers the database stores.
MAX_MINOR_UNITS = 10**15


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def normalize_currency(code: str) -> str:
    """Upper-case a currency code where one enters, refusing all but ISO 4217 codes of money."""
    value = (code or "").strip().upper()
    if not _CURRENCY_CODE.match(value):
        raise MoneyError(f"'{code}' is not a currency code (three letters, like USD)")
    reason = not_money_reason(value)
    if reason is not None:
        raise MoneyError(reason)
    return value


@lru_cache(maxsize=256)
def exponent(currency: str) -> int:
    """How many decimals the currency has (ISO 4217).

    A code ISO gives no decimals, or does not list, reads with 2: a partner stored before codes
    were checked keeps working in reports.
    """
    return minor_units().get(currency.upper(), 2)


def parse_decimal(text: str) -> Decimal:
    """The one grammar of every amount a person types or imports: '1234.50', '1,234.50', '.5', '-5'.

    ASCII digits only, with no '+', '_' or exponent, so that what is read is what a reader of the
    file or message sees; whether a sign or the decimals fit is the caller's rule.
    """
    raw = (text or "").strip()
    if not raw:
        raise MoneyError("amount is empty")
    if not (_PLAIN_NUMBER.fullmatch(raw) or _GROUPED_NUMBER.fullmatch(raw)):
        raise MoneyError(f"'{text}' is not a number (digits 0-9, like 1234.50 or 1,234.50)")
    return Decimal(raw.replace(",", ""))


def _plain_minor_units(text: str, places: int) -> int | None:
    """The common amount ('120', '120.5', '120.50') in minor units by integer arithmetic, or None for
    anything else, which the full grammar then reads: imports parse millions of amounts."""
    match = _SIMPLE_AMOUNT.fullmatch(text)
    if match is None:
        return None
    whole, fraction = match.groups()
    if fraction is None:
        fraction = ""
    if len(fraction) > places:
        return None
    minor = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
    return minor if minor <= MAX_MINOR_UNITS else None


def parse_amount(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """Turn '1,234.50' into minor units, refusing over-precise, non-numeric or negative input."""
    places = exponent(currency)
    if (minor := _plain_minor_units(text, places)) is not None:
        return minor
    value = parse_decimal(text)
    if value < 0 and not allow_negative:
        raise MoneyError(f"'{text}' is negative; amounts are positive")
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"'{text}' has more decimals than {currency} allows ({places})")
    if abs(scaled) > MAX_MINOR_UNITS:
        raise MoneyError(f"'{text}' is too large (at most {format_plain(MAX_MINOR_UNITS, currency)} {currency})")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    """The exact decimal value of an amount, for formatting and external files."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_plain(minor: int, currency: str) -> str:
    """'1234.50', '-12.50', '1500' (JPY): the machine form used in CSV and JSON."""
    return plain_formatter(currency)(minor)


@lru_cache(maxsize=256)
def plain_formatter(currency: str) -> Callable[[int], str]:
    """`format_plain` for one currency, its decimals looked up once: a report of a large program
    formats half a million amounts, most of them in one or two currencies.

    Integer arithmetic only. The fraction's digits come from a table made once per currency: a
    format call per amount took more than half of the time.
    """
    places = exponent(currency)
    if places == 0:
        return str
    scale, fractions = 10**places, _fraction_digits(places)

    def plain(minor: int) -> str:
        if type(minor) is not int:  # a whole Decimal, as PostgreSQL sums a BIGINT column
            minor = int(minor)
        if minor >= 0:
            return f"{minor // scale}.{fractions[minor % scale]}"
        minor = -minor
        return f"-{minor // scale}.{fractions[minor % scale]}"

    return plain


@lru_cache(maxsize=8)
def _fraction_digits(places: int) -> list[str]:
    """Every fraction of a currency with `places` decimals as written, zero-padded ('00' to '99' for two)."""
    return [f"{fraction:0{places}d}" for fraction in range(10**places)]


def format_column(formatter: Callable[[str], Callable[[int], str]], currencies: Sequence[str],
                  amounts: Iterable[int]) -> Iterator[str]:
    """Amounts formatted by `formatter` (`plain_formatter`, `display_formatter`), each in the currency
    beside it: one call of that currency's function per amount and nothing else in Python (reports
    and previews of a large program format hundreds of thousands, nearly always in one currency)."""
    kinds = set(currencies)
    if len(kinds) == 1:
        return map(formatter(next(iter(kinds))), amounts)
    return map(call, map({kind: formatter(kind) for kind in kinds}.__getitem__, currencies), amounts)


def format_display(minor: int, currency: str) -> str:
    """'$1,234.50', '-€12.50', '¥1,500', 'KWD 1,234.500', '1,234.50 SEK': the form people read."""
    return display_formatter(currency)(minor)


@lru_cache(maxsize=256)
def display_formatter(currency: str) -> Callable[[int], str]:
    """`format_display` for one currency, its decimals and symbol looked up once (a preview shows an
    amount on each of 100,000 lines)."""
    places = exponent(currency)
    symbol = _SYMBOLS.get(currency)
    prefix, suffix = (symbol, "") if symbol is not None else ("", f" {currency}")
    if places == 0:

        def whole_display(minor: int) -> str:
            return f"{'-' if minor < 0 else ''}{prefix}{abs(int(minor)):,}{suffix}"

        return whole_display
    scale, fractions = 10**places, _fraction_digits(places)

    def display(minor: int) -> str:
        if type(minor) is not int:  # a whole Decimal, as PostgreSQL sums a BIGINT column
            minor = int(minor)
        if minor >= 0:
            return f"{prefix}{minor // scale:,}.{fractions[minor % scale]}{suffix}"
        minor = -minor
        return f"-{prefix}{minor // scale:,}.{fractions[minor % scale]}{suffix}"

    return display
