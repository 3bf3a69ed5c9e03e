"""Aligned text tables for a terminal (and Slack's code blocks), measured in display columns.

A cell is one line of inert text: stored text may predate the import rules, so a newline or an
escape sequence in it is shown as its visible escape (domain.text) and never draws a row or acts
on the terminal. Widths come from `wcwidth`, the terminal's own rules: CJK and emoji take two
columns, combining marks, joiners and variation selectors none.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import TextIO

from wcwidth import iter_graphemes, wcswidth

from domain.money import symbol_characters
from domain.text import visible

# The currency signs of displayed amounts outside ASCII that are one column wide: a cell holding them
# among printable ASCII is measured by its length too (a tenth of a large preview is in € or ¥).
_ONE_COLUMN_SIGNS = "".join(sign for sign in symbol_characters() if wcswidth(sign) == 1)


def _one_column_each(text: str) -> bool:
    """Whether every character is printable and one column wide: printable ASCII or a currency sign.

    The signs are replaced one by one (a C search each) rather than through a translation table, which
    looks up every character: a preview's column of 100,000 amounts is a megabyte of text.
    """
    if not text.isascii():
        for sign in _ONE_COLUMN_SIGNS:
            text = text.replace(sign, "$")
    return text.isascii() and text.isprintable()


def display_width(text: str) -> int:
    """Columns on a terminal; printable ASCII (most cells of a 10,000-line table) is one column a character."""
    if _one_column_each(text):
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
    if len(text) <= max_width and _one_column_each(text):
        return text
    return _fit(visible(text), max_width)


def _row_text(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    gaps = [" " * (widths[i] - display_width(c)) for i, c in enumerate(cells)]
    return "  ".join(gap + c if right[i] else c + gap for i, (c, gap) in enumerate(zip(cells, gaps, strict=True))).rstrip()


def _plain_row(row: Sequence[str], max_width: int) -> bool:
    """Whether every cell fits and is one column a character: shown as it is. Asked of the whole row at
    once, since a 100,000-line batch has half a million such cells."""
    return _one_column_each("".join(row)) and (not row or max(map(len, row)) <= max_width)


def _plain_columns(columns: Sequence[Sequence[str]], max_width: int) -> list[int] | None:
    """Each column's widest cell, when every cell of every row is plain and fits; else None.

    Asked a column at a time (one join each), since a preview of 100,000 lines is nearly always all
    plain, and asking row by row cost a quarter of a second there.
    """
    widths = []
    for column in columns:
        widest = max(map(len, column))
        if widest > max_width or not _one_column_each("".join(column)):
            return None
        widths.append(widest)
    return widths


def render(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], max_width: int = 40) -> str:
    """Columns sized to their content (capped at `max_width`); numbers right-aligned.

    Rows of plain cells are measured by their lengths and laid out by one format string; the others
    cell by cell, in display columns.
    """
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return render_columns(header, columns, right, max_width)


def render_columns(header: Sequence[str], columns: Sequence[Sequence[str]], right: Sequence[bool],
                   max_width: int = 40) -> str:
    """`render` for cells given a column at a time.

    A caller with 100,000 lines builds each column in one pass over them, and a table of plain cells
    is laid out by its format string mapped over the columns, with no Python code run per row.
    """
    if len({len(column) for column in columns}) > 1:
        raise ValueError("every column of a table has as many cells as the others")
    titles = [visible(h) for h in header]
    widths = [display_width(title) for title in titles]
    plain_widths = _plain_columns(columns, max_width) if columns and columns[0] else None
    body: Iterable[str]
    if plain_widths is not None:
        widths = list(map(max, widths, plain_widths))
        body = map(str.rstrip, map(_template(widths, right).format, *columns))
    else:
        cells, widths = _measured_rows(list(zip(*columns, strict=True)), widths, max_width)
        template = _template(widths, right)
        body = (template.format(*row).rstrip() if plain else _row_text(row, widths, right) for row, plain in cells)
    head = [_row_text(titles, widths, right), "  ".join("-" * w for w in widths)]
    return "\n".join(chain(head, body))


def _template(widths: Sequence[int], right: Sequence[bool]) -> str:
    return "  ".join(f"{{:{'>' if right[i] else '<'}{width}}}" for i, width in enumerate(widths))


def _measured_rows(rows: Sequence[Sequence[str]], widths: list[int], max_width: int
                   ) -> tuple[list[tuple[Sequence[str], bool]], list[int]]:
    """Each row as shown, marked plain or not, and the widths grown to hold them: rows of plain cells
    by their lengths, a column at a time; the others cell by cell, in display columns."""
    cells: list[tuple[Sequence[str], bool]] = []
    plain_rows: list[Sequence[str]] = []
    for row in rows:
        if _plain_row(row, max_width):
            cells.append((row, True))
            plain_rows.append(row)
        else:
            shown = [_shown(cell, max_width) for cell in row]
            cells.append((shown, False))
            widths = list(map(max, widths, map(display_width, shown)))
    if plain_rows:
        widths = [max(width, max(map(len, column))) for width, column in zip(widths, zip(*plain_rows, strict=True), strict=True)]
    return cells, widths


class SpooledTable:
    """A table read in one pass: each row's cells, as shown, are set aside in a temporary file while
    the columns are sized, then written padded. No row is held in memory, and rows that come from a
    database query are read once. Shown cells hold no control character (`_shown` escapes them), so
    a NUL separates cells and a newline ends a row in the spool."""

    def __init__(self, header: Sequence[str], right: Sequence[bool], max_width: int = 40) -> None:
        self.header = header
        self.right = right
        self.max_width = max_width
        self.widths = [display_width(visible(title)) for title in header]
        self.rows = 0
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed by close())

    def add(self, row: Sequence[str]) -> None:
        cells = [_shown(cell, self.max_width) for cell in row]
        for i, cell in enumerate(cells):
            self.widths[i] = max(self.widths[i], display_width(cell))
        self._spool.write("\0".join(cells) + "\n")
        self.rows += 1

    def write(self, out: TextIO, more: Sequence[Sequence[str]] = ()) -> None:
        """The table as `render` lays it out, the rows added and then `more`, no newline after the last."""
        for row in more:
            self.add(row)
        self._spool.seek(0)
        shown = (line[:-1].split("\0") for line in self._spool)
        out.write(_row_text([visible(title) for title in self.header], self.widths, self.right) + "\n"
                  + "  ".join("-" * w for w in self.widths))
        for cells in shown:
            out.write("\n" + _row_text(cells, self.widths, self.right))

    def close(self) -> None:
        self._spool.close()
