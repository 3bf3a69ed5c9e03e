"""What a command answers, in terms no transport owns.

A handler returns a list of `Reply`. Each says where it goes (`Target`), what it says (headline,
sections, key figures, a table), what the reader can do next (buttons, or a form to fill in) and
which files come with it. The shell prints it; the Slack app renders it as Block Kit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

ECHO_LIMIT = 40  # characters of a user's input an error message repeats
_ECHO = re.compile(rf"'([^'\n]{{{ECHO_LIMIT + 1},}})'|([^\s']{{{ECHO_LIMIT + 1},}})")


def shorten_echoes(message: str, limit: int = ECHO_LIMIT) -> str:
    """Cut every quoted value and every long word to `limit` characters and `…`: an error repeats
    what was typed so the reader can find it, and a pasted megabyte is found by its start."""

    def cut(match: re.Match[str]) -> str:
        quoted, bare = match[1], match[2]
        return f"'{quoted[:limit]}…'" if quoted is not None else f"{bare[:limit]}…"

    return _ECHO.sub(cut, message)


class Target(Enum):
    ORIGIN = "origin"  # the person and place the command came from
    APPROVERS = "approvers"  # the approval channel, where approvers can act on it
    CHANNEL = "channel"  # a named channel (`Reply.channel`): a requester hearing back, a reminder
    REPLACE = "replace"  # the message whose button was pressed, rewritten in place
    ANNOUNCEMENT = "announcement"  # a posted message (`Reply.channel`, `Reply.message_ref`), rewritten in place


class Style(Enum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: str = ""
    style: Style = Style.DEFAULT
    confirm: str | None = None  # a question the reader must confirm before the action runs


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    default: str = ""
    choices: tuple[str, ...] = ()
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """Inputs the reader fills in; submitting sends `action` with the values by field name."""

    title: str
    action: str
    fields: tuple[Field, ...]
    submit_label: str = "Submit"
    context: str = ""  # carried back untouched with the submission


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    text: str
    title: str = ""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right_aligned: tuple[bool, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str
    title: str = ""


@dataclass
class Reply:
    headline: str
    sections: list[Section] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    table: Table | None = None
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None
    files: list[Attachment] = field(default_factory=list)
    target: Target = Target.ORIGIN
    channel: str | None = None
    message_ref: str | None = None  # the message an ANNOUNCEMENT reply rewrites (its Slack ts)
    private: bool = False  # only the person who asked sees it
    recipient: str | None = None  # the person a CHANNEL reply is for (a requester), reached directly if need be
    is_error: bool = False

    @classmethod
    def error(cls, message: str, example: str = "") -> Reply:
        sections = [Section(f"Example: {example}")] if example else []
        return cls(headline=shorten_echoes(message), sections=sections, private=True, is_error=True)


@dataclass(frozen=True)
class FormErrors(Exception):
    """A submitted form with bad values: messages by field name, shown beside the fields."""

    errors: dict[str, str]
