"""A modal with a callback_id the app does not know: logged, then acknowledged (the modal closes), and
nothing runs; Bolt alone would answer 404, leaving the person a connection error in the modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

log = logging.getLogger(__name__)

MAX_LOGGED = 80


def on_unknown_form(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    callback_id = str(view.get("callback_id") or "")
    log.warning("unknown form callback_id %r from %s: acknowledged, nothing run", callback_id[:MAX_LOGGED],
                (body.get("user") or {}).get("id"))
    ack()
