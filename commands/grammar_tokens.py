"""The pieces every chat command is made of: words, `key=value` options, a RANGE, and the usage error.

A chat user types free text; the grammar turns it into typed commands or refuses it with one
error type, `UsageError`, that always carries a short message and an example of the right form.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import date

from commands.reply import shorten_echoes
from domain.dates import DateRange, parse_range

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class UsageError(ValueError):
    """Malformed command text: what is wrong, and an example of what works."""

    def __init__(self, message: str, example: str) -> None:
        message = shorten_echoes(message)
        super().__init__(message)
        self.message = message
        self.example = example


def unescaped(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed by the user as entities (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return (text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def words(text: str, example: str) -> list[str]:
    """Split like a shell, so `type="Bank transfer"` stays one word; chat apps send curly quotes."""
    try:
        return shlex.split(unescaped(text).translate(_SMART_QUOTES))
    except ValueError:
        raise UsageError("a quote is not closed", example) from None


def resolve_range(word: str, today: date, example: str) -> DateRange:
    try:
        return parse_range(word, today)
    except (ValueError, OverflowError) as exc:
        raise UsageError(str(exc) or f"'{word}' is not a date range", example) from None


def split_options(
    tokens: Sequence[str], known: Sequence[str], example: str
) -> tuple[list[str], dict[str, str]]:
    """Plain words, and `key=value` options by key; unknown, repeated or empty options are refused."""
    plain: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        if "=" not in token:
            plain.append(token)
            continue
        key, _, value = token.partition("=")
        key = key.strip().lower()
        if key not in known:
            raise UsageError(f"unknown option '{key}=' (options: {', '.join(k + '=' for k in known)})", example)
        if key in options:
            raise UsageError(f"option '{key}=' is given twice", example)
        if not value.strip():
            raise UsageError(f"option '{key}=' needs a value", example)
        options[key] = value.strip()
    return plain, options
