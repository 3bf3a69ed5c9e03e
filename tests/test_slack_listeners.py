"""Bolt's own routing: each slash command, action_id and callback_id reaches its own listener, and what
the app does not know is acknowledged and logged rather than answered with Bolt's 404."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener

from bot.slack.app import create_app, create_runtime
from bot.slack.client import web_client
from bot.slack.settings import SlackSettings
from commands import chat, chat_payout_views, ledger_views
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import block_action_body, dispatch, sign, view_submission_body

SECRET = "app-signing-secret"
UNKNOWN = "payout.unknown"

double = pytest.fixture(running_double)


@pytest.fixture
def app(double: SlackApiDouble, sqlite_db, settings) -> Iterator[App]:
    slack = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=double.base_url)
    runtime = create_runtime(slack, sqlite_db, settings, client=web_client(slack))
    yield create_app(runtime)
    runtime.shutdown()


@pytest.fixture
def ran(monkeypatch) -> list[tuple[str, ...]]:
    """What reached commands.chat: (run_action, action, value) or (run_form, action)."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(chat, "run_action", lambda action, value, request: calls.append(("run_action", action, value)) or [])
    monkeypatch.setattr(chat, "run_form", lambda action, *args: calls.append(("run_form", action)) or [])
    return calls


def identifiers_commands_defines() -> list[str]:
    """The action_ids and callback_ids in commands/' views: every dotted name among their constants."""
    return sorted({value for module in (ledger_views, chat_payout_views) for name, value in vars(module).items()
                   if name.isupper() and isinstance(value, str) and value.count(".") == 1 and " " not in value})


def click_body(action_id: str, value: str = "2015-06-01..2015-06-30", url: str = "http://127.0.0.1:9/click") -> str:
    return block_action_body(action_id, value, "U_REQ", "C_FIN", "1700000000.000999", url)


def submit_body(callback_id: str) -> str:
    return view_submission_body(callback_id, {"range": {"value": "2015-06"}}, "U_REQ", private_metadata='{"context":"","channel":"C_FIN"}')


def answers(double: SlackApiDouble) -> list[str]:
    """The Slack calls made, besides the auth.test Bolt makes to authorize any request."""
    return [call.method for call in double.calls() if call.method != "auth.test"]


def first_listener(app: App, body: str) -> Listener:
    """The listener Bolt runs for `body`: the first registered one that matches (Bolt lists them nowhere
    public, so this reads App._listeners, in the order App.dispatch tries them)."""
    request = BoltRequest(body=body, mode="socket_mode")
    return next(listener for listener in app._listeners if listener.matches(req=request, resp=BoltResponse(status=200)))


def test_every_action_id_and_callback_id_commands_defines_has_its_own_listener(app: App) -> None:
    unknown = {first_listener(app, click_body(UNKNOWN)), first_listener(app, submit_body(UNKNOWN))}
    owners: dict[str, Listener] = {}
    for identifier in identifiers_commands_defines():
        routed = {first_listener(app, click_body(identifier)), first_listener(app, submit_body(identifier))} - unknown
        assert len(routed) == 1, f"{identifier} has no listener of its own"
        owners[identifier] = routed.pop()

    assert len(set(owners.values())) == len(owners) >= 8


@pytest.mark.parametrize("action", [ledger_views.CSV_ACTION, ledger_views.PDF_ACTION, chat_payout_views.START,
                                    chat_payout_views.SUBMIT, chat_payout_views.APPROVE, chat_payout_views.REJECT, chat_payout_views.PRINT,
                                    chat_payout_views.FILES])
def test_a_repeated_buttons_suffixed_action_id_runs_its_action(app: App, double: SlackApiDouble, ran, action: str) -> None:
    body = click_body(f"{action}#2", "B-1", url=double.response_url())

    assert dispatch(app, body, sign(body, SECRET)).status == 200

    deadline = time.monotonic() + 5
    while not ran and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ran == [("run_action", action, "B-1")]


@pytest.mark.parametrize("action_id", [UNKNOWN, f"{chat_payout_views.APPROVE}.later", f"{chat_payout_views.APPROVE}#two",
                                       f"x{ledger_views.CSV_ACTION}"])
def test_an_unknown_action_id_is_acknowledged_and_logged_without_running_a_command(
        app: App, double: SlackApiDouble, ran, caplog, action_id: str) -> None:
    body = click_body(action_id, url=double.response_url())

    with caplog.at_level(logging.WARNING):
        response = dispatch(app, body, sign(body, SECRET))

    assert response.status == 200 and not response.body
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"unknown action_id {action_id!r}" in warning.getMessage() and "U_REQ" in warning.getMessage()
    assert warning.exc_info is None
    time.sleep(0.3)
    assert ran == [] and answers(double) == []


def test_an_unknown_form_is_acknowledged_and_logged_without_running_it(
        app: App, double: SlackApiDouble, ran, caplog) -> None:
    body = submit_body(UNKNOWN)

    with caplog.at_level(logging.WARNING):
        response = dispatch(app, body, sign(body, SECRET))

    assert response.status == 200 and not response.body
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"unknown form callback_id {UNKNOWN!r}" in warning.getMessage()
    time.sleep(0.3)
    assert ran == [] and answers(double) == []


def test_the_request_form_runs_by_its_callback_id(app: App, ran) -> None:
    body = submit_body(chat_payout_views.REQUEST_FORM)

    assert dispatch(app, body, sign(body, SECRET)).status == 200

    assert ran == [("run_form", chat_payout_views.REQUEST_FORM)]
