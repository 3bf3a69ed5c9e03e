"""Every button the replies carry (CSV, PDF, Create payments…, Submit, Approve, Reject, …).

One generic listener: the action_id names the Reply's action and the value is the Button's value.
The click is acknowledged at once; the work happens in a work queue (the ledger's files in the reports one).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.slack.blocks import action_of
from bot.slack.routing import Origin
from bot.slack.runtime import SlackRuntime
from commands import chat

ANY_ACTION = re.compile(r".+")


def click_origin(body: dict[str, Any]) -> Origin:
    """Where the click happened; a message's ts only when it can be chat.update'd (not ephemeral)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = None if container.get("is_ephemeral") else container.get("message_ts")
    return Origin(user=body["user"]["id"], channel=channel, response_url=body.get("response_url"),
                  trigger_id=body.get("trigger_id"), message_ts=message_ts)


def register(app: App, runtime: SlackRuntime) -> None:
    @app.action(ANY_ACTION)
    def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        name = action_of(action["action_id"])
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        origin = click_origin(body)
        runtime.later(f"button {name} {value[:80]}", origin, lambda request: chat.run_action(name, value, request),
                      report=name in chat.SLOW_ACTIONS)
