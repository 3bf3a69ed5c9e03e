"""The /payout flow without any transport: preview, form, submit, approve, reject, refusals."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from commands import payout_handlers
from commands.chat_payout_views import APPROVE, FAIL_START, FILES, PRINT, REJECT, START, SUBMIT, encode_options
from commands.context import Request
from commands.reply import FormErrors, Target
from domain.batches import BatchOptions
from domain.dates import DateRange
from domain.models import Batch, Entry
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
APPROVERS = frozenset({"U_BOSS", "U_REQ"})


@pytest.fixture
def ledger(db):
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann <&> Co")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
    return db


def req(db, settings, actor: str = "U_REQ", channel: str | None = "C_FIN") -> Request:
    return Request(db=db, settings=settings, actor=actor, channel=channel, approvers=APPROVERS)


def june_options(**overrides) -> BatchOptions:
    values = dict(period=JUNE, method="ending-balance", payment_type="Check", payment_date=date(2015, 7, 1))
    values.update(overrides)
    return BatchOptions(**values)


def submitted(ledger, settings) -> str:
    replies = payout_handlers.handle_action(SUBMIT, encode_options(june_options()), req(ledger, settings))
    return next(r for r in replies if r.target is Target.APPROVERS).buttons[0].value


def test_preview_lists_lines_totals_and_a_submit_button(ledger, settings):
    [reply] = payout_handlers.preview(req(ledger, settings), june_options())
    assert reply.headline == "Preview of Batch-20150701: 2 payment(s)"
    assert {f.label for f in reply.figures} >= {"Total USD", "Total EUR", "Method", "Payment date"}
    assert [b.action for b in reply.buttons] == [SUBMIT]


def test_start_opens_a_form_prefilled_with_defaults(ledger, settings):
    [reply] = payout_handlers.handle_action(START, "2015-06-01..2015-06-30", req(ledger, settings))
    defaults = {f.name: f.default for f in reply.form.fields}
    assert defaults["range"] == "2015-06-01..2015-06-30"
    assert defaults["method"] == "ending-balance" and defaults["type"] == "Check"
    assert defaults["batch"] == "Batch-20150715" and defaults["date"] == "2015-07-15"


def test_submitting_creates_a_pending_batch_and_asks_the_approvers(ledger, settings):
    replies = payout_handlers.handle_action(SUBMIT, encode_options(june_options()), req(ledger, settings))
    ask = next(r for r in replies if r.target is Target.APPROVERS)
    assert [b.action for b in ask.buttons] == [APPROVE, REJECT]
    assert ask.buttons[0].confirm and ask.buttons[0].value == "Batch-20150701"
    with ledger.read() as s:
        assert s.scalar(select(func.count(Entry.id)).where(Entry.kind == "payment")) == 0


def test_approval_posts_rewrites_the_request_and_tells_the_requester_with_the_csv(ledger, settings):
    batch_id = submitted(ledger, settings)
    replies = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    replaced = next(r for r in replies if r.target is Target.REPLACE)
    notice = next(r for r in replies if r.target is Target.CHANNEL)
    assert "approved by U_BOSS" in replaced.headline and not replaced.buttons
    assert notice.channel == "C_FIN" and notice.files[0].filename == "Batch-20150701-payouts.csv"
    assert b"Batch-20150701,ANN" in notice.files[0].content


def test_the_requester_approving_their_own_batch_gets_a_private_reason(ledger, settings):
    batch_id = submitted(ledger, settings)
    [reply] = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_REQ"))
    assert reply.private and reply.is_error and "cannot approve" in reply.headline


def test_a_non_approver_click_is_refused(ledger, settings):
    batch_id = submitted(ledger, settings)
    [reply] = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_NOBODY"))
    assert reply.is_error and "not one of the payout approvers" in reply.headline


def test_a_second_approval_says_who_already_posted(ledger, settings):
    batch_id = submitted(ledger, settings)
    payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    [reply] = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    assert "already posted by U_BOSS" in reply.headline


def test_rejecting_tells_the_requester_and_removes_the_buttons(ledger, settings):
    batch_id = submitted(ledger, settings)
    replies = payout_handlers.handle_action(REJECT, batch_id, req(ledger, settings, actor="U_BOSS"))
    assert "rejected by U_BOSS" in replies[0].headline and not replies[0].buttons
    assert replies[1].channel == "C_FIN"


def test_a_stale_batch_is_refused_and_the_request_says_so(ledger, settings):
    batch_id = submitted(ledger, settings)
    with ledger.write() as s:
        from domain.ledger import find_partner

        add_entry(s, find_partner(s, "ANN"), "commission", 500, "2015-06-20")
    replies = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    assert "ledger changed" in replies[0].headline and replies[0].target is Target.REPLACE
    assert any(r.is_error and "ANN: amount $100.00 → $105.00" in r.headline for r in replies)


def test_the_form_reports_bad_values_beside_their_fields(ledger, settings):
    values = {"range": "2015-06", "method": "ending-balance", "type": "Check", "date": "2015-02-30", "batch": ""}
    with pytest.raises(FormErrors) as caught:
        payout_handlers.handle_form("payout.request", values, "", req(ledger, settings))
    assert set(caught.value.errors) == {"date"}


def test_the_form_refuses_a_taken_batch_id_beside_the_field(ledger, settings):
    submitted(ledger, settings)
    values = {"range": "2015-06", "method": "commission", "type": "PayPal", "date": "2015-07-01",
              "batch": "Batch-20150701", "overlap": "allow"}
    with pytest.raises(FormErrors) as caught:
        payout_handlers.handle_form("payout.request", values, "", req(ledger, settings))
    assert "Batch-20150701" in caught.value.errors["batch"]


def test_a_good_form_submission_requests_the_batch(ledger, settings):
    values = {"range": "2015-06", "method": "commission", "type": "paypal", "date": "2015-07-02", "batch": ""}
    replies = payout_handlers.handle_form("payout.request", values, "", req(ledger, settings))
    assert replies[0].headline.startswith("Batch-20150702 submitted for approval")


def test_voiding_from_chat_needs_an_approver(ledger, settings):
    batch_id = submitted(ledger, settings)
    payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    [refused] = payout_handlers.void(req(ledger, settings, actor="U_NOBODY"), batch_id, "typo")
    assert refused.is_error
    [done] = payout_handlers.void(req(ledger, settings, actor="U_BOSS"), batch_id, "typo")
    assert "voided by U_BOSS" in done.headline


def test_submitting_the_same_preview_twice_creates_one_batch(ledger, settings):
    [preview] = payout_handlers.preview(req(ledger, settings), june_options())
    submit = preview.buttons[0]
    payout_handlers.handle_action(submit.action, submit.value, req(ledger, settings))
    [again] = payout_handlers.handle_action(submit.action, submit.value, req(ledger, settings))
    assert again.is_error and "Batch-20150701" in again.headline and "already taken" in again.headline
    with ledger.read() as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 1


def test_the_requester_can_print_the_posted_batchs_ledgers_for_the_envelopes(ledger, settings):
    batch_id = submitted(ledger, settings)
    replies = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    printing, _files = next(r for r in replies if r.target is Target.CHANNEL).buttons
    [reply] = payout_handlers.handle_action(printing.action, printing.value, req(ledger, settings))
    [pdf] = reply.files
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.filename == "Batch-20150701-ledgers.pdf" and pdf.mimetype == "application/pdf"
    assert "Ann <&> Co" in text and "Batch-20150701" in text and "$100.00" in text


def test_a_batchs_status_offers_approval_while_pending_and_printed_ledgers_once_posted(ledger, settings):
    batch_id = submitted(ledger, settings)
    [pending] = payout_handlers.status(req(ledger, settings), batch_id)
    payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    [posted] = payout_handlers.status(req(ledger, settings), batch_id)
    assert [(b.action, b.value) for b in pending.buttons] == [(APPROVE, batch_id), (REJECT, batch_id)]
    assert [(b.action, b.value) for b in posted.buttons] == [(PRINT, batch_id), (FILES, batch_id), (FAIL_START, batch_id)]


def test_a_pending_batch_does_not_print_as_if_paid(ledger, settings):
    batch_id = submitted(ledger, settings)
    [reply] = payout_handlers.handle_action(PRINT, batch_id, req(ledger, settings))
    assert reply.is_error and "pending" in reply.headline and not reply.files


def test_a_pending_batch_can_be_approved_from_its_status_by_another_approver(ledger, settings):
    batch_id = submitted(ledger, settings)
    [status] = payout_handlers.status(req(ledger, settings, actor="U_BOSS"), batch_id)
    approve = status.buttons[0]
    own = payout_handlers.handle_action(approve.action, approve.value, req(ledger, settings, actor="U_REQ"))
    replies = payout_handlers.handle_action(approve.action, approve.value, req(ledger, settings, actor="U_BOSS"))
    assert own[0].is_error and "cannot approve" in own[0].headline
    assert any("approved by U_BOSS and posted" in reply.headline for reply in replies)


def test_a_preview_with_a_payment_date_before_the_range_warns_and_its_submit_asks_to_confirm_the_date(ledger, settings):
    [reply] = payout_handlers.preview(req(ledger, settings), june_options(payment_date=date(2015, 5, 31)))
    assert "The payment date 2015-05-31 is before the range starts (2015-06-01)" in reply.sections[0].text
    assert "2015-05-31" in reply.buttons[0].confirm


def test_a_preview_with_a_payment_date_over_366_days_ahead_asks_to_confirm_the_date(ledger, settings):
    [reply] = payout_handlers.preview(req(ledger, settings), june_options(payment_date=date(9999, 12, 31)))
    assert "9999-12-31 is more than 366 days after today (2015-07-15)" in reply.buttons[0].confirm


def test_a_preview_with_an_ordinary_payment_date_submits_without_confirmation(ledger, settings):
    [reply] = payout_handlers.preview(req(ledger, settings), june_options())
    assert reply.buttons[0].confirm is None


def test_a_form_with_an_odd_payment_date_answers_with_the_preview_and_creates_nothing(ledger, settings):
    values = {"range": "2015-06", "method": "ending-balance", "type": "Check", "batch": "", "date": "9999-12-31",
              "min": "", "overlap": "no"}
    [reply] = payout_handlers.handle_form("payout.request", values, "", req(ledger, settings))
    assert reply.headline.startswith("Preview of Batch-99991231") and "9999-12-31" in reply.buttons[0].confirm
    with ledger.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_posted_batch_offers_its_provider_files_one_per_method_and_currency(ledger, settings):
    batch_id = submitted(ledger, settings)
    replies = payout_handlers.handle_action(APPROVE, batch_id, req(ledger, settings, actor="U_BOSS"))
    _printing, files = next(r for r in replies if r.target is Target.CHANNEL).buttons
    [reply] = payout_handlers.handle_action(files.action, files.value, req(ledger, settings))
    assert not reply.is_error, reply.headline
    assert [f.filename for f in reply.files] and all(
        f.filename.startswith(f"{batch_id}-") and f.filename.endswith(".csv") for f in reply.files)
