"""Each Reply goes where its Target says; a reply that cannot be delivered is logged and the asker told."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.client import web_client
from bot.slack.routing import Origin, ReplyRouter
from bot.slack.settings import SlackSettings
from commands.reply import Attachment, Field, Form, Reply, Target
from tests.slack_double import SlackApiDouble, running_double
from tests.test_slack_payloads import check_call

double = pytest.fixture(running_double)


@pytest.fixture
def router(double: SlackApiDouble, sqlite_db) -> Iterator[ReplyRouter]:
    slack = SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=double.base_url,
                          approval_channel="C_APPROVE", ledger_channels=("C_FIN",))
    yield ReplyRouter(web_client(slack), slack, sqlite_db)
    for call in double.calls():
        check_call(call)


def test_a_private_reply_without_response_url_is_ephemeral_in_the_channel(router, double) -> None:
    router.deliver([Reply("Only you", private=True)], Origin("U1", "C_FIN"))

    [call] = double.calls("chat.postEphemeral")
    assert (call.args["channel"], call.args["user"]) == ("C_FIN", "U1")


def test_a_private_reply_goes_through_the_response_url(router, double) -> None:
    router.deliver([Reply("Only you", private=True)], Origin("U1", "C_FIN", response_url=double.response_url()))

    [call] = double.calls("response_url")
    assert call.args["response_type"] == "ephemeral"


def test_a_private_reply_whose_response_url_has_expired_is_ephemeral_in_the_channel(router, double) -> None:
    double.fail_next("response_url", status=404)  # Slack's answer after 30 minutes or five uses

    router.deliver([Reply("Only you", private=True)], Origin("U1", "C_FIN", response_url=double.response_url()))

    [call] = double.calls("chat.postEphemeral")
    assert (call.args["channel"], call.args["user"], call.args["text"]) == ("C_FIN", "U1", "Only you")


def test_a_private_reply_shares_its_files_in_the_channel(router, double) -> None:
    reply = Reply("Your CSV", private=True, files=[Attachment("x.csv", b"a\n", "text/csv")])

    router.deliver([reply], Origin("U1", "C_FIN", response_url=double.response_url()))

    assert [f["channel_id"] for f in double.uploaded_files()] == ["C_FIN"]


def test_a_channel_reply_goes_to_its_channel(router, double) -> None:
    router.deliver([Reply("Your batch was approved", target=Target.CHANNEL, channel="C_FIN")], Origin("U2", "C_APPROVE"))

    assert [c.args["channel"] for c in double.calls("chat.postMessage")] == ["C_FIN"]


def test_ledger_data_is_not_posted_outside_ledger_channels(router, double) -> None:
    router.deliver([Reply("Ledger", target=Target.CHANNEL, channel="C_RANDOM")], Origin("U1", "C_FIN"))

    assert double.calls("chat.postMessage") == []
    [note] = double.calls("chat.postEphemeral")
    assert "C_RANDOM is not in LEDGER_CHANNELS" in note.args["text"]


def test_a_channel_the_bot_is_not_in_gets_the_answer_through_the_response_url(router, double) -> None:
    double.error_next("chat.postMessage", "not_in_channel")

    router.deliver([Reply("Ledger")], Origin("U1", "C_FIN", response_url=double.response_url()))

    [call] = double.calls("response_url")
    assert call.args["response_type"] == "in_channel"


def test_a_replace_without_a_message_rewrites_the_ephemeral_original(router, double) -> None:
    router.deliver([Reply("Submitted", target=Target.REPLACE)], Origin("U1", "C_FIN", response_url=double.response_url()))

    [call] = double.calls("response_url")
    assert call.args["replace_original"] is True


def test_a_failed_reply_does_not_stop_the_next_one(router, double) -> None:
    double.error_next("chat.postMessage", "channel_not_found")

    router.deliver([Reply("first"), Reply("second")], Origin("U1", "C_FIN"))

    assert [c.status for c in double.calls("chat.postMessage")] == [200, 200]
    assert "channel_not_found" in double.calls("chat.postEphemeral")[0].args["text"]


def test_a_form_without_a_trigger_is_explained(router, double) -> None:
    form = Form("Create payments", "payout.request", (Field("range", "Date range"),))

    router.deliver([Reply("Create payments", form=form)], Origin("U1", "C_FIN"))

    assert double.calls("views.open") == []
    assert "could not be delivered" in double.calls("chat.postEphemeral")[0].args["text"]


def test_files_refused_by_a_channel_are_reported_without_resending_the_message(router, double) -> None:
    double.error_next("chat.postMessage", "not_in_channel")
    double.error_next("files.completeUploadExternal", "not_in_channel")
    reply = Reply("Ledger", files=[Attachment("x.csv", b"a\n", "text/csv")])

    router.deliver([reply], Origin("U1", "C_FIN", response_url=double.response_url()))

    answers = double.calls("response_url")
    assert [a.args["response_type"] for a in answers] == ["in_channel", "ephemeral"]
    assert "not_in_channel" in answers[1].args["text"]
