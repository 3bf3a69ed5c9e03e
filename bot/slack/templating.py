"""The Jinja2 environment for Block Kit templates (templates/slack/*.j2), and text made inert for Slack.

Templates write JSON and every value goes in through `tojson`. Text reaches a template already
made inert for where it sits (then clipped to Slack's limits): `escape_mrkdwn` for mrkdwn,
`escape_code` inside a ``` block, `plain_line` for plain_text. So a partner called
"Ann <!channel> *CFO approved*" mentions nobody and bolds nothing, and a name holding ``` never
closes the code block that shows it as a table row.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jinja2

import templates
from domain.text import visible, visible_lines

BACKTICK_STAND_IN = "\u02cb"  # ˋ modifier letter grave accent: reads as a backtick, never opens code
# mrkdwn's emphasis marks, each with a look-alike that Slack leaves alone
_STAND_INS = {"*": "\u2217", "_": "\u02cd", "~": "\u223c"}  # ∗ asterisk operator, ˍ low macron, ∼ tilde operator
_EMPHASIS = re.compile(r"[*_~]")


def _entities(text: str) -> str:
    """Slack's three escapes; `&` first so the other escapes are not escaped again. They also make
    `<!channel>`, `<@U123>` and `<https://x|y>` plain text, never a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _between_letters(match: re.Match[str]) -> bool:
    text, start = match.string, match.start()
    return 0 < start < len(text) - 1 and text[start - 1].isalnum() and text[start + 1].isalnum()


def _quiet_emphasis(text: str) -> str:
    """An emphasis mark opens or closes only beside a space or punctuation, so one between two letters
    or digits (ACME_CO, 2*3) stays as typed, and any other is swapped for its look-alike."""
    return _EMPHASIS.sub(lambda m: m.group() if _between_letters(m) else _STAND_INS[m.group()], text)


def escape_mrkdwn(text: str) -> str:
    """Text shown as it is inside mrkdwn: no markup, mention, link, code span or control character.
    Its own line breaks stay; a message made of lines keeps them."""
    return _quiet_emphasis(_entities(visible_lines(text)).replace("`", BACKTICK_STAND_IN))


def mrkdwn_line(text: str) -> str:
    """`escape_mrkdwn` for a value that is one line (a name, a figure): a newline shows as `\\n`."""
    return escape_mrkdwn(visible(text))


def escape_code(text: str) -> str:
    """Text inside a ``` block, where mrkdwn does not apply but a run of backticks would end the block
    (and Slack still reads the three escapes)."""
    return _entities(visible_lines(text)).replace("`", BACKTICK_STAND_IN)


def plain_line(text: str) -> str:
    """A plain_text value (header, button label): Slack shows it as typed, so only controls are replaced."""
    return visible(text)


def channel_link(channel_id: str) -> str:
    """A channel mention; only for IDs the app was configured with, never for user input."""
    return f"<#{escape_mrkdwn(channel_id)}>"


@cache
def environment() -> jinja2.Environment:
    return templates.environment("slack", {"channel_link": channel_link})


def render_json(template: str, **values: Any) -> Any:
    return json.loads(environment().get_template(template).render(**values))
