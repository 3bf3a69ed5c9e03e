"""Rewriting a batch's approval request, and posting what happened to a batch, from outside the
Slack app (the CLI and the shell).

A decision taken at the terminal must still reach the request in PAYOUT_APPROVAL_CHANNEL, or its
Approve and Reject buttons stay live (SPEC §8, "Decisions update every copy"). With
SLACK_BOT_TOKEN set the message is rewritten through the Web API (SLACK_API_URL); otherwise, or
when Slack refuses, the operator is told which message still shows its buttons.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from bot.slack.client import web_client
from bot.slack.delivery import post_message, update_message
from bot.slack.settings import SlackSettings
from commands.reply import Reply


def _stale_copy(reply: Reply, why: str) -> str:
    return f"the approval request in {reply.channel} (message {reply.message_ref}) still shows its buttons: {why}"


def rewrite(reply: Reply, env: Mapping[str, str] | None = None) -> str | None:
    """chat.update the ANNOUNCEMENT reply's message; what went wrong, or None when it was rewritten."""
    assert reply.channel and reply.message_ref
    settings = SlackSettings.from_env(os.environ if env is None else env)
    if not settings.bot_token:
        return _stale_copy(reply, "SLACK_BOT_TOKEN is not set")
    try:
        update_message(web_client(settings), reply.channel, reply.message_ref, reply)
    except SlackApiError as refused:
        return _stale_copy(reply, f"Slack refused the update ({refused.response.get('error')})")
    except OSError as unreachable:
        return _stale_copy(reply, f"Slack could not be reached ({unreachable})")
    return None


def post(reply: Reply, env: Mapping[str, str] | None = None) -> str | None:
    """chat.postMessage the CHANNEL reply to its channel; what went wrong, or None when it was posted."""
    assert reply.channel
    settings = SlackSettings.from_env(os.environ if env is None else env)
    not_posted = f"not posted to {reply.channel}"
    if not settings.bot_token:
        return f"{reply.headline[:80]}: {not_posted}: SLACK_BOT_TOKEN is not set"
    try:
        post_message(web_client(settings), reply.channel, reply)
    except SlackApiError as refused:
        return f"{reply.headline[:80]}: {not_posted}: Slack refused it ({refused.response.get('error')})"
    except OSError as unreachable:
        return f"{reply.headline[:80]}: {not_posted}: Slack could not be reached ({unreachable})"
    return None
