"""A submitted form runs before the ack, because bad values must come back in the ack itself
(response_action "errors") for Slack to show them beside their fields. The request form creates a
batch, so the Homes concerned are republished once its replies are delivered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.slack.identity import interaction_is_outsider
from bot.slack.modals import ModalOrigin, errors_for_view, submitted_values
from bot.slack.routing import Origin
from bot.slack.runtime import UNEXPECTED, SlackRuntime
from commands import chat
from commands.reply import FormErrors, Reply

log = logging.getLogger(__name__)


def form_submission(runtime: SlackRuntime, name: str) -> Callable[..., None]:
    """The listener for the Form action `name`; what it replies is delivered from a work queue."""

    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        carried = ModalOrigin.decode(view.get("private_metadata") or "")
        origin = Origin(user=body["user"]["id"], channel=carried.channel,
                        outsider=interaction_is_outsider(body, context))
        request = None
        try:
            request = runtime.request(origin, refresh_approvers=False)
            replies = chat.run_form(name, submitted_values(view), carried.context, request)
        except FormErrors as invalid:
            ack(response_action="errors", errors=errors_for_view(invalid.errors, view))
            return
        except Exception:
            log.exception("form %s failed for %s", name, origin.user)
            replies = [Reply.error(UNEXPECTED)]
        ack()

        def deliver() -> None:
            runtime.router.deliver(replies, origin)
            if request is not None:
                runtime.refresh_homes_after(request, replies)

        runtime.interactions.submit(f"form {name}", deliver)

    on_submit.__name__ = f"on_{name}_submit"
    return on_submit
