"""The Slack Web API double and signing helpers behave like Slack for a real slack_sdk client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import FORM_CONTENT_TYPE, command_body, dispatch, post, sign

SECRET = "test-signing-secret"

double = pytest.fixture(running_double)


@pytest.fixture
def client(double: SlackApiDouble) -> WebClient:
    return WebClient(token="xoxb-test", base_url=double.base_url)


def test_post_message_then_update_are_recorded_in_order(double: SlackApiDouble, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="batch ready")
    client.chat_update(channel="C1", ts=posted["ts"], text="batch approved")

    assert [c.method for c in double.calls()] == ["chat.postMessage", "chat.update"]
    assert posted["ts"] == "1700000000.000101"
    assert posted["message"]["text"] == "batch ready"
    update = double.calls("chat.update")[0]
    assert update.args == {"channel": "C1", "ts": "1700000000.000101", "text": "batch approved"}
    assert update.headers["authorization"] == "Bearer xoxb-test"


def test_post_message_ts_values_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]

    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3


def test_files_upload_v2_content_and_channel_reach_uploaded_files(
    double: SlackApiDouble, client: WebClient
) -> None:
    client.files_upload_v2(channel="C1", content="a,b\n", filename="x.csv", initial_comment="ledger")

    [upload] = double.uploaded_files()
    assert upload["filename"] == "x.csv"
    assert upload["title"] == "x.csv"
    assert upload["channel_id"] == "C1"
    assert upload["initial_comment"] == "ledger"
    assert upload["content"] == b"a,b\n"
    assert upload["length"] == 4
    assert [c.method for c in double.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_rate_limited_call_is_retried_after_retry_after(double: SlackApiDouble, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    double.fail_next("chat.postMessage", status=429, retry_after=0)

    response = client.chat_postMessage(channel="C1", text="hello")

    assert response["ok"] is True
    assert [c.status for c in double.calls("chat.postMessage")] == [429, 200]


def test_rate_limit_without_retry_handler_surfaces_retry_after(
    double: SlackApiDouble, client: WebClient
) -> None:
    double.fail_next("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hello")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


def test_server_error_answers_internal_error(double: SlackApiDouble, client: WebClient) -> None:
    double.fail_next("views.open", status=503)

    with pytest.raises(SlackApiError) as raised:
        client.views_open(
            trigger_id="1.T1.x", view={"type": "modal", "title": {"type": "plain_text", "text": "x"}}
        )

    assert raised.value.response["error"] == "internal_error"
    assert client.views_open(trigger_id="1.T1.x", view={"type": "modal"})["view"]["id"]


def test_error_next_answers_ok_false_with_http_200(double: SlackApiDouble, client: WebClient) -> None:
    double.error_next("chat.postMessage", "channel_not_found")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C404", text="x")

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"


def test_usergroup_members_come_from_configuration(double: SlackApiDouble, client: WebClient) -> None:
    double.usergroups = {"S123": ["U1", "U2"]}

    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U1", "U2"]


def test_unknown_usergroup_is_no_such_subteam(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.usergroups_users_list(usergroup="S404")

    assert raised.value.response["error"] == "no_such_subteam"


def test_users_info_has_a_timezone(client: WebClient) -> None:
    user = client.users_info(user="U1")["user"]

    assert user["id"] == "U1"
    assert user["tz"]


def test_delay_holds_the_answer(double: SlackApiDouble, client: WebClient) -> None:
    double.delay("auth.test", 0.2)

    started = time.monotonic()
    client.auth_test()

    assert time.monotonic() - started >= 0.2


def test_response_url_posts_are_recorded_with_json_body(double: SlackApiDouble) -> None:
    WebhookClient(double.response_url("cmd")).send(text="working on it", response_type="ephemeral")

    [call] = double.wait_for("response_url")
    assert call.args == {"text": "working on it", "response_type": "ephemeral"}


def test_form_encoded_post_is_parsed_into_args(double: SlackApiDouble) -> None:
    status, text = post(
        double.url("api/conversations.info"), "channel=C9", {"Content-Type": FORM_CONTENT_TYPE}
    )

    assert status == 200
    assert '"id": "C9"' in text
    assert double.calls("conversations.info")[0].args == {"channel": "C9"}


def test_wait_for_timeout_lists_calls_that_did_arrive(double: SlackApiDouble, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match="auth.test"):
        double.wait_for("chat.postMessage", timeout=0.1)


def test_reset_forgets_calls_and_configuration(double: SlackApiDouble, client: WebClient) -> None:
    double.usergroups = {"S1": ["U1"]}
    client.chat_postMessage(channel="C1", text="x")

    double.reset()

    assert double.calls() == []
    assert double.usergroups == {}
    assert client.chat_postMessage(channel="C1", text="x")["ts"] == "1700000000.000101"


def test_signed_body_verifies() -> None:
    body = command_body("/ledger", "2015-06-01..2015-06-30")

    assert SignatureVerifier(SECRET).is_valid_request(body, sign(body, SECRET))


def test_tampered_body_does_not_verify() -> None:
    body = command_body("/ledger", "2015-06-01..2015-06-30")
    headers = sign(body, SECRET)

    assert not SignatureVerifier(SECRET).is_valid_request(body.replace("2015-06-30", "2015-07-31"), headers)


def test_stale_timestamp_does_not_verify() -> None:
    body = command_body("/ledger", "")

    assert not SignatureVerifier(SECRET).is_valid_request(body, sign(body, SECRET, int(time.time()) - 301))


@pytest.fixture
def bolt_app(client: WebClient) -> Iterator[App]:
    app = App(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/ledger")
    def ledger(ack, respond, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(f"range {command['text']}")

    yield app


def test_dispatch_runs_a_signed_command_through_bolt(double: SlackApiDouble, bolt_app: App) -> None:
    body = command_body("/ledger", "2015-06-01..2015-06-30", response_url=double.response_url())

    response = dispatch(bolt_app, body, sign(body, SECRET))

    assert response.status == 200
    [reply] = double.wait_for("response_url")
    assert reply.args["text"] == "range 2015-06-01..2015-06-30"


def test_dispatch_rejects_a_wrongly_signed_command(bolt_app: App) -> None:
    body = command_body("/ledger", "x")

    assert dispatch(bolt_app, body, sign(body, "other-secret")).status == 401
