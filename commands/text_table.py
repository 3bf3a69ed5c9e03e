"""Aligned text tables for a terminal, measuring CJK characters as two columns wide."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Columns on a terminal; ASCII text (most cells of a 10,000-line table) is one column a character."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text
    )


def _fit(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def render(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], max_width: int = 40) -> str:
    """Columns sized to their content (capped at `max_width`); numbers right-aligned."""
    cells = [[_fit(cell, max_width) for cell in row] for row in rows]
    widths = [
        max([display_width(header[i])] + [display_width(row[i]) for row in cells]) for i in range(len(header))
    ]
    lines = ["  ".join(_pad(h, widths[i], right[i]) for i, h in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, widths[i], right[i]) for i, c in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)
