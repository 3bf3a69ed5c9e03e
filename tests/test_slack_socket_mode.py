"""`payouts socket` as in production: a real process on Socket Mode, against local doubles of Slack's
WebSocket server and Web API (SPEC §6: every command and button acknowledged within 3 seconds)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from bot.cli import main
from commands.chat_payout_views import APPROVE
from domain import batches
from domain.dates import DateRange
from domain.db import Database
from domain.models import Batch, Entry
from domain.settings import Settings
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import block_action_body, command_body, view_submission_body
from tests.socket_mode_double import SocketModeDouble
from tests.test_slack_payloads import check_blocks, check_call

ACK_LIMIT = 3.0  # seconds: Slack's deadline for acknowledging an envelope
START_TIMEOUT = 30.0
APPROVAL_CHANNEL = "C_APPROVE"
SETTINGS_TO_DROP = (
    "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
    "TIMEZONE", "DEFAULT_CURRENCY", "ORGANISATION_NAME", "PAYMENT_TYPES", "REQUIRE_SEPARATE_APPROVER",
)

web_api = pytest.fixture(running_double)


@pytest.fixture
def socket_mode() -> Iterator[SocketModeDouble]:
    with SocketModeDouble() as double:
        yield double


@pytest.fixture
def ledger(sqlite_db: Database) -> Database:
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        add_entry(s, ann, "commission", 12_345, "2015-06-10")
        add_entry(s, ann, "clawback", 2_345, "2015-06-20")
    return sqlite_db


@dataclass
class SocketApp:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def app_environment(web_api: SlackApiDouble, database: str) -> dict[str, str]:
    """Only what the test sets: no Slack, organisation or proxy settings leak in from the caller."""
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(("SLACK_", "PAYOUT_", "LEDGER_")) and name not in SETTINGS_TO_DROP}
    return {
        **inherited, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": web_api.base_url, "DATABASE_URL": database,
        "PAYOUT_APPROVERS": "U_BOSS", "PAYOUT_REQUESTERS": "U_REQ", "PAYOUT_APPROVAL_CHANNEL": APPROVAL_CHANNEL,
    }


@pytest.fixture
def extra_settings() -> dict[str, str]:
    """More environment for the app; a test parametrizes it to change a setting."""
    return {}


@pytest.fixture
def app(web_api: SlackApiDouble, socket_mode: SocketModeDouble, ledger: Database, tmp_path: Path,
        extra_settings: dict[str, str]) -> Iterator[SocketApp]:
    """`payouts socket` connected to the doubles; stopped afterwards, and every payload it sent checked."""
    web_api.socket_mode_url = socket_mode.url
    log = tmp_path / "socket.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "socket"],
            env={**app_environment(web_api, ledger.url), **extra_settings}, stdout=sink, stderr=subprocess.STDOUT,
        )
    running = SocketApp(process, log)
    try:
        socket_mode.wait_until(lambda: socket_mode.connections_opened >= 1 or process.poll() is not None,
                               START_TIMEOUT, "payouts socket to connect")
        if process.poll() is not None:
            raise AssertionError(f"payouts socket exited with {process.returncode}:\n{running.output()}")
        yield running
    finally:
        stop(process, socket_mode)
    assert socket_mode.protocol_errors == []
    for call in web_api.calls():
        check_call(call)


def stop(process: subprocess.Popen[bytes], socket_mode: SocketModeDouble) -> None:
    """SIGTERM, as a platform stops a worker; killed if it has not exited within the timeout."""
    if process.poll() is None:
        process.terminate()
        socket_mode.drop_all()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise


def slash_command(web_api: SlackApiDouble, text: str, command: str = "/ledger", user: str = "U_REQ",
                  channel: str = "C_FIN") -> dict[str, Any]:
    """The payload of a `slash_commands` envelope: the fields Slack would form-encode over HTTP."""
    body = command_body(command, text, user_id=user, channel_id=channel, response_url=web_api.response_url())
    return dict(parse_qsl(body))


def click(web_api: SlackApiDouble, action: str, value: str, user: str, channel: str,
          message_ts: str = "1700000000.000999") -> dict[str, Any]:
    """The payload of an `interactive` envelope for a button click (block_actions)."""
    body = block_action_body(action, value, user, channel, message_ts, web_api.response_url("click"))
    return json.loads(dict(parse_qsl(body))["payload"])


def acknowledged_promptly(socket_mode: SocketModeDouble, envelope_id: str) -> dict[str, Any]:
    ack = socket_mode.wait_for_ack(envelope_id, timeout=10)
    assert socket_mode.ack_seconds(envelope_id) < ACK_LIMIT
    return ack


def pending_batch(db: Database) -> str:
    """A June batch requested by U_REQ and waiting for an approver."""
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                                   date(2015, 7, 1))
    with db.write() as session:
        return batches.request_batch(session, options, actor="U_REQ", now=Settings().now()).batch_id


def payments(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Entry.amount).where(Entry.kind == "payment")))


# ---- the connection ---------------------------------------------------------------------------


def test_the_app_opens_the_url_slack_gives_it_with_the_app_token(app: SocketApp, web_api: SlackApiDouble,
                                                                socket_mode: SocketModeDouble) -> None:
    [opened] = web_api.calls("apps.connections.open")

    assert opened.headers["authorization"] == "Bearer xapp-test"
    assert socket_mode.open_connections == 1


def test_the_app_keeps_the_connection_alive_with_pings(app: SocketApp, socket_mode: SocketModeDouble) -> None:
    socket_mode.wait_until(lambda: socket_mode.pings >= 1, 10, "a ping")

    assert socket_mode.protocol_errors == []


@pytest.mark.parametrize("error", ["invalid_auth", "not_allowed_token_type"])
def test_an_app_token_slack_refuses_is_named_and_nothing_keeps_running(
        web_api: SlackApiDouble, sqlite_db: Database, monkeypatch, capsys, error: str) -> None:
    web_api.error_next("apps.connections.open", error)
    environment = app_environment(web_api, sqlite_db.url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL"):
        monkeypatch.setenv(name, environment[name])
    threads_before = threading.active_count()

    assert main(["socket"]) == 2

    assert f"Slack refused SLACK_APP_TOKEN ({error})" in capsys.readouterr().err
    assert threading.active_count() <= threads_before


# ---- slash commands ---------------------------------------------------------------------------


def test_ledger_is_acknowledged_promptly_and_its_summary_posted_to_the_channel(
        app: SocketApp, web_api: SlackApiDouble, socket_mode: SocketModeDouble) -> None:
    envelope = socket_mode.send_slash_command(slash_command(web_api, "2015-06"))

    ack = acknowledged_promptly(socket_mode, envelope)

    assert ack == {"envelope_id": envelope}
    [summary] = web_api.wait_for("chat.postMessage", timeout=15)
    assert summary.args["channel"] == "C_FIN"
    assert "Referral partner ledger 2015-06-01..2015-06-30" in summary.args["text"]
    shown = json.dumps(summary.arg("blocks"))
    assert "ANN" in shown and "123.45" in shown and "23.45" in shown and "100.00" in shown


def test_a_malformed_command_gets_the_usage_message(app: SocketApp, web_api: SlackApiDouble,
                                                    socket_mode: SocketModeDouble) -> None:
    envelope = socket_mode.send_slash_command(slash_command(web_api, "next-tuesday"))

    acknowledged_promptly(socket_mode, envelope)

    [reply] = web_api.wait_for("response_url", timeout=15)
    assert reply.args["response_type"] == "ephemeral"
    assert "Example" in reply.args["text"]
    assert web_api.calls("chat.postMessage") == []


@pytest.mark.parametrize("extra_settings", [{"LEDGER_CHANNELS": "C_FIN"}])
def test_a_channel_outside_ledger_channels_is_refused_in_the_acknowledgement(
        app: SocketApp, web_api: SlackApiDouble, socket_mode: SocketModeDouble) -> None:
    envelope = socket_mode.send_slash_command(slash_command(web_api, "2015-06", channel="C_RANDOM"))

    refusal = acknowledged_promptly(socket_mode, envelope)["payload"]

    assert refusal["response_type"] == "ephemeral"
    assert "<#C_FIN>" in refusal["text"]
    check_blocks(refusal["blocks"])


# ---- buttons and forms ------------------------------------------------------------------------


def test_the_csv_button_uploads_the_ledger_csv_to_the_channel(app: SocketApp, web_api: SlackApiDouble,
                                                              socket_mode: SocketModeDouble) -> None:
    envelope = socket_mode.send_interactive(click(web_api, "ledger.csv", "2015-06-01..2015-06-30", "U_REQ", "C_FIN"))

    assert acknowledged_promptly(socket_mode, envelope) == {"envelope_id": envelope}

    web_api.wait_for("files.completeUploadExternal", timeout=20)
    [upload] = web_api.uploaded_files()
    assert upload["channel_id"] == "C_FIN" and upload["filename"].endswith(".csv")
    assert b"ANN,Ann,partner@example.com,USD,0.00,123.45,23.45,0.00,100.00" in upload["content"]


def test_an_approver_approves_a_pending_batch_and_it_is_posted(app: SocketApp, web_api: SlackApiDouble,
                                                               socket_mode: SocketModeDouble, ledger: Database) -> None:
    batch_id = pending_batch(ledger)

    envelope = socket_mode.send_interactive(click(web_api, APPROVE, batch_id, "U_BOSS", APPROVAL_CHANNEL,
                                                  message_ts="1700000000.000555"))

    acknowledged_promptly(socket_mode, envelope)
    [update] = web_api.wait_for("chat.update", timeout=15)
    assert (update.args["channel"], update.args["ts"]) == (APPROVAL_CHANNEL, "1700000000.000555")
    assert f"{batch_id} approved by U_BOSS" in update.args["text"]
    assert payments(ledger) == [10_000]


def test_someone_who_is_not_an_approver_cannot_approve(app: SocketApp, web_api: SlackApiDouble,
                                                        socket_mode: SocketModeDouble, ledger: Database) -> None:
    batch_id = pending_batch(ledger)

    envelope = socket_mode.send_interactive(click(web_api, APPROVE, batch_id, "U_STRANGER", APPROVAL_CHANNEL))

    acknowledged_promptly(socket_mode, envelope)
    [refusal] = web_api.wait_for("response_url", timeout=15)
    assert refusal.args["response_type"] == "ephemeral"
    assert "approver role" in refusal.args["text"] and "PAYOUT_APPROVERS" in refusal.args["text"]
    assert payments(ledger) == [] and web_api.calls("chat.update") == []


def test_a_form_with_bad_values_gets_its_errors_in_the_acknowledgement(app: SocketApp, web_api: SlackApiDouble,
                                                                       socket_mode: SocketModeDouble,
                                                                       ledger: Database) -> None:
    values = {"range": "junk", "method": "guess", "type": "Check", "batch": "", "date": "2015-07-01", "min": "",
              "overlap": "no"}
    body = view_submission_body("payout.request", {name: {"value": value} for name, value in values.items()},
                                "U_REQ", private_metadata='{"context":"","channel":"C_FIN"}')

    envelope = socket_mode.send_interactive(json.loads(dict(parse_qsl(body))["payload"]))

    ack = acknowledged_promptly(socket_mode, envelope)
    assert ack["payload"]["response_action"] == "errors"
    assert {"range", "method"} <= set(ack["payload"]["errors"])
    with ledger.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_an_unknown_action_id_is_acknowledged_and_logged(app: SocketApp, web_api: SlackApiDouble,
                                                         socket_mode: SocketModeDouble) -> None:
    """Bolt answers an unmatched request with 404, and over Socket Mode a 404 sends no ack at all."""
    envelope = socket_mode.send_interactive(click(web_api, "payout.unknown", "B-1", "U_REQ", "C_FIN"))

    assert acknowledged_promptly(socket_mode, envelope) == {"envelope_id": envelope}
    socket_mode.wait_until(lambda: "unknown action_id 'payout.unknown'" in app.output(), 10, "the warning")
    assert "Traceback" not in app.output()
    assert web_api.calls("response_url") == [] and web_api.calls("chat.postMessage") == []

# ---- reconnecting -----------------------------------------------------------------------------


def test_after_slack_asks_to_reconnect_the_app_answers_on_a_fresh_connection(
        app: SocketApp, web_api: SlackApiDouble, socket_mode: SocketModeDouble) -> None:
    socket_mode.send_disconnect("refresh_requested")

    socket_mode.wait_for_connection(count=2, timeout=15)
    socket_mode.drop(1)
    envelope = socket_mode.send_slash_command(slash_command(web_api, "2015-06"))

    acknowledged_promptly(socket_mode, envelope)
    assert [r.connection for r in socket_mode.received() if r.message.get("envelope_id") == envelope] == [2]
    assert len(web_api.calls("apps.connections.open")) == 2
    web_api.wait_for("chat.postMessage", timeout=15)


# ---- stopping ---------------------------------------------------------------------------------


def test_a_stop_signal_finishes_what_was_acknowledged_before_exiting(
        app: SocketApp, web_api: SlackApiDouble, socket_mode: SocketModeDouble) -> None:
    web_api.delay("files.getUploadURLExternal", 1.5)
    envelope = socket_mode.send_slash_command(slash_command(web_api, "2015-06 csv"))
    acknowledged_promptly(socket_mode, envelope)
    web_api.wait_for("chat.postMessage", timeout=15)  # the summary is out; its file is on its way

    app.process.send_signal(signal.SIGTERM)

    assert app.process.wait(timeout=30) == 0, app.output()
    [upload] = web_api.uploaded_files()
    assert upload["channel_id"] == "C_FIN" and b"ANN" in upload["content"]


# ---- the double itself ------------------------------------------------------------------------


def handshake(socket_mode: SocketModeDouble) -> socket.socket:
    """Open a WebSocket to the double by hand; return the socket, positioned after the 101 answer."""
    port = int(socket_mode.url.split(":")[2].split("/")[0])
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"GET /link/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += client.recv(1)
    assert answer.startswith(b"HTTP/1.1 101")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answer  # RFC 6455's own example
    return client


def read_exactly(client: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = client.recv(count - len(data))
        assert chunk, "the double closed the connection"
        data += chunk
    return data


def read_server_frame(client: socket.socket) -> tuple[int, bytes]:
    """(first byte, payload) of one frame from the double, which must not be masked."""
    first, second = read_exactly(client, 2)
    assert not second & 0x80, "a server frame was masked"
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(read_exactly(client, 2), "big")
    return first, read_exactly(client, length)


def test_the_double_greets_with_hello_and_refuses_an_unmasked_client_frame(socket_mode: SocketModeDouble) -> None:
    with handshake(socket_mode) as client:
        greeting, hello = read_server_frame(client)
        client.sendall(bytes([0x81, 2]) + b"{}")  # FIN + text, without the mask bit

        closing, reason = read_server_frame(client)

    assert (greeting, json.loads(hello)["type"]) == (0x81, "hello")
    assert closing == 0x88 and int.from_bytes(reason[:2], "big") == 1002
    socket_mode.wait_until(lambda: socket_mode.protocol_errors != [], 5, "the protocol error")
    assert "masking" in socket_mode.protocol_errors[0]


def test_stopping_does_not_wait_for_good_on_a_socket_that_will_not_close():
    """A dropped connection can leave the SDK's close() waiting on its reading thread's lock; the
    process must still stop after finishing its acknowledged work."""
    from bot.cli_slack import close_within

    never = threading.Event()
    started = time.monotonic()
    assert close_within(never.wait, 0.2) is False
    assert time.monotonic() - started < 5


def test_a_socket_that_closes_is_closed_before_stopping():
    from bot.cli_slack import close_within

    closed = threading.Event()
    assert close_within(closed.set, 5) is True
    assert closed.is_set()


STOP_FROM_ANOTHER_THREAD = """
import signal, threading, time
from bot.cli_slack import _stop_requested, wait_until_stopped
stop = _stop_requested()
def reader():
    time.sleep(0.2)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
    time.sleep(60)
threading.Thread(target=reader, daemon=True).start()
wait_until_stopped(stop)
print("stopped")
"""


def test_a_stop_signal_delivered_to_another_thread_still_stops_the_app():
    """Linux may hand SIGTERM to any thread, such as the Socket Mode client's reader; Python runs
    the handler in the main thread only, so the main thread must not sleep through it."""
    finished = subprocess.run([sys.executable, "-c", STOP_FROM_ANOTHER_THREAD], capture_output=True, text=True,
                              timeout=30, check=False, cwd=Path(__file__).resolve().parent.parent)

    assert (finished.returncode, finished.stdout.strip()) == (0, "stopped"), finished.stderr
