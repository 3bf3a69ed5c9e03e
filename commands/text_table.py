"""Aligned text tables for a terminal (and Slack's code blocks), measured in display columns.

A cell is one line of inert text: stored text may predate the import rules, so a newline or an
escape sequence in it is shown as its visible escape (domain.text) and never draws a row or acts
on the terminal. Widths come from `wcwidth`, the terminal's own rules: CJK and emoji take two
columns, combining marks, joiners and variation selectors none.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from wcwidth import iter_graphemes, wcswidth

from domain.text import visible


def display_width(text: str) -> int:
    """Columns on a terminal; printable ASCII (most cells of a 10,000-line table) is one column a character."""
    if text.isascii() and text.isprintable():
        return len(text)
    return max(wcswidth(text), 0)


def _fit(text: str, width: int) -> str:
    """The text cut to `width` columns with an ellipsis, between whole characters as a reader sees
    them (a letter with its accents, an emoji sequence), so nothing is cut in half."""
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for grapheme in iter_graphemes(text):
        w = display_width(grapheme)
        if used + w > width - 1:
            break
        out, used = out + grapheme, used + w
    return out + "…"


def _shown(text: str, max_width: int) -> str:
    """The cell as shown; a plain ASCII cell that fits (nearly every cell of a 100,000-line batch)
    is shown as it is without being examined further."""
    if text.isascii() and text.isprintable() and len(text) <= max_width:
        return text
    return _fit(visible(text), max_width)


def _row_text(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    gaps = [" " * (widths[i] - display_width(c)) for i, c in enumerate(cells)]
    return "  ".join(gap + c if right[i] else c + gap for i, (c, gap) in enumerate(zip(cells, gaps, strict=True))).rstrip()


def render(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], max_width: int = 40) -> str:
    """Columns sized to their content (capped at `max_width`); numbers right-aligned."""
    out = io.StringIO()
    write_table(out, header, lambda: rows, right, max_width)
    return out.getvalue()


def write_table(out: TextIO, header: Sequence[str], rows: Callable[[], Iterable[Sequence[str]]],
                right: Sequence[bool], max_width: int = 40) -> None:
    """`render`'s text written line by line, no newline after the last: one pass over `rows()`
    sizes the columns and a second writes them, so a 100,000-row table is never held."""
    titles = [visible(h) for h in header]
    widths = [display_width(title) for title in titles]
    for row in rows():
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(_shown(cell, max_width)))
    out.write(_row_text(titles, widths, right) + "\n" + "  ".join("-" * w for w in widths))
    for row in rows():
        out.write("\n" + _row_text([_shown(cell, max_width) for cell in row], widths, right))
