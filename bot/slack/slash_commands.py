"""`/ledger` and `/payout`: acknowledged at once, answered from a work queue (`/ledger` from the reports one)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.slack.routing import Origin
from bot.slack.runtime import SlackRuntime
from bot.slack.templating import render_json
from commands import chat

COMMANDS = re.compile(r"^/(ledger|payout)$")


def register(app: App, runtime: SlackRuntime) -> None:
    @app.command(COMMANDS)
    def on_command(ack: Ack, body: dict[str, Any]) -> None:
        channel = body.get("channel_id")
        if not runtime.slack.ledger_allowed_in(channel):
            ack(response_type="ephemeral", **render_json("channel_refusal.j2", channels=runtime.slack.ledger_channels))
            return
        ack()
        name = str(body.get("command", "")).lstrip("/")
        text = str(body.get("text") or "").strip()
        origin = Origin(user=body["user_id"], channel=channel, response_url=body.get("response_url"),
                        trigger_id=body.get("trigger_id"))
        runtime.later(f"/{name} {text}", origin, lambda request: chat.run_command(name, text, request),
                      report=name == "ledger")
