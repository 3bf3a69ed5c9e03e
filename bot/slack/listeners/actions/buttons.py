"""A click is acknowledged at once; its action runs in a work queue (the slow, file-building ones in the reports one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.slack.identity import interaction_is_outsider
from bot.slack.routing import Origin
from bot.slack.runtime import SlackRuntime
from commands import chat
from commands.chat_payout_views import APPROVE, REJECT, SUBMIT

BATCH_CHANGES = (SUBMIT, APPROVE, REJECT)  # the clicks that request or decide a batch


def click_origin(body: dict[str, Any], context: Any = None) -> Origin:
    """Where the click happened; a message's ts only when it can be chat.update'd (not ephemeral)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = None if container.get("is_ephemeral") else container.get("message_ts")
    return Origin(user=body["user"]["id"], channel=channel, response_url=body.get("response_url"),
                  trigger_id=body.get("trigger_id"), message_ts=message_ts,
                  outsider=interaction_is_outsider(body, context))


def clicked_value(action: dict[str, Any]) -> str:
    """A button's value, or a select's chosen option."""
    return action.get("value") or (action.get("selected_option") or {}).get("value") or ""


def from_home(body: dict[str, Any]) -> bool:
    """A click on App Home: it has no channel or message, only the view."""
    return (body.get("view") or {}).get("type") == "home"


def button_click(runtime: SlackRuntime, name: str) -> Callable[..., None]:
    """The listener for the Reply action `name`, whatever suffix its action_id carries. A click that
    requests or decides a batch republishes the Homes of the people concerned."""
    slow = name in chat.SLOW_ACTIONS
    changes_batches = name in BATCH_CHANGES

    def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
        ack()
        value = clicked_value(action)
        runtime.later(f"button {name} {value[:80]}", click_origin(body, context),
                      lambda request: chat.run_action(name, value, request), report=slow,
                      in_direct_message=from_home(body),
                      then=runtime.refresh_homes_after if changes_batches else None)

    on_click.__name__ = f"on_{name}_click"
    return on_click
