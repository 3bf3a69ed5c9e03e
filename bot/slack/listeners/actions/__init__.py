"""Every button the replies carry, one listener per action_id; then one for action_ids the app does not know."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.slack.blocks import action_id_pattern
from bot.slack.listeners.actions.buttons import button_click
from bot.slack.listeners.actions.unknown import on_unknown_action
from bot.slack.runtime import SlackRuntime
from commands.chat_payout_views import APPROVE, FAIL_START, FILES, PRINT, REJECT, REPAY, START, SUBMIT
from commands.ledger_views import CHART_ACTION, CSV_ACTION, PDF_ACTION

BUTTON_ACTIONS = (CSV_ACTION, PDF_ACTION, CHART_ACTION, START, SUBMIT, APPROVE, REJECT, PRINT, FILES, FAIL_START, REPAY)
ANY_ACTION = re.compile(r".*")


def register(app: App, runtime: SlackRuntime) -> None:
    for action in BUTTON_ACTIONS:
        app.action(action_id_pattern(action))(button_click(runtime, action))
    app.action(ANY_ACTION)(on_unknown_action)
