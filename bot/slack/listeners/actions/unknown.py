"""An action_id the app does not know (a button from an older release, or another app's): logged, then
acknowledged, and nothing runs. Bolt alone would answer 404 and log a code suggestion (over Socket Mode
it would send no ack at all), and Slack would show the person an error."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

log = logging.getLogger(__name__)

MAX_LOGGED = 80


def on_unknown_action(ack: Ack, body: dict[str, Any]) -> None:
    actions = body.get("actions") or [{}]
    action_id = str(actions[0].get("action_id") or body.get("callback_id") or "")
    log.warning("unknown action_id %r (%s) from %s: acknowledged, nothing run", action_id[:MAX_LOGGED],
                body.get("type"), (body.get("user") or {}).get("id"))
    ack()
