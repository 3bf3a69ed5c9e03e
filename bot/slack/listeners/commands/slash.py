"""`/ledger` and `/payout`: acknowledged at once, answered from a work queue (`/ledger` from the reports one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.slack.identity import command_is_outsider
from bot.slack.routing import Origin
from bot.slack.runtime import SlackRuntime
from bot.slack.templating import render_json
from commands import chat
from commands.gate import LISTED_CHANNELS


def command_origin(body: dict[str, Any], context: Any = None) -> Origin:
    return Origin(user=body["user_id"], channel=body.get("channel_id"), response_url=body.get("response_url"),
                  trigger_id=body.get("trigger_id"), outsider=command_is_outsider(body, context),
                  channel_name=body.get("channel_name"))


def slash_command(runtime: SlackRuntime, name: str, *, report: bool) -> Callable[..., None]:
    """The listener for `/name`; outside LEDGER_CHANNELS the refusal is the ack itself and nothing runs."""

    def on_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        origin = command_origin(body, context)
        if not runtime.slack.ledger_allowed_in(origin.channel):
            allowed = runtime.slack.ledger_channels
            ack(response_type="ephemeral", **render_json("channel_refusal.j2", channels=allowed[:LISTED_CHANNELS],
                                                         more=max(0, len(allowed) - LISTED_CHANNELS)))
            return
        ack()
        text = str(body.get("text") or "").strip()
        runtime.later(f"/{name} {text}", origin, lambda request: chat.run_command(name, text, request), report=report)

    on_command.__name__ = f"on_{name}_command"
    return on_command
