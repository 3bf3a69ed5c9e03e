"""ISO 4217: which codes are money a partner can be paid in, and how many decimals each has.

The table is ISO 4217's list one (current codes, with their minor units and fund flags) as the
`iso4217` package ships it: the maintenance agency's own XML file, republished with each amendment.
Only that file is read, with expat, on first use: importing the package itself would parse it
into an enum and cost a report's start-up several times as much.

Listed by ISO but refused here, as nothing a referral partner can be paid in:
- every code ISO gives no minor units ("N.A."): XXX (no currency), XTS (testing), the precious
  metals XAU XAG XPT XPD, the bond-market units XBA XBB XBC XBD, XDR (SDR), XSU (Sucre), XUA (ADB);
- every code ISO marks as a fund (BOV CHE CHW CLF COU MXV USN UYI): indexation units, next-day
  dollars and WIR clearing units that settle through the national currency, never as a payment;
- UYW and XAD, units of account that ISO lists with minor units but marks as no fund.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

NOT_MONEY_REASONS: dict[str, str] = {
    "XXX": "no currency", "XTS": "reserved for testing",
    "XAU": "precious metal", "XAG": "precious metal", "XPT": "precious metal", "XPD": "precious metal",
    "XBA": "bond-market unit", "XBB": "bond-market unit", "XBC": "bond-market unit", "XBD": "bond-market unit",
    "XDR": "IMF special drawing right", "XSU": "Sucre, a regional clearing unit",
    "XUA": "African Development Bank unit of account", "XAD": "Arab Monetary Fund unit of account",
    "UYW": "Uruguayan indexed unit of account",
}
UNITS_OF_ACCOUNT = frozenset({"UYW", "XAD"})


class IsoCurrency:
    """One code of ISO 4217 list one; `minor_units` is None where ISO says N.A.

    A plain class: dataclasses would more than double the import time of domain.money.
    """

    __slots__ = ("code", "fund", "minor_units", "name")

    def __init__(self, code: str, name: str, minor_units: int | None, fund: bool) -> None:
        self.code, self.name, self.minor_units, self.fund = code, name, minor_units, fund


class _ListOneReader:
    """Collects one IsoCurrency per code from the XML's CcyNtry elements (one per country using it)."""

    def __init__(self) -> None:
        self.table: dict[str, IsoCurrency] = {}
        self._entry: dict[str, str] = {}
        self._fund = False
        self._text: list[str] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self._text = []
        if tag == "CcyNtry":
            self._entry, self._fund = {}, False
        elif tag == "CcyNm":
            self._fund = attributes.get("IsFund", "").lower() == "true"

    def data(self, text: str) -> None:
        self._text.append(text)

    def end(self, tag: str) -> None:
        if tag == "CcyNtry":
            self._add()
        else:
            self._entry[tag] = "".join(self._text).strip()

    def _add(self) -> None:
        code = self._entry.get("Ccy")
        if not code or code in self.table:
            return
        units = self._entry.get("CcyMnrUnts", "")
        self.table[code] = IsoCurrency(code, self._entry.get("CcyNm", ""), int(units) if units.isdigit() else None,
                                       self._fund)


def _list_one_path() -> Path:
    """The XML inside the installed package, found without running the package's own import."""
    spec = importlib.util.find_spec("iso4217")
    if spec is None or spec.origin is None:
        raise RuntimeError("the iso4217 package is not installed (pip install -e .)")
    return Path(spec.origin).with_name("table.xml")


@functools.cache
def iso_table() -> dict[str, IsoCurrency]:
    """ISO 4217 list one by code, read once per process."""
    from xml.parsers import expat

    reader = _ListOneReader()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.CharacterDataHandler = reader.data
    parser.EndElementHandler = reader.end
    parser.Parse(_list_one_path().read_bytes(), True)
    return reader.table


@functools.cache
def minor_units() -> dict[str, int]:
    """Decimals per code, for every code ISO gives them (funds included, so stored amounts still read)."""
    return {code: entry.minor_units for code, entry in iso_table().items() if entry.minor_units is not None}


def not_money_reason(code: str) -> str | None:
    """Why an upper-case three-letter code is no currency of money, or None when it is one."""
    entry = iso_table().get(code)
    if entry is None:
        return f"'{code}' is not an ISO 4217 currency code"
    if entry.fund:
        return f"'{code}' is not a currency of money (ISO 4217 fund code: {entry.name})"
    if entry.minor_units is None or code in UNITS_OF_ACCOUNT:
        reason = NOT_MONEY_REASONS.get(code, f"ISO 4217 gives {entry.name} no minor units")
        return f"'{code}' is not a currency of money ({reason})"
    return None
