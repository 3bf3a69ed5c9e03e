"""A reminder as the clock prints it when it has no Slack token: plain text, a line per fact.

Its button becomes the command that does the same, since a terminal has nothing to click.
"""

from __future__ import annotations

from commands.chat_payout_views import START
from commands.reply import Reply
from domain.text import visible, visible_lines


def reminder_text(reply: Reply) -> str:
    lines = [f"→ {visible(reply.channel or 'channel')}:", visible(reply.headline)]
    lines += [f"  {visible(figure.label)}: {visible(figure.value)}" for figure in reply.figures]
    lines += [f"  {line}" for section in reply.sections for line in visible_lines(section.text).splitlines()]
    lines += [f"{visible(button.label)} → /payout {visible(button.value)}" for button in reply.buttons
              if button.action == START]
    return "\n".join(lines)
