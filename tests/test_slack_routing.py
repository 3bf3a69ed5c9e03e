"""Each Reply goes where its Target says; a reply that cannot be delivered is logged and the asker told."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.client import web_client
from bot.slack.routing import Origin, ReplyRouter
from bot.slack.settings import SlackSettings
from commands.reply import Attachment, Field, Form, Reply, Target
from domain.audit import read_log
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


def test_a_reply_the_channel_refuses_goes_to_the_direct_message_and_the_next_one_still_goes(router, double) -> None:
    double.error_next("chat.postMessage", "channel_not_found")

    router.deliver([Reply("first"), Reply("second")], Origin("U1", "C_FIN"))

    assert [c.args["channel"] for c in double.calls("chat.postMessage")] == ["C_FIN", "D_APP_U1", "C_FIN"]
    assert double.calls("chat.postEphemeral") == []


def test_a_form_without_a_trigger_is_explained(router, double) -> None:
    form = Form("Create payments", "payout.request", (Field("range", "Date range"),))

    router.deliver([Reply("Create payments", form=form)], Origin("U1", "C_FIN"))

    assert double.calls("views.open") == []
    assert "could not be delivered" in double.calls("chat.postEphemeral")[0].args["text"]


def test_files_refused_by_a_public_channel_arrive_there_after_joining_it(router, double) -> None:
    double.error_next("chat.postMessage", "not_in_channel")
    double.error_next("files.completeUploadExternal", "not_in_channel")
    reply = Reply("Ledger", files=[Attachment("x.csv", b"a\n", "text/csv")])

    router.deliver([reply], Origin("U1", "C_FIN", response_url=double.response_url()))

    assert [a.args["response_type"] for a in double.calls("response_url")] == ["in_channel"]
    assert [c.args["channel"] for c in double.calls("conversations.join")] == ["C_FIN"]
    assert [f["channel_id"] for f in double.uploaded_files()] == ["C_FIN"]


# ---- where the person can see it (SPEC §8, "Where replies go") -----------------------------------


@pytest.fixture
def open_router(double: SlackApiDouble, sqlite_db) -> Iterator[ReplyRouter]:
    """No LEDGER_CHANNELS; the bot is in C_FIN only, C_PUBLIC is a public channel it has not joined."""
    slack = SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=double.base_url,
                          approval_channel="C_APPROVE")
    double.channels(joined={"C_FIN", "C_APPROVE"}, public={"C_FIN", "C_APPROVE", "C_PUBLIC"})
    yield ReplyRouter(web_client(slack), slack, sqlite_db)
    for call in double.calls():
        check_call(call)


def csv_reply(**kwargs) -> Reply:
    return Reply("Your CSV", files=[Attachment("ledger.csv", b"a\n", "text/csv")], **kwargs)


def test_a_private_reply_after_the_response_url_expired_in_a_direct_message_goes_to_the_app_dm(
        open_router, double, caplog) -> None:
    double.expire_response_url()

    open_router.deliver([Reply("Only you", private=True)],
                        Origin("U1", "D_PEOPLE", response_url=double.response_url(), channel_name="directmessage"))

    [ephemeral] = double.calls("chat.postEphemeral")
    assert ephemeral.args["channel"] == "D_PEOPLE"  # refused: channel_not_found
    [posted] = double.calls("chat.postMessage")
    assert (posted.args["channel"], posted.args["text"]) == ("D_APP_U1", "Only you")
    assert [r.exc_info for r in caplog.records if r.exc_info] == []


def test_a_file_asked_for_in_a_private_channel_without_the_bot_goes_to_the_dm_with_an_invite_hint(
        open_router, double) -> None:
    origin = Origin("U1", "G_SECRET", response_url=double.response_url(), channel_name="privategroup")

    open_router.deliver([csv_reply(private=True)], origin)

    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U1"]
    notes = [c.args["text"] for c in double.calls("response_url")]
    assert notes[0] == "Your CSV"
    assert "ledger.csv" in notes[1] and "direct message" in notes[1] and "/invite" in notes[1]


def test_a_file_asked_for_in_a_direct_message_between_people_goes_to_the_dm_without_an_invite_hint(
        open_router, double) -> None:
    origin = Origin("U1", "D_PEOPLE", response_url=double.response_url(), channel_name="directmessage")

    open_router.deliver([csv_reply(private=True)], origin)

    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U1"]
    assert "/invite" not in double.calls("response_url")[-1].args["text"]


def test_a_file_asked_for_in_a_public_channel_the_bot_has_not_joined_arrives_there(open_router, double) -> None:
    open_router.deliver([csv_reply(private=True)], Origin("U1", "C_PUBLIC", response_url=double.response_url()))

    assert [c.args["channel"] for c in double.calls("conversations.join")] == ["C_PUBLIC"]
    assert [f["channel_id"] for f in double.uploaded_files()] == ["C_PUBLIC"]


def test_a_requester_notice_for_a_channel_the_bot_cannot_reach_goes_to_the_requesters_dm(open_router, double) -> None:
    notice = csv_reply(target=Target.CHANNEL, channel="G_SECRET", recipient="U_REQ")

    open_router.deliver([notice], Origin("U_BOSS", "C_APPROVE", response_url=double.response_url()))

    posted = [c.args["channel"] for c in double.calls("chat.postMessage")]
    assert posted == ["G_SECRET", "D_APP_U_REQ"]
    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U_REQ"]


def test_a_reply_that_reaches_nobody_is_logged_and_kept_in_the_audit_log(open_router, double, sqlite_db) -> None:
    double.error_next("conversations.open", "cannot_dm_bot", times=5)

    open_router.deliver([Reply("Ledger")], Origin("U1", "G_SECRET", channel_name="privategroup"))

    with sqlite_db.read() as s:
        [event] = [line for line in read_log(s) if line.action == "slack.undelivered"]
    assert (event.actor, event.subject, event.detail["error"]) == ("U1", "Ledger", "cannot_dm_bot")


def test_a_report_asked_for_in_a_channel_shared_with_another_organisation_goes_to_the_dm(open_router, double) -> None:
    """SPEC §8: ledger data is never posted into a channel shared with another organisation
    unless LEDGER_CHANNELS lists it."""
    double.shared = {"C_FIN"}

    open_router.deliver([csv_reply()], Origin("U1", "C_FIN", response_url=double.response_url()))

    assert [c.args["channel"] for c in double.calls("chat.postMessage")] == ["D_APP_U1"]
    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U1"]
    [note] = double.calls("response_url")
    assert "shared with another organisation" in note.args["text"] and note.args["response_type"] == "ephemeral"


def test_a_shared_channel_listed_in_ledger_channels_gets_the_report(double, sqlite_db) -> None:
    slack = SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=double.base_url,
                          ledger_channels=("C_FIN",))
    double.shared = {"C_FIN"}

    ReplyRouter(web_client(slack), slack, sqlite_db).deliver([csv_reply()], Origin("U1", "C_FIN"))

    assert [c.args["channel"] for c in double.calls("chat.postMessage")] == ["C_FIN"]
    assert double.calls("conversations.info") == []
