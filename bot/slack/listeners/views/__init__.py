"""Submitted modals, one listener per callback_id; then one for callback_ids the app does not know."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.slack.listeners.views.forms import form_submission
from bot.slack.listeners.views.unknown import on_unknown_form
from bot.slack.runtime import SlackRuntime
from commands.chat_payout_views import REQUEST_FORM

ANY_FORM = re.compile(r".*")


def register(app: App, runtime: SlackRuntime) -> None:
    app.view(REQUEST_FORM)(form_submission(runtime, REQUEST_FORM))
    app.view(ANY_FORM)(on_unknown_form)
