"""POST /slack/events before Bolt sees it: size, signature and timestamp first, then the form (SPEC §6, §8)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bot.cli import main
from bot.slack.app import create_app, create_runtime
from bot.slack.client import web_client
from bot.slack.settings import SlackSettings
from bot.slack.wsgi import MAX_BODY_BYTES, wsgi_app
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import command_body, sign

SECRET = "http-signing-secret"

double = pytest.fixture(running_double)


@pytest.fixture
def application(double: SlackApiDouble, sqlite_db, settings) -> Iterator[Any]:
    slack = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=double.base_url,
                          approvers=("U_REQ",))
    runtime = create_runtime(slack, sqlite_db, settings, client=web_client(slack))
    yield wsgi_app(create_app(runtime), SECRET)
    runtime.shutdown()


def call(application: Any, body: bytes, headers: dict[str, str], length: int | None = None) -> tuple[int, str]:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_NAME": "test",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body) if length is None else length),
        "CONTENT_TYPE": headers.pop("Content-Type", "application/x-www-form-urlencoded"),
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    answer: list[str] = []
    chunks = application(environ, lambda status, _headers, *_: answer.append(status))
    return int(answer[0].split()[0]), b"".join(chunks).decode()


def signed_payload(raw: str) -> tuple[bytes, dict[str, str]]:
    body = f"payload={quote(raw)}"
    return body.encode(), sign(body, SECRET)


@pytest.mark.parametrize("body", ["payload=%7Bbad", "payload=%5B1%2C2%5D", "x" * 100])
def test_an_unsigned_malformed_body_is_401_without_a_traceback_or_the_body_in_the_log(application, body, caplog) -> None:
    caplog.set_level(logging.DEBUG)

    status, _ = call(application, body.encode(), {"X-Slack-Request-Timestamp": str(int(time.time())),
                                                   "X-Slack-Signature": "v0=forged"})

    assert status == 401
    assert all(body[:20] not in record.getMessage() and not record.exc_info for record in caplog.records)


def test_a_timestamp_that_is_not_a_number_is_401(application) -> None:
    body = command_body("/ledger", "2015-06")

    status, _ = call(application, body.encode(), {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=x"})

    assert status == 401


def test_a_body_over_the_cap_is_413_before_it_is_read(application) -> None:
    status, _ = call(application, b"", {}, length=5 * 1024 * 1024)

    assert status == 413 and MAX_BODY_BYTES < 5 * 1024 * 1024


@pytest.mark.parametrize("raw", ["{bad", "[1, 2]", '"text"'])
def test_a_signed_payload_that_is_not_a_json_object_is_400(application, raw, caplog) -> None:
    body, headers = signed_payload(raw)

    status, _ = call(application, body, headers)

    assert status == 400
    assert all(not record.exc_info for record in caplog.records)


def test_a_signed_json_body_that_is_not_an_object_is_400(application) -> None:
    body = json.dumps(["event"])

    status, _ = call(application, body.encode(), sign(body, SECRET, content_type="application/json"))

    assert status == 400


def test_a_signed_body_that_is_not_utf8_is_400(application) -> None:
    raw = b"text=\xff\xfe"
    timestamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256).hexdigest()

    status, _ = call(application, raw, {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})

    assert status == 400


def test_a_signed_slash_command_still_reaches_the_app(application, double) -> None:
    body = command_body("/ledger", "help", user_id="U_REQ", response_url=double.response_url())

    status, text = call(application, body.encode(), sign(body, SECRET))

    assert status == 200, text
    double.wait_for("response_url")


def test_serve_listens_on_the_host_it_is_given(sqlite_db, double, monkeypatch) -> None:
    bound: list[tuple[int, str]] = []
    monkeypatch.setattr("bot.slack.server.serve", lambda factory, port, host: bound.append((port, host)))
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": double.base_url}.items():
        monkeypatch.setenv(name, value)

    assert main(["--database", sqlite_db.url, "serve", "--port", "3001", "--host", "127.0.0.1"]) == 0
    assert main(["--database", sqlite_db.url, "serve", "--port", "3001"]) == 0

    assert bound == [(3001, "127.0.0.1"), (3001, "0.0.0.0")]
