"""The Jinja2 environment for Block Kit templates (templates/slack/*.j2).

Templates write JSON and every value goes in through `tojson`. Text bound for mrkdwn is escaped
with `escape_mrkdwn` before it reaches a template (then clipped to Slack's limits), so a partner
called "Ann <&> Co" cannot inject markup or mentions.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2

import templates


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; `&` first so the other escapes are not escaped again."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def channel_link(channel_id: str) -> str:
    """A channel mention; only for IDs the app was configured with, never for user input."""
    return f"<#{escape_mrkdwn(channel_id)}>"


@cache
def environment() -> jinja2.Environment:
    return templates.environment("slack", {"channel_link": channel_link})


def render_json(template: str, **values: Any) -> Any:
    return json.loads(environment().get_template(template).render(**values))
