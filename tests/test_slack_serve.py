"""`payouts serve` as in production: gunicorn in front of the Bolt app, /healthz and a signed command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import command_body, post, sign
from tests.test_slack_payloads import check_call

SECRET = "serve-signing-secret"

double = pytest.fixture(running_double)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.status, response.read().decode()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"payouts serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("payouts serve did not answer in time")


@pytest.fixture
def served(double: SlackApiDouble, sqlite_db, tmp_path: Path) -> Iterator[str]:
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "ANN", "Ann"), "commission", 10_000, "2015-06-10")
    port = free_port()
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": double.base_url, "DATABASE_URL": sqlite_db.url, "WEB_CONCURRENCY": "1",
        "LEDGER_VIEWERS": "U_REQ",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
    for call in double.calls():
        check_call(call)


def test_healthz_answers_ok(served: str) -> None:
    assert get(served + "/healthz") == (200, "ok\n")


def test_a_signed_slash_command_is_acknowledged_and_answered(served: str, double: SlackApiDouble) -> None:
    body = command_body("/ledger", "2015-06", response_url=double.response_url())

    status, _ = post(served + "/slack/events", body, sign(body, SECRET))

    assert status == 200
    [summary] = double.wait_for("chat.postMessage", timeout=15)
    assert summary.args["channel"] == "C_FIN"
    assert "Referral partner ledger" in summary.args["text"]


def test_an_unsigned_request_is_refused(served: str) -> None:
    body = command_body("/ledger", "2015-06")

    status, _ = post(served + "/slack/events", body, {"Content-Type": "application/x-www-form-urlencoded"})

    assert status == 401


def test_socket_mode_connects_through_slack_api_url_with_the_app_token(double: SlackApiDouble, sqlite_db) -> None:
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
           "SLACK_API_URL": double.base_url, "DATABASE_URL": sqlite_db.url}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "socket"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        [opened] = double.wait_for("apps.connections.open", timeout=30)[:1]
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert opened.headers["authorization"] == "Bearer xapp-test"
    assert double.calls("auth.test")[0].headers["authorization"] == "Bearer xoxb-test"
