"""CSV that a spreadsheet opens as data, never as formulas (SPEC §7)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    """Prefix text that a spreadsheet would run as a formula with a quote; leave other text alone."""
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def writer(handle: TextIO) -> csv.writer:  # type: ignore[valid-type]
    return csv.writer(handle, lineterminator="\r\n")


def write_rows(handle: TextIO, header: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    out = writer(handle)
    out.writerow(list(header))
    out.writerows(rows)
