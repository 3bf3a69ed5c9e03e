"""Events API listeners, by event type: manifest.yml subscribes to app_home_opened only.

Bolt acknowledges an event before its listener runs; the listener only queues the work, so
publishing a Home never holds up an acknowledgement (SPEC §13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.slack.runtime import SlackRuntime

HOME_TAB = "home"


def register(app: App, runtime: SlackRuntime) -> None:
    app.event("app_home_opened")(home_opened(runtime))


def home_opened(runtime: SlackRuntime) -> Callable[..., None]:
    """Publish the person's Home in the interactions queue; opening the Messages tab publishes nothing."""
    def on_home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab") != HOME_TAB or not isinstance(user, str):
            return
        runtime.interactions.submit(f"home for {user}", lambda: runtime.publish_home(user))

    return on_home_opened
