"""Characters that change how text is shown instead of being shown: what stored text may not hold.

A newline in a partner's name draws a second, made-up row under it in every table; an escape
(ESC) sequence retitles or clears the terminal that prints it; a bidi override (U+202E) makes
"00.1$" read as "$1.00". Imports refuse them (`first_control`), and every place that shows text
written before that rule, or by another system, shows them as visible escapes (`visible`).
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CATEGORIES = ("Cc", "Zl", "Zp")  # C0 and C1 controls (newline, tab, ESC, DEL…), line and paragraph separators
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x1b": "an escape (ESC)"}


def is_control(char: str) -> bool:
    """Whether the character steers the display: controls, line and paragraph separators, bidi overrides."""
    return unicodedata.category(char) in _CATEGORIES or char in BIDI_CONTROLS


def first_control(text: str) -> str | None:
    """The first such character in the text, or None; most text is printable and answers at once."""
    if text.isprintable():
        return None
    return next((char for char in text if is_control(char)), None)


def describe(char: str) -> str:
    """A control character as a person reads it in a message: 'a newline (U+000A)'."""
    name = _NAMES.get(char) or unicodedata.name(char, "a control character").lower()
    return f"{name} (U+{ord(char):04X})"


def escape(char: str) -> str:
    """`\\n`, `\\x1b`, `\\u202e`: the character as a code a reader sees, never as what it does."""
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str) -> str:
    """The text on one line, every control character replaced by its visible escape."""
    if text.isprintable():
        return text
    return "".join(escape(char) if is_control(char) else char for char in text)


def visible_lines(text: str) -> str:
    """Like `visible`, but the text's own line breaks stay: for messages built line by line."""
    return "\n".join(visible(line) for line in text.split("\n"))
