"""Events API listeners, by event type. manifest.yml subscribes to no events, so none is registered:
Bolt answers an event nobody subscribed to with 404 and a logged warning."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.runtime import SlackRuntime


def register(app: App, runtime: SlackRuntime) -> None:
    """The place for `app.event("type")(listener)` once manifest.yml subscribes to an event."""
