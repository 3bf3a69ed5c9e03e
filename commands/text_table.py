"""Aligned text tables for a terminal (and Slack's code blocks), measured in display columns.

A cell is one line of inert text: stored text may predate the import rules, so a newline or an
escape sequence in it is shown as its visible escape (domain.text) and never draws a row or acts
on the terminal. Widths come from `wcwidth`, the terminal's own rules: CJK and emoji take two
columns, combining marks, joiners and variation selectors none.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def render(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], max_width: int = 40) -> str:
    """Columns sized to their content (capped at `max_width`); numbers right-aligned."""
    header = [visible(h) for h in header]
    cells = [[_fit(visible(cell), max_width) for cell in row] for row in rows]
    widths = [
        max([display_width(header[i])] + [display_width(row[i]) for row in cells]) for i in range(len(header))
    ]
    lines = ["  ".join(_pad(h, widths[i], right[i]) for i, h in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, widths[i], right[i]) for i, c in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)
