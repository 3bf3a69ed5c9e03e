"""SPEC §8, "Decisions update every copy": however a batch is approved, rejected or voided, the
approval request in PAYOUT_APPROVAL_CHANNEL is rewritten with the decision and no buttons.

One test per way in: a click on the request, a click on another copy, the buttons of
`/payout status`, `/payout void`, `payouts batch approve|reject|void` and the shell.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, date, datetime

import pytest

from bot.cli import main
from commands.chat_payout_views import APPROVE, REJECT
from domain import batches
from domain.batches import BatchOptions
from domain.dates import DateRange
from tests.slack_double import SlackApiDouble
from tests.slack_signing import block_action_body, dispatch, sign
from tests.test_slack_app import (  # noqa: F401  (fixtures)
    APPROVAL_CHANNEL,
    SECRET,
    announced,
    app,
    click,
    double,
    ledger,
    make_app,
    payments,
    request_batch,
    send_command,
)

REQUEST_TS = "1700000000.000042"
JUNE = BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check", date(2015, 7, 1))


def _rewritten(double: SlackApiDouble, ts: str, decided: str):
    """The chat.update of the approval request at `ts`, once it arrived; it has no buttons left."""
    [update] = double.wait_for(
        "chat.update",
        predicate=lambda call: (call.args.get("channel"), call.args.get("ts")) == (APPROVAL_CHANNEL, ts)
        and decided in call.args.get("text", ""),
    )
    assert all(block["type"] != "actions" for block in update.arg("blocks"))
    return update


# ---- Slack ----------------------------------------------------------------------------------------


def test_approving_from_the_buttons_of_payout_status_rewrites_the_approval_request(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]
    body = block_action_body(APPROVE, batch_id, "U_BOSS", "C_FIN", "1700000000.000777", double.response_url("status"),
                             ephemeral=True)

    assert dispatch(app, body, sign(body, SECRET)).status == 200

    _rewritten(double, request_ts, "approved by U_BOSS")
    assert payments(ledger) == 2


def test_another_approvers_click_on_another_copy_rewrites_the_approval_request(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]

    click(app, double, REJECT, batch_id, user="U_BOSS", channel="C_FIN", message_ts="1700000000.000555")

    _rewritten(double, request_ts, "rejected by U_BOSS")
    double.wait_for("chat.update", predicate=lambda call: call.args.get("ts") == "1700000000.000555")


def test_a_click_on_the_approval_request_itself_rewrites_it_once(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]

    click(app, double, APPROVE, batch_id, message_ts=request_ts)

    _rewritten(double, request_ts, "approved by U_BOSS")
    double.wait_for("chat.postMessage", predicate=lambda call: call.args["channel"] == "C_FIN")
    assert len(double.calls("chat.update")) == 1


def test_voiding_with_payout_void_rewrites_the_approval_request(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]
    click(app, double, APPROVE, batch_id, message_ts=request_ts)
    _rewritten(double, request_ts, "approved by U_BOSS")

    send_command(app, double, f"void {batch_id} the checks were lost", command="/payout", user_id="U_BOSS")

    _rewritten(double, request_ts, "voided by U_BOSS")


# ---- the terminal ---------------------------------------------------------------------------------


@pytest.fixture
def announced_batch(ledger) -> str:
    """A pending June batch whose approval request was posted to the approval channel at REQUEST_TS."""
    with ledger.write() as s:
        batch = batches.request_batch(s, JUNE, actor="U_REQ", now=datetime(2015, 7, 1, tzinfo=UTC))
        batches.remember_announcement(s, batch.batch_id, APPROVAL_CHANNEL, REQUEST_TS)
        return batch.batch_id


@pytest.fixture
def slack_env(double, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", double.base_url)


@pytest.mark.parametrize(("args", "decided"), [
    (["approve"], "approved by cli:"),
    (["reject", "--reason", "wrong range"], "rejected by cli:"),
])
def test_deciding_with_payouts_batch_rewrites_the_approval_request(ledger, announced_batch, double, slack_env,
                                                                   capsys, args, decided) -> None:
    status = main(["--database", ledger.url, "batch", args[0], announced_batch, *args[1:]])

    assert status == 0, capsys.readouterr().err
    _rewritten(double, REQUEST_TS, decided)


def test_voiding_with_payouts_batch_rewrites_the_approval_request(ledger, announced_batch, double, slack_env,
                                                                  capsys) -> None:
    assert main(["--database", ledger.url, "batch", "approve", announced_batch]) == 0

    status = main(["--database", ledger.url, "batch", "void", announced_batch, "--reason", "lost"])

    assert status == 0, capsys.readouterr().err
    _rewritten(double, REQUEST_TS, "voided by cli:")


def test_without_a_bot_token_the_cli_says_the_approval_request_still_shows_its_buttons(
        ledger, announced_batch, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    status = main(["--database", ledger.url, "batch", "approve", announced_batch])

    err = capsys.readouterr().err
    assert status == 0
    assert f"the approval request in {APPROVAL_CHANNEL}" in err and "SLACK_BOT_TOKEN is not set" in err


def test_when_slack_refuses_the_cli_says_so_and_the_decision_stands(ledger, announced_batch, double, slack_env,
                                                                      capsys) -> None:
    double.error_next("chat.update", "message_not_found")

    status = main(["--database", ledger.url, "batch", "approve", announced_batch])

    assert status == 0 and "message_not_found" in capsys.readouterr().err
    assert payments(ledger) == 2


def test_approving_in_the_shell_rewrites_the_approval_request(ledger, announced_batch, double, slack_env,
                                                             tmp_path, monkeypatch, capsys) -> None:
    typed = f"payout status {announced_batch}\n1\ny\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))

    status = main(["--database", ledger.url, "shell", "--files-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert status == 0, out
    _rewritten(double, REQUEST_TS, "approved by cli:")
    assert f"the approval request in {APPROVAL_CHANNEL} now reads" in out
