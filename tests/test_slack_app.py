"""The real Bolt app on signed requests against the local Slack Web API double (SPEC §4, §6)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from slack_bolt import App
from sqlalchemy import func, select

from bot.slack.app import create_app, create_runtime
from bot.slack.client import web_client
from bot.slack.settings import SlackSettings
from commands import ledger_handlers
from commands.chat_payout_views import APPROVE, REJECT, START, SUBMIT, encode_options
from domain import reminders
from domain.batches import BatchOptions
from domain.dates import DateRange
from domain.models import Batch, Entry
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import block_action_body, command_body, dispatch, sign, view_submission_body
from tests.test_slack_payloads import check_blocks, check_call

SECRET = "app-signing-secret"
APPROVAL_CHANNEL = "C_APPROVE"
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))

double = pytest.fixture(running_double)


@pytest.fixture
def ledger(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann <&> Co")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
    return sqlite_db


def slack_settings(double: SlackApiDouble, **overrides) -> SlackSettings:
    values = dict(bot_token="xoxb-test", signing_secret=SECRET, api_url=double.base_url,
                  approvers=("U_BOSS", "U_REQ", "S_MANAGERS"), approval_channel=APPROVAL_CHANNEL)
    values.update(overrides)
    return SlackSettings(**values)


@pytest.fixture
def make_app(double: SlackApiDouble, settings) -> Iterator:
    """Apps built for a test; afterwards their background work is finished and every payload checked."""
    runtimes = []

    def make(db, **overrides) -> App:
        slack = slack_settings(double, **overrides)
        runtimes.append(create_runtime(slack, db, settings, client=web_client(slack)))
        return create_app(runtimes[-1])

    yield make
    for runtime in runtimes:
        runtime.shutdown()
    for call in double.calls():
        check_call(call)


@pytest.fixture
def app(make_app, ledger) -> App:
    return make_app(ledger)


def send_command(app: App, double: SlackApiDouble, text: str, command: str = "/ledger", **kwargs):
    body = command_body(command, text, response_url=double.response_url(), **kwargs)
    return dispatch(app, body, sign(body, SECRET))


def click(app: App, double: SlackApiDouble, action: str, value: str, user: str = "U_BOSS",
          channel: str = APPROVAL_CHANNEL, message_ts: str = "1700000000.000999", tag: str = "click"):
    body = block_action_body(action, value, user, channel, message_ts, double.response_url(tag))
    return dispatch(app, body, sign(body, SECRET))


def june_options() -> str:
    return encode_options(BatchOptions(JUNE, "ending-balance", "Check", date(2015, 7, 1)))


def approval_request(double: SlackApiDouble):
    [ask] = double.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == APPROVAL_CHANNEL)
    return ask


def announced(db) -> tuple[str | None, str | None]:
    with db.read() as s:
        batch = s.scalars(select(Batch)).one()
        return batch.announcement_channel, batch.announcement_ref


def request_batch(app: App, double: SlackApiDouble, db) -> str:
    """Submit the June preview from C_FIN; the batch ID, once its approval request is posted and remembered."""
    assert click(app, double, SUBMIT, june_options(), user="U_REQ", channel="C_FIN", tag="submit").status == 200
    [actions] = [b for b in approval_request(double).arg("blocks") if b["type"] == "actions"]
    deadline = time.monotonic() + 5
    while announced(db)[1] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return actions["elements"][0]["value"]


def payments(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Entry.id)).where(Entry.kind == "payment"))


# ---- signatures -------------------------------------------------------------------------------


def test_a_forged_signature_gets_401(app: App, double: SlackApiDouble) -> None:
    body = command_body("/ledger", "2015-06", response_url=double.response_url())

    assert dispatch(app, body, sign(body, "not-the-secret")).status == 401


def test_a_stale_timestamp_gets_401(app: App, double: SlackApiDouble) -> None:
    body = command_body("/ledger", "2015-06", response_url=double.response_url())

    assert dispatch(app, body, sign(body, SECRET, int(time.time()) - 301)).status == 401


# ---- /ledger ----------------------------------------------------------------------------------


def test_ledger_is_acknowledged_at_once_while_a_slow_report_runs(app, double, monkeypatch) -> None:
    real_report = ledger_handlers.report

    def slow_report(request, command):
        time.sleep(4)
        return real_report(request, command)

    monkeypatch.setattr(ledger_handlers, "report", slow_report)

    started = time.monotonic()
    response = send_command(app, double, "2015-06-01..2015-06-30 csv")
    acked = time.monotonic() - started

    assert response.status == 200
    assert acked < 3
    [summary] = double.wait_for("chat.postMessage", timeout=15)
    assert summary.args["channel"] == "C_FIN"
    double.wait_for("files.completeUploadExternal", timeout=15)
    [upload] = double.uploaded_files()
    assert upload["channel_id"] == "C_FIN" and upload["filename"].endswith(".csv")
    assert b"ANN" in upload["content"]


def test_the_ledger_summary_escapes_partner_names_and_offers_its_buttons(app, double) -> None:
    send_command(app, double, "2015-06")

    [summary] = double.wait_for("chat.postMessage")
    blocks = summary.arg("blocks")
    assert "Ann &lt;&amp;&gt; Co" in str(blocks)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == ["CSV", "PDF", "Create payments…", "Chart"]


def test_the_pdf_button_uploads_the_printed_ledgers_to_the_channel(app, double) -> None:
    click(app, double, "ledger.pdf", "2015-06-01..2015-06-30", user="U_REQ", channel="C_FIN")

    double.wait_for("files.completeUploadExternal", timeout=20)
    [upload] = double.uploaded_files()
    assert upload["channel_id"] == "C_FIN"
    assert upload["content"].startswith(b"%PDF")


def test_a_malformed_command_gets_the_usage_message(app, double) -> None:
    assert send_command(app, double, "next-tuesday").status == 200

    [reply] = double.wait_for("response_url")
    assert reply.args["response_type"] == "ephemeral"
    assert "Example" in reply.args["text"]
    assert double.calls("chat.postMessage") == []


def test_a_channel_outside_ledger_channels_is_refused_and_nothing_is_computed(make_app, double, ledger, monkeypatch) -> None:
    app = make_app(ledger, ledger_channels=("C_FIN",))
    reports = []
    monkeypatch.setattr(ledger_handlers, "report", lambda *args: reports.append(args) or [])

    response = send_command(app, double, "2015-06", channel_id="C_RANDOM")

    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_type"] == "ephemeral"
    assert "<#C_FIN>" in answer["text"]
    check_blocks(answer["blocks"])
    time.sleep(0.3)
    assert reports == []
    assert double.calls("chat.postMessage") == [] and double.calls("response_url") == []


def test_the_channel_refusal_names_a_few_allowed_channels_and_counts_the_rest(make_app, double, ledger) -> None:
    app = make_app(ledger, ledger_channels=tuple(f"C{n:08d}" for n in range(40)))

    answer = json.loads(send_command(app, double, "2015-06", channel_id="C_RANDOM").body)

    assert answer["text"].count("<#C") == 5 and "and 35 more" in answer["text"]
    check_blocks(answer["blocks"])


def test_a_reminder_for_a_channel_outside_ledger_channels_is_refused_when_added(make_app, double, ledger) -> None:
    app = make_app(ledger, ledger_channels=("C_FIN",))

    send_command(app, double, "remind add monthly 1 09:00 <#C0123ABCD|general>", command="/payout")

    [reply] = double.wait_for("response_url")
    assert reply.args["response_type"] == "ephemeral"
    assert "C0123ABCD may not receive ledger data" in reply.args["text"]
    with ledger.read() as s:
        assert reminders.active_schedules(s) == []


# ---- /payout form -----------------------------------------------------------------------------


def test_payout_without_options_opens_the_modal_prefilled(app, double) -> None:
    send_command(app, double, "2015-06", command="/payout")

    [opened] = double.wait_for("views.open")
    view = opened.arg("view")
    assert view["callback_id"] == "payout.request"
    assert {b["block_id"] for b in view["blocks"]} >= {"range", "method", "type", "batch", "date"}
    assert '"C_FIN"' in view["private_metadata"]


def test_payout_with_every_option_previews_privately_with_a_submit_button(app, double, ledger) -> None:
    send_command(app, double, "2015-06 method=ending-balance type=Check batch=B-JUNE date=2015-07-01 min=0",
                 command="/payout")

    [preview] = double.wait_for("response_url")
    assert preview.args["response_type"] == "ephemeral"
    assert "Preview of B-JUNE" in preview.args["text"]
    [actions] = [b for b in preview.arg("blocks") if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [SUBMIT]
    with ledger.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_preview_with_a_payment_date_years_away_puts_the_date_in_the_submit_confirm_dialog(app, double) -> None:
    send_command(app, double, "2015-06 method=ending-balance type=Check batch=B-JUNE date=9999-12-31 min=0",
                 command="/payout")

    [preview] = double.wait_for("response_url")
    [actions] = [b for b in preview.arg("blocks") if b["type"] == "actions"]
    confirm = actions["elements"][0]["confirm"]
    assert "9999-12-31 is more than 366 days after today" in json.dumps(confirm)


def form_values(**overrides) -> dict:
    values = {"range": "2015-06-01..2015-06-30", "method": "ending-balance", "type": "Check",
              "batch": "", "date": "2015-07-01", "min": "", "overlap": "no"}
    values.update(overrides)
    return {name: {"value": value} for name, value in values.items()}


def submit_form(app, values, user="U_REQ"):
    body = view_submission_body("payout.request", values, user, private_metadata='{"context":"","channel":"C_FIN"}')
    return dispatch(app, body, sign(body, SECRET))


def test_the_modal_reports_validation_errors_beside_the_fields(app, double, ledger) -> None:
    response = submit_form(app, form_values(range="junk", method="guess"))

    assert response.status == 200
    assert '"response_action": "errors"' in response.body
    assert '"range"' in response.body and '"method"' in response.body
    with ledger.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_valid_modal_creates_the_batch_and_asks_the_approvers(app, double, ledger) -> None:
    response = submit_form(app, form_values())

    assert response.status == 200 and not response.body
    assert "Approval needed" in approval_request(double).args["text"]


def test_the_approval_request_is_remembered_for_updating_later(app, double, ledger) -> None:
    request_batch(app, double, ledger)

    posted = [c.args["channel"] for c in double.calls("chat.postMessage")]
    assert posted == ["C_FIN", APPROVAL_CHANNEL]  # so the double stamped the request 1700000000.000102
    assert announced(ledger) == (APPROVAL_CHANNEL, "1700000000.000102")


# ---- approval ---------------------------------------------------------------------------------


def test_the_approval_request_has_a_confirmed_approve_and_a_reject(app, double, ledger) -> None:
    request_batch(app, double, ledger)

    [actions] = [b for b in approval_request(double).arg("blocks") if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [APPROVE, REJECT]
    assert "confirm" in actions["elements"][0]


def test_an_approval_request_shows_a_forged_name_as_one_inert_row(make_app, double, sqlite_db) -> None:
    """A name stored before the import rules, holding a newline and a code fence, forges nothing."""
    forged = "Big\n```\n*:white_check_mark: CFO OK*"
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "BIG", forged), "commission", 999_900, "2015-06-10")
    app = make_app(sqlite_db)

    request_batch(app, double, sqlite_db)

    [table] = [b["text"]["text"] for b in approval_request(double).arg("blocks")
               if b["type"] == "section" and b.get("text", {}).get("text", "").startswith("```")]
    assert table.count("```") == 2 and table.count("\n") == 4  # fence, header, rule, one row, fence
    assert "Big\\nˋˋˋ\\n*:white_check_mark: CFO OK*" in table


def test_the_requester_cannot_approve_their_own_batch(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)

    click(app, double, APPROVE, batch_id, user="U_REQ", tag="self")

    [refusal] = double.wait_for("response_url")
    assert refusal.args["response_type"] == "ephemeral"
    assert "cannot approve" in refusal.args["text"]
    assert payments(ledger) == 0 and double.calls("chat.update") == []


def test_a_non_approver_is_refused(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)

    click(app, double, APPROVE, batch_id, user="U_STRANGER")

    [refusal] = double.wait_for("response_url")
    assert "approver role" in refusal.args["text"] and "PAYOUT_APPROVERS" in refusal.args["text"]
    assert payments(ledger) == 0


def test_a_user_group_member_can_approve(app, double, ledger) -> None:
    double.usergroups = {"S_MANAGERS": ["U_GROUPIE"]}
    batch_id = request_batch(app, double, ledger)

    click(app, double, APPROVE, batch_id, user="U_GROUPIE", message_ts=announced(ledger)[1])

    [update] = double.wait_for("chat.update")
    assert "approved by U_GROUPIE" in update.args["text"]
    assert payments(ledger) == 2


def test_approval_updates_the_request_without_buttons_and_tells_the_requester_with_the_csv(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]

    click(app, double, APPROVE, batch_id, message_ts=request_ts)

    [update] = double.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (APPROVAL_CHANNEL, request_ts)
    assert all(b["type"] != "actions" for b in update.arg("blocks"))
    assert "Decided by" in str(update.arg("blocks"))
    double.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == "C_FIN")
    double.wait_for("files.completeUploadExternal")
    assert [f["filename"] for f in double.uploaded_files()] == [f"{batch_id}-payouts.csv"]
    assert double.uploaded_files()[0]["channel_id"] == "C_FIN"


def test_rejection_updates_the_request_and_posts_nothing(app, double, ledger) -> None:
    """The manager clicks Reject on the approval request itself, so the request is the one message
    updated (a click elsewhere also rewrites the request: two updates)."""
    batch_id = request_batch(app, double, ledger)
    request_ts = announced(ledger)[1]

    click(app, double, REJECT, batch_id, message_ts=request_ts)

    [update] = double.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (APPROVAL_CHANNEL, request_ts)
    assert "rejected by U_BOSS" in update.args["text"]
    assert payments(ledger) == 0


def test_two_simultaneous_approve_clicks_post_once(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    on_the_request = {"message_ts": announced(ledger)[1]}
    clicks = [threading.Thread(target=click, args=(app, double, APPROVE, batch_id),
                               kwargs={"tag": f"c{i}", **on_the_request}) for i in range(2)]

    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    double.wait_for("chat.update")
    double.wait_for("response_url")
    assert payments(ledger) == 2
    time.sleep(0.3)
    assert len(double.calls("chat.update")) == 1


def test_create_payments_button_opens_the_modal(app, double) -> None:
    click(app, double, START, "2015-06-01..2015-06-30", user="U_REQ", channel="C_FIN")

    [opened] = double.wait_for("views.open")
    assert opened.args["trigger_id"].endswith("test-trigger")
    assert opened.arg("view")["callback_id"] == "payout.request"


def test_the_form_opens_while_slow_reports_occupy_their_queue(app, double, monkeypatch) -> None:
    release = threading.Event()
    real_report = ledger_handlers.report
    monkeypatch.setattr(ledger_handlers, "report", lambda *args: release.wait(10) and real_report(*args))
    for _ in range(3):
        send_command(app, double, "2015-06")

    click(app, double, START, "2015-06-01..2015-06-30", user="U_REQ", channel="C_FIN")

    try:
        double.wait_for("views.open", timeout=2)
    finally:
        release.set()


def test_a_rate_limited_post_is_retried_after_retry_after(app, double) -> None:
    double.fail_next("chat.postMessage", status=429, retry_after=1)

    send_command(app, double, "2015-06")

    posted = double.wait_for("chat.postMessage", count=2, timeout=10)
    assert [c.status for c in posted] == [429, 200]


def test_a_slack_failure_after_posting_neither_undoes_nor_repeats_it(app, double, ledger) -> None:
    batch_id = request_batch(app, double, ledger)
    double.error_next("chat.update", "message_not_found")

    click(app, double, APPROVE, batch_id, message_ts=announced(ledger)[1])

    [note] = double.wait_for("response_url", predicate=lambda c: "message_not_found" in c.args.get("text", ""))
    assert note.args["response_type"] == "ephemeral"
    assert payments(ledger) == 2
    assert len(double.calls("chat.update")) == 1
