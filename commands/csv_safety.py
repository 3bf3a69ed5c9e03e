"""CSV that a spreadsheet opens as data, never as formulas (SPEC §7)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_MARKS = (",", '"', "\r", "\n")  # what makes `csv.writer` (QUOTE_MINIMAL, this module's dialect) quote a field
_QUOTED = re.compile(f"[{''.join(_QUOTED_MARKS)}]")


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


def csv_field(text: str) -> str:
    """The text as `writer` writes it as one field: quoted, its quotes doubled, where it holds a comma,
    a quote or a line break."""
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def csv_text_column(values: Sequence[str | None], *, formulas: bool = True) -> Sequence[str]:
    """A column of a block of rows as `writer` writes it, each value `safe_text` first unless
    `formulas` is False.

    The whole column is searched at once, a character at a time (a regular expression over the
    joined text took ten times as long); only a column with a cell to change is gone through cell
    by cell, since a report of a large program has 100,000 rows.
    """
    texts = [value or "" for value in values] if None in values else values
    joined = "\0" + "\0".join(texts)
    if any(mark in joined for mark in _QUOTED_MARKS) or (formulas and any(
            start in joined and "\0" + start in joined for start in _FORMULA_STARTS)):
        return [csv_field(safe_text(text) if formulas else text) for text in texts]
    return texts
