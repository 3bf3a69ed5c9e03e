"""Settings from the environment, the retrying Web API client, and posting replies with files."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack.client import web_client
from bot.slack.delivery import post_reply, update_message
from bot.slack.settings import SlackSettings
from commands.reply import Attachment, Button, Reply
from domain.roles import Roles
from domain.settings import Settings
from tests.slack_double import SlackApiDouble, running_double
from tests.test_slack_payloads import check_call

double = pytest.fixture(running_double)


@pytest.fixture
def client(double: SlackApiDouble) -> WebClient:
    return web_client(SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=double.base_url))


def test_settings_come_from_the_environment() -> None:
    settings = SlackSettings.from_env({
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sec", "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api", "PAYOUT_APPROVERS": "U1, S2,,U3",
        "PAYOUT_APPROVAL_CHANNEL": "C_APPROVE", "LEDGER_CHANNELS": "C1,C2",
    })

    assert settings == SlackSettings(
        "xoxb-1", "sec", "xapp-1", "http://127.0.0.1:9/api/", ("U1", "S2", "U3"), "C_APPROVE", ("C1", "C2"),
    )


def test_api_url_defaults_to_slack() -> None:
    assert SlackSettings.from_env({}).api_url == "https://slack.com/api/"


def test_missing_settings_are_named() -> None:
    assert SlackSettings.from_env({}).missing() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert SlackSettings.from_env({"SLACK_BOT_TOKEN": "x"}).missing(socket_mode=True) == ["SLACK_APP_TOKEN"]


def test_ledger_channels_allow_list_only_applies_when_set() -> None:
    assert SlackSettings("x", "y").ledger_allowed_in("C_ANY")
    assert not SlackSettings("x", "y", ledger_channels=("C1",)).ledger_allowed_in("C_ANY")


def test_web_client_uses_slack_api_url(double: SlackApiDouble, client: WebClient) -> None:
    client.auth_test()

    assert double.calls("auth.test")[0].status == 200


def test_web_client_retries_a_429_after_retry_after(double: SlackApiDouble, client: WebClient) -> None:
    double.fail_next("chat.postMessage", status=429, retry_after=0)

    assert post_reply(client, "C1", Reply("Reminder")) is not None
    assert [c.status for c in double.calls("chat.postMessage")] == [429, 200]


def test_web_client_retries_a_server_error(double: SlackApiDouble, client: WebClient) -> None:
    double.fail_next("chat.postMessage", status=503)

    post_reply(client, "C1", Reply("Reminder"))

    assert [c.status for c in double.calls("chat.postMessage")] == [503, 200]


def test_post_reply_posts_the_message_then_uploads_its_files(double: SlackApiDouble, client: WebClient) -> None:
    reply = Reply("Ledger for June", files=[Attachment("ledger.csv", b"a,b\n", "text/csv", "June ledger")])

    ts = post_reply(client, "C_FIN", reply)

    [posted] = double.calls("chat.postMessage")
    check_call(posted)
    assert ts == "1700000000.000101"
    assert posted.args["channel"] == "C_FIN"
    [upload] = double.uploaded_files()
    assert (upload["channel_id"], upload["filename"], upload["title"], upload["content"]) == (
        "C_FIN", "ledger.csv", "June ledger", b"a,b\n",
    )


def test_update_message_rewrites_it_without_buttons(double: SlackApiDouble, client: WebClient) -> None:
    update_message(client, "C_APPROVE", "1.2", Reply("Approved by U_BOSS", buttons=[Button("Approve", "a", "b")]))

    [update] = double.calls("chat.update")
    check_call(update)
    assert update.args["ts"] == "1.2"
    assert all(block["type"] != "actions" for block in update.arg("blocks"))


def test_roles_come_from_the_environment() -> None:
    slack = SlackSettings.from_env({"LEDGER_VIEWERS": "U1,S_FIN", "PAYOUT_REQUESTERS": "*", "PAYOUT_APPROVERS": "W2"})

    assert slack.roles() == Roles(viewers=("U1", "S_FIN"), requesters=("*",), approvers=("W2",))


def test_a_payment_type_too_long_for_slacks_form_is_refused_at_start_up_by_name() -> None:
    with pytest.raises(ValueError, match="PAYMENT_TYPES: 'xxxx.*' has 76 characters; each payment type may have at most 75"):
        Settings.from_env({"PAYMENT_TYPES": "Check," + "x" * 76})
