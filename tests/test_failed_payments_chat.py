"""Failed payments in chat (SPEC §10, §8): `/payout fail`, the status's buttons, the form, approvers only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.cli import main
from commands.chat import run_action, run_command, run_form
from commands.chat_payout_views import FAIL_FORM, FAIL_START, REPAY, SUBMIT, decode_options
from commands.context import Request
from commands.reply import FormErrors, Target
from domain import batches
from domain.batches import ApprovalPolicy, BatchOptions
from domain.dates import DateRange
from domain.models import Entry
from domain.roles import Access, Member, Roles
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble
from tests.slack_signing import dispatch, sign, view_submission_body
from tests.test_slack_app import (  # noqa: F401  (fixtures)
    APPROVAL_CHANNEL,
    SECRET,
    app,
    click,
    double,
    ledger,
    make_app,
)

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
ROLES = Roles(requesters=("U_REQ",), approvers=("U_BOSS",))
BATCH = "Batch-20150701"


@pytest.fixture
def posted(db, settings):
    """ANN and BOB paid for June by a batch U_REQ requested from C_FIN and U_BOSS approved."""
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN", "Ann"), "commission", 10_000, "2015-06-10")
        add_entry(s, add_partner(s, "BOB", "Bob", currency="EUR"), "commission", 2_000, "2015-06-12")
        batches.request_batch(s, BatchOptions(JUNE, "ending-balance", "PayPal", date(2015, 7, 1)), actor="U_REQ",
                              now=settings.now(), origin_channel="C_FIN")
    with db.write() as s:
        batches.approve_batch(s, BATCH, actor="U_BOSS", policy=ApprovalPolicy(frozenset({"U_BOSS"})),
                              now=settings.now())
    return db


def asking(db, settings, user: str = "U_BOSS") -> Request:
    return Request(db=db, settings=settings, actor=user, channel="C_FIN", approvers=frozenset({"U_BOSS"}),
                   access=Access(ROLES, Member(user, frozenset(), False)))


def reversals(db) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(Entry.reference).where(Entry.reverses_id.is_not(None))))


def test_payout_fail_records_the_line_and_tells_the_requester_which_partners_payment_failed(posted, settings):
    replies = run_command("payout", f"fail {BATCH} ANN unclaimed after 30 days", asking(posted, settings))
    done, notice = replies
    assert done.headline.startswith(f"ANN's payment of $100.00 in {BATCH} failed (unclaimed after 30 days)")
    assert [button.action for button in done.buttons] == [REPAY]
    assert (notice.target, notice.channel, notice.recipient) == (Target.CHANNEL, "C_FIN", "U_REQ")
    assert f"In your batch {BATCH}: ANN's payment of $100.00" in notice.headline
    assert reversals(posted) == [f"{BATCH}:failed"]


def test_payout_fail_by_a_requester_is_refused_naming_the_approvers_setting(posted, settings):
    [reply] = run_command("payout", f"fail {BATCH} ANN returned", asking(posted, settings, "U_REQ"))
    assert reply.is_error and "PAYOUT_APPROVERS" in reply.headline
    assert reversals(posted) == []


def test_payout_fail_without_a_reason_gets_the_usage_with_an_example(posted, settings):
    [reply] = run_command("payout", f"fail {BATCH} ANN", asking(posted, settings))
    assert reply.is_error and "fail needs the batch ID, the partner code and a reason" in reply.headline


def test_payout_fail_twice_says_it_already_was(posted, settings):
    run_command("payout", f"fail {BATCH} ANN returned", asking(posted, settings))
    [reply] = run_command("payout", f"fail {BATCH} ANN returned again", asking(posted, settings))
    assert "already recorded as failed by U_BOSS (returned); nothing was changed" in reply.headline
    assert reversals(posted) == [f"{BATCH}:failed"]


def test_a_posted_batchs_status_offers_the_failed_payment_button(posted, settings):
    [status] = run_command("payout", f"status {BATCH}", asking(posted, settings, "U_REQ"))
    assert FAIL_START in [button.action for button in status.buttons]
    assert REPAY not in [button.action for button in status.buttons]


def test_the_status_after_a_failure_lists_it_with_paid_and_failed_totals_and_offers_to_pay_again(posted, settings):
    run_command("payout", f"fail {BATCH} ANN returned: wrong account", asking(posted, settings))
    [status] = run_command("payout", f"status {BATCH}", asking(posted, settings, "U_REQ"))
    failed = next(section for section in status.sections if section.title.startswith("Failed"))
    assert failed.title == "Failed: $100.00 to 1 partner(s)"
    assert "ANN Ann: $100.00, by U_BOSS on" in failed.text and "returned: wrong account" in failed.text
    assert [(figure.label, figure.value) for figure in status.figures if figure.label.startswith("Total")] == [
        ("Total EUR", "€20.00 to 1 partner(s)")]
    assert REPAY in [button.action for button in status.buttons]


def test_the_failed_payment_button_opens_a_form_listing_the_batchs_paid_lines(posted, settings):
    [reply] = run_action(FAIL_START, BATCH, asking(posted, settings))
    assert reply.form.action == FAIL_FORM and reply.form.context == BATCH
    partner = next(field for field in reply.form.fields if field.name == "partner")
    assert partner.choices == ("ANN", "BOB")


def test_the_failed_payment_button_is_the_approvers(posted, settings):
    [reply] = run_action(FAIL_START, BATCH, asking(posted, settings, "U_REQ"))
    assert reply.form is None and "PAYOUT_APPROVERS" in reply.headline


def test_the_failed_payment_form_records_the_line(posted, settings):
    replies = run_form(FAIL_FORM, {"partner": "BOB", "reason": "blocked"}, BATCH, asking(posted, settings))
    assert replies[0].headline.startswith(f"BOB's payment of €20.00 in {BATCH} failed (blocked)")
    assert reversals(posted) == [f"{BATCH}:failed"]


def test_the_failed_payment_form_answers_a_refused_partner_beside_its_field(posted, settings):
    with pytest.raises(FormErrors) as refused:
        run_form(FAIL_FORM, {"partner": "ZED", "reason": "blocked"}, BATCH, asking(posted, settings))
    assert refused.value.errors == {"partner": f"{BATCH} has no line for partner 'ZED'"}
    assert reversals(posted) == []


def test_the_failed_payment_form_by_a_requester_is_refused(posted, settings):
    [reply] = run_form(FAIL_FORM, {"partner": "BOB", "reason": "blocked"}, BATCH, asking(posted, settings, "U_REQ"))
    assert reply.is_error and "PAYOUT_APPROVERS" in reply.headline
    assert reversals(posted) == []


def test_pay_failed_lines_again_previews_the_failed_partners_for_the_same_range_and_method(posted, settings):
    run_command("payout", f"fail {BATCH} ANN unclaimed", asking(posted, settings))
    [preview] = run_action(REPAY, BATCH, asking(posted, settings, "U_REQ"))
    assert preview.table.rows == (("ANN", "Ann", "$100.00"),)
    [submit] = preview.buttons
    options = decode_options(submit.value)
    assert (submit.action, options.period, options.method, options.partners) == (SUBMIT, JUNE, "ending-balance", ("ANN",))
    replies = run_action(SUBMIT, submit.value, asking(posted, settings, "U_REQ"))
    assert replies[0].headline.endswith("submitted for approval: $100.00 to 1 partner(s)")


def test_a_preview_limited_by_partners_pays_only_them(posted, settings):
    with posted.write() as s:
        add_entry(s, add_partner(s, "CY", "Cy"), "commission", 500, "2015-06-10")
    [preview] = run_command("payout", "2015-06 method=commission type=Check batch=B-CY date=2015-07-02 min=0 partners=CY",
                            asking(posted, settings, "U_REQ"))
    assert preview.table.rows == (("CY", "Cy", "$5.00"),)
    assert ("Only partners", "CY") in [(figure.label, figure.value) for figure in preview.figures]


def test_the_request_form_has_a_partners_field(posted, settings):
    [reply] = run_command("payout", "2015-06", asking(posted, settings, "U_REQ"))
    assert "partners" in [field.name for field in reply.form.fields]


# ---- through the real Bolt app --------------------------------------------------------------------


def _post_june(ledger) -> None:
    with ledger.write() as s:
        batches.request_and_post_batch(s, BatchOptions(JUNE, "ending-balance", "PayPal", date(2015, 7, 1)),
                                       actor="cli:op", policy=ApprovalPolicy(frozenset(), trusted_operator=True),
                                       now=datetime(2015, 7, 2, tzinfo=UTC))


def test_the_record_a_failed_payment_button_opens_the_modal_in_slack(app, double: SlackApiDouble, ledger) -> None:
    _post_june(ledger)
    click(app, double, FAIL_START, BATCH, user="U_BOSS", channel="C_FIN")

    [opened] = double.wait_for("views.open")
    view = opened.arg("view")
    assert view["callback_id"] == FAIL_FORM
    assert {block["block_id"] for block in view["blocks"]} >= {"partner", "reason"}


def test_the_failed_payment_modal_submitted_in_slack_records_the_line(app, double: SlackApiDouble, ledger) -> None:
    _post_june(ledger)
    metadata = json.dumps({"context": BATCH, "channel": "C_FIN"})
    chosen = {"value": "0", "text": {"type": "plain_text", "text": "ANN"}}
    values = {"partner": {"partner": {"type": "static_select", "selected_option": chosen}},
              "reason": {"reason": {"type": "plain_text_input", "value": "unclaimed"}}}
    body = view_submission_body(FAIL_FORM, values, "U_BOSS", private_metadata=metadata)

    response = dispatch(app, body, sign(body, SECRET))

    assert response.status == 200 and not response.body
    double.wait_for("chat.postMessage", predicate=lambda call: "failed (unclaimed)" in call.args.get("text", ""))
    assert reversals(ledger) == [f"{BATCH}:failed"]


# ---- from the terminal, to Slack ------------------------------------------------------------------


@pytest.fixture
def announced_posted(ledger) -> str:
    """June requested from C_FIN, announced in the approval channel, then posted."""
    with ledger.write() as s:
        batch = batches.request_batch(s, BatchOptions(JUNE, "ending-balance", "PayPal", date(2015, 7, 1)),
                                      actor="U_REQ", now=datetime(2015, 7, 1, tzinfo=UTC), origin_channel="C_FIN")
        batches.remember_announcement(s, batch.batch_id, APPROVAL_CHANNEL, "1700000000.000042")
    with ledger.write() as s:
        batches.approve_batch(s, batch.batch_id, actor="U_BOSS", policy=ApprovalPolicy(frozenset({"U_BOSS"})),
                              now=datetime(2015, 7, 1, tzinfo=UTC))
    return batch.batch_id


@pytest.fixture
def slack_env(double, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", double.base_url)


def test_reconciling_at_the_terminal_posts_the_summary_to_the_approval_channel(
        ledger, announced_posted, double, slack_env, tmp_path, capsys) -> None:
    results = tmp_path / "results.csv"
    results.write_text("partner_code,status,reason\nANN,failed,Unclaimed\nBOB,paid,\n", encoding="utf-8")

    status = main(["--database", ledger.url, "batch", "reconcile", announced_posted, str(results)])

    assert status == 0, capsys.readouterr().err
    [summary] = double.wait_for("chat.postMessage", predicate=lambda call: call.args.get("channel") == APPROVAL_CHANNEL)
    assert summary.args["text"].startswith(f"Results of {announced_posted} reconciled by cli:")
    assert "1 paid, 1 failed, 0 already failed" in summary.args["text"]


def test_a_failed_line_recorded_at_the_terminal_tells_the_requester_where_they_asked(
        ledger, announced_posted, double, slack_env, capsys) -> None:
    status = main(["--database", ledger.url, "batch", "fail", announced_posted, "BOB", "--reason", "returned"])

    assert status == 0, capsys.readouterr().err
    [notice] = double.wait_for("chat.postMessage", predicate=lambda call: call.args.get("channel") == "C_FIN")
    assert f"In your batch {announced_posted}: BOB's payment of €20.00" in notice.args["text"]


def test_without_a_bot_token_the_terminal_says_the_summary_was_not_posted(
        ledger, announced_posted, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    results = tmp_path / "results.csv"
    results.write_text("partner_code,status\nANN,failed\n", encoding="utf-8")

    status = main(["--database", ledger.url, "batch", "reconcile", announced_posted, str(results)])

    assert status == 0 and f"not posted to {APPROVAL_CHANNEL}: SLACK_BOT_TOKEN is not set" in capsys.readouterr().err
