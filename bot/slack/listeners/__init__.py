"""Every Bolt listener, registered by what Slack routes on: command name, action_id, callback_id.

Bolt runs the first registered listener that matches a request, so each package registers its own
listeners before its catch-all for what the app does not know.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, commands, events, views
from bot.slack.runtime import SlackRuntime


def register_listeners(app: App, runtime: SlackRuntime) -> None:
    commands.register(app, runtime)
    actions.register(app, runtime)
    views.register(app, runtime)
    events.register(app, runtime)
