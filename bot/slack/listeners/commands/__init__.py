"""The slash commands of manifest.yml, one listener each."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.commands.slash import slash_command
from bot.slack.runtime import SlackRuntime


def register(app: App, runtime: SlackRuntime) -> None:
    app.command("/ledger")(slash_command(runtime, "ledger", report=True))
    app.command("/payout")(slash_command(runtime, "payout", report=False))
