"""Replies as terminal text, from the Jinja2 templates in templates/shell/.

Every field of a Reply shows: where it would go in Slack (approvers, a channel, the message it
rewrites), headline, figures, sections, the table, numbered buttons. Slack-only markup such as
code fences is dropped, since the terminal shows text as it is. Every value goes through `line`
(one line) or `lines` (a section's own lines kept): control characters in stored text show as
escapes (domain.text), so a name can neither draw a line of its own nor steer the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import jinja2

import templates
from commands.reply import Field, Form, Reply, Target
from commands.text_table import render
from domain.text import visible, visible_lines


def plain(text: str) -> str:
    return text.replace("```", "").strip("\n")


@cache
def environment() -> jinja2.Environment:
    return templates.environment("shell", {"plain": plain, "line": visible, "lines": visible_lines})


def render_text(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


def target_line(reply: Reply) -> str:
    """In Slack these replies land elsewhere; the terminal operator sees them all, marked."""
    if reply.target is Target.APPROVERS:
        return "→ approvers:"
    if reply.target is Target.CHANNEL:
        return f"→ {visible(reply.channel or 'channel')}:"
    if reply.target is Target.REPLACE:
        return "↻ the earlier message now reads:"
    return ""


def table_text(reply: Reply) -> str:
    if reply.table is None or not reply.table.rows:
        return ""
    table = reply.table
    right = table.right_aligned or (False,) * len(table.columns)
    return render(table.columns, table.rows, right)


def reply_text(reply: Reply, first_number: int) -> str:
    """The reply; its buttons are numbered from `first_number` on, so several replies number on."""
    buttons = list(enumerate(reply.buttons, start=first_number))
    return render_text("reply.j2", reply=reply, target=target_line(reply), table=table_text(reply), buttons=buttons)


def files_text(written: Sequence[tuple[str, str]]) -> str:
    return render_text("files.j2", written=written)


def form_intro(form: Form) -> str:
    return render_text("form.j2", form=form)


def question(field: Field) -> str:
    return render_text("question.j2", field=field)


def welcome_text(*, database: str, today: str, timezone: str, actor: str) -> str:
    return render_text("welcome.j2", database=database, today=today, timezone=timezone, actor=actor)


def shell_help_text(files_dir: str) -> str:
    return render_text("help.j2", files_dir=files_dir)
