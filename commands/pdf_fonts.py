"""Fonts for printed ledgers: any partner name prints as real glyphs, in reading order.

reportlab draws a string in one font and knows nothing of scripts, so a name is split into runs,
each run in the first font of the family that has all its characters (Noto Sans for Latin, Greek
and Cyrillic, Noto Sans Arabic, Noto Sans Hebrew, Droid Sans Fallback for Chinese, Japanese and
Korean). The fonts ship as package data (commands/fonts/, with their licences) so that a plain
`pip install` prints the same on every machine, and the fallbacks are read only when a name needs
them: a report of Latin names never loads the 3 MB CJK font.

Right-to-left text is shaped and ordered before it is split: `arabic_reshaper` turns Arabic
letters into the contextual presentation forms (initial, medial, final, lam-alef) that the Arabic
font maps, and `python-bidi` (the Unicode bidirectional algorithm) puts the whole line in visual
order, so every run is then drawn left to right. (`bidi.algorithm` is python-bidi's pure-Python
implementation, which also mirrors brackets, rule L4: "(P2)" in an Arabic line reads correctly;
its Rust-backed `get_display` leaves them unmirrored.) reportlab's own right-to-left path needs its
`rlbidi` package, which is not published on PyPI; these two are, and are kept up to date.
"""

from __future__ import annotations

import io
import re
import unicodedata
from functools import cache
from importlib import resources
from numbers import Real

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from domain.text import visible

ELLIPSIS = "…"
Points = Real  # lengths and positions on the page in PostScript points (1/72 in), as reportlab takes them
Colour = tuple[Real, Real, Real]  # red, green, blue from 0 to 1
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

# Registered font name -> file in commands/fonts/, in the order a character looks for its glyph.
REGULAR: tuple[tuple[str, str], ...] = (
    ("Payouts-Sans", "NotoSans-Regular.ttf"),
    ("Payouts-Arabic", "NotoSansArabic-Regular.ttf"),
    ("Payouts-Hebrew", "NotoSansHebrew-Regular.ttf"),
    ("Payouts-CJK", "DroidSansFallback.ttf"),
)
BOLD: tuple[tuple[str, str], ...] = (
    ("Payouts-Sans-Bold", "NotoSans-Bold.ttf"),
    ("Payouts-Arabic-Bold", "NotoSansArabic-Bold.ttf"),
    ("Payouts-Hebrew-Bold", "NotoSansHebrew-Bold.ttf"),
    ("Payouts-CJK", "DroidSansFallback.ttf"),
)


class FontMissing(RuntimeError):
    """A font file the package should have shipped is not there (a broken install)."""


@cache
def _shaper() -> arabic_reshaper.ArabicReshaper:
    return arabic_reshaper.ArabicReshaper()


@cache
def load_font(name: str, file_name: str) -> frozenset[int]:
    """Register a shipped font with reportlab once per process; return the characters it has."""
    source = resources.files("commands").joinpath("fonts", file_name)
    try:
        data = source.read_bytes()
    except FileNotFoundError as exc:
        raise FontMissing(f"the font {file_name} is missing from the installed package (commands/fonts/)") from exc
    font = TTFont(name, io.BytesIO(data))
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def visual_order(text: str) -> str:
    """The characters in the order they are drawn left to right, Arabic in its joined forms."""
    if not _RIGHT_TO_LEFT.search(text):
        return text
    return get_display(_shaper().reshape(text))


def _is_neutral(char: str) -> bool:
    """Spaces, digits and punctuation: they stay in the run they are in if its font has them."""
    return not unicodedata.category(char).startswith(("L", "M"))


class FontFamily:
    """A primary font and its fallbacks; `runs` picks, per character, the first font that has it."""

    def __init__(self, fonts: tuple[tuple[str, str], ...]) -> None:
        self.fonts = fonts
        self.primary = fonts[0][0]
        self._files = dict(fonts)

    def _font_for(self, char: str) -> str:
        code = ord(char)
        for name, file_name in self.fonts:
            if code in load_font(name, file_name):
                return name
        return self.primary

    def register(self) -> str:
        """Make the primary font known to reportlab (fallbacks register when first needed)."""
        load_font(*self.fonts[0])
        return self.primary

    def runs(self, text: str) -> list[tuple[str, str]]:
        """(font name, characters) pairs in drawing order, left to right. Control characters print as
        their escapes (domain.text): a font has no glyph for them, and a bidi override would reorder
        what is read ("\u202e00.1$" as "$1.00")."""
        self.register()
        text = visible(text)
        if text.isascii():
            return [(self.primary, text)] if text else []
        runs: list[tuple[str, str]] = []
        current, chars = "", []
        for char in visual_order(text):
            if current and _is_neutral(char) and ord(char) in load_font(current, self._files[current]):
                chars.append(char)
                continue
            font = self._font_for(char)
            if font != current and chars:
                runs.append((current, "".join(chars)))
                chars = []
            current = font
            chars.append(char)
        if chars:
            runs.append((current, "".join(chars)))
        return runs

    @cache  # noqa: B019 - two families live as long as the process
    def _widest_ascii(self) -> Points:
        """The widest printable ASCII character of the primary font, in ems."""
        self.register()
        return max(pdfmetrics.stringWidth(chr(code), self.primary, 1) for code in range(32, 127))

    def width(self, text: str, size: Points) -> Points:
        return self.width_of_runs(self.runs(text), size)

    def fit(self, text: str, size: Points, max_width: Points) -> str:
        """The text, cut short with an ellipsis if it would overflow its column."""
        if text.isascii() and text.isprintable() and len(text) * size * self._widest_ascii() <= max_width:
            return text  # short enough to fit even if every character were the widest one
        if self.width(text, size) <= max_width:
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.width(text[:middle].rstrip() + ELLIPSIS, size) <= max_width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + ELLIPSIS

    def width_of_runs(self, runs: list[tuple[str, str]], size: Points) -> Points:
        return sum(pdfmetrics.stringWidth(chars, font, size) for font, chars in runs)


class PageText:
    """All the text of one page as a single PDF text object, drawn over the page's rules and boxes.

    A font or colour is written only when it changes: a page of ledger rows sets them a few times
    rather than once per cell, which is most of the cost of printing a thousand pages.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.text = canvas.beginText()
        self.font: tuple[str, Points] | None = None
        self.colour: Colour | None = None

    def write(self, fonts: FontFamily, x: Points, y: Points, text: str, size: Points, *, align: str = "left",
              colour: Colour = (0, 0, 0)) -> None:
        """Write text whose left edge (or right edge, or centre, by `align`) is at x."""
        runs = fonts.runs(text)
        if not runs:
            return
        if align != "left":
            width = fonts.width_of_runs(runs, size)
            x -= width if align == "right" else width / 2
        if colour != self.colour:
            self.text.setFillColorRGB(*colour)
            self.colour = colour
        self.text.setTextOrigin(x, y)
        for font, chars in runs:
            if (font, size) != self.font:
                self.text.setFont(font, size)
                self.font = (font, size)
            self.text.textOut(chars)

    def finish(self) -> None:
        self.canvas.drawText(self.text)


def family(bold: bool = False) -> FontFamily:
    return _BOLD_FAMILY if bold else _REGULAR_FAMILY


_REGULAR_FAMILY = FontFamily(REGULAR)
_BOLD_FAMILY = FontFamily(BOLD)
