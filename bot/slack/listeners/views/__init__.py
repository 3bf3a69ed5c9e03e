"""Submitted modals, one listener per callback_id; then one for callback_ids the app does not know."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.slack.listeners.views.forms import form_submission
from bot.slack.listeners.views.unknown import on_unknown_form
from bot.slack.runtime import SlackRuntime
from commands.chat_payout_views import FORMS

ANY_FORM = re.compile(r".*")


def register(app: App, runtime: SlackRuntime) -> None:
    for form in FORMS:
        app.view(form)(form_submission(runtime, form))
    app.view(ANY_FORM)(on_unknown_form)
