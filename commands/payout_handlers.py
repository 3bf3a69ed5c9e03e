"""`/payout` in chat: each handler calls its batch use-case and renders the answer as chat replies."""

from __future__ import annotations

import io

from commands import chat_payout_views as views
from commands import use_batches, use_failures
from commands.batch_options import OptionErrors, batch_options
from commands.batch_wording import totals_text
from commands.cli_batch_views import batch_list_text
from commands.context import Request
from commands.grammar_payout import FAIL_EXAMPLE, STATUS_EXAMPLE, VOID_EXAMPLE
from commands.payout_files import ExportError, provider_file_name
from commands.reply import Attachment, Button, Figure, FormErrors, Reply, Section
from commands.use_batches import BatchRecord, Decision
from domain import batches
from domain.batches import BatchError, BatchOptions
from domain.dates import DateError, DateRange


def preview(request: Request, options: BatchOptions) -> list[Reply]:
    shown = use_batches.preview(request, options)
    return [views.preview_reply(shown.plan, shown.date_warning)]


def start_form(request: Request, period: DateRange) -> list[Reply]:
    suggested = use_batches.default_plan(request, period)
    return [views.request_form(period, request.settings, suggested.batch_id, suggested)]


def submit(request: Request, options: BatchOptions) -> list[Reply]:
    """Create the pending batch and ask the approvers; nothing is posted yet."""
    batch = use_batches.request_batch(request, options)
    done = Reply(
        f"{batch.batch_id} submitted for approval: {totals_text(batch.lines)}",
        sections=[Section("An approver will approve or reject it; you will hear back here.")],
    )
    return [done, views.approval_request(batch)]


def _decided(decision: Decision, notice: Reply | None, *more: Reply) -> list[Reply]:
    """The message clicked, rewritten; the approval request wherever it is, rewritten; then the rest."""
    headline = views.decision_headline(decision)
    replies = [views.decided_request(decision.batch, headline)]
    announcement = views.announcement_update(decision)
    return replies + ([announcement] if announcement else []) + list(more) + ([notice] if notice else [])


def approve(request: Request, batch_id: str) -> list[Reply]:
    try:
        decision = use_batches.approve(request, batch_id, with_payout_csv=True)
    except (batches.NotAllowed, batches.AlreadyDecided, batches.OverlapRefused) as refused:
        return [Reply.error(f"{batch_id}: {refused}")]
    batch = decision.batch
    if decision.stale is not None:
        notice = views.requester_notice(batch, f"Your batch {batch.batch_id} needs a fresh request: {decision.stale}")
        return _decided(decision, notice, Reply.error(str(decision.stale)))
    assert decision.payout_csv is not None
    csv = Attachment(f"{batch.batch_id}-payouts.csv", decision.payout_csv.encode("utf-8"), "text/csv",
                     f"{batch.batch_id} payouts")
    headline = views.decision_headline(decision)
    printing = [views.print_button(batch), views.files_button(batch)]
    notice = views.requester_notice(batch, f"Your batch {headline}", [csv], printing)
    return _decided(decision, notice or Reply(headline, files=[csv], buttons=printing))


def reject(request: Request, batch_id: str, reason: str = "") -> list[Reply]:
    try:
        decision = use_batches.reject(request, batch_id, reason)
    except (batches.NotAllowed, batches.AlreadyDecided) as refused:
        return [Reply.error(f"{batch_id}: {refused}")]
    return _decided(decision, views.requester_notice(decision.batch, f"Your batch {views.decision_headline(decision)}"))


def void(request: Request, batch_id: str, reason: str) -> list[Reply]:
    try:
        decision = use_batches.void(request, batch_id, reason)
    except batches.NotAllowed as refused:
        return [Reply.error(str(refused))]
    except batches.UnknownBatch as unknown:
        return [Reply.error(str(unknown), VOID_EXAMPLE)]
    done = Reply(f"{decision.batch.batch_id} voided by {request.actor}: reversing entries recorded, the originals "
                 f"stay. Reason: {reason}")
    announcement = views.announcement_update(decision)
    return [done] + ([announcement] if announcement else [])


def fail(request: Request, batch_id: str, partner_code: str, reason: str) -> list[Reply]:
    """One line's payment came back: the approver hears what was reversed, the batch's requester which partner."""
    try:
        failed = use_failures.fail(request, batch_id, partner_code, reason)
    except batches.NotAllowed as refused:
        return [Reply.error(str(refused))]
    except BatchError as refused:
        return [Reply.error(str(refused), FAIL_EXAMPLE)]
    return _failed_replies(failed, request)


def _failed_replies(failed: use_failures.FailedPayment, request: Request) -> list[Reply]:
    batch, line = failed.batch, failed.line
    if not failed.recorded:
        assert line.failure is not None
        return [Reply(f"{line.partner_code}'s payment in {batch.batch_id} was already recorded as failed by "
                      f"{line.failure.by} ({line.failure.reason}); nothing was changed.", private=True)]
    headline = views.failure_headline(batch.batch_id, line, request.actor)
    notice = views.requester_notice(batch, f"In your batch {batch.batch_id}: {headline}")
    return [Reply(headline, buttons=[Button("Pay failed lines again…", views.REPAY, batch.batch_id)])] + (
        [notice] if notice else [])


def fail_form(request: Request, batch_id: str) -> list[Reply]:
    batch = use_batches.show(request, batch_id)
    if batch.status != batches.POSTED or not batch.paid_lines:
        return [Reply.error(f"{batch.batch_id} is {batch.status} with no paid line left to record as failed")]
    return [views.fail_form(batch)]


def repay(request: Request, batch_id: str) -> list[Reply]:
    """A preview for the partners of the batch's failed lines, with its range and method, submitted as usual."""
    return preview(request, use_failures.repay_options(request, batch_id))


def list_batches(request: Request) -> list[Reply]:
    listing = use_batches.list_batches(request, limit=20)
    if not listing.batches:
        return [Reply("No batches yet. Try /payout last-month", private=True)]
    text = batch_list_text(listing.batches, listing.totals)
    return [Reply(f"The {len(listing.batches)} most recent batches", sections=[Section(f"```{text}```")],
                  private=True)]


def status(request: Request, batch_id: str) -> list[Reply]:
    try:
        batch = use_batches.show(request, batch_id)
    except batches.UnknownBatch as unknown:
        return [Reply.error(str(unknown), STATUS_EXAMPLE)]
    figures = [Figure("Status", batch.status), Figure("Requested by", batch.requested_by)]
    if batch.decided_by:
        figures.append(Figure("Decided by", f"{batch.decided_by}, {batch.decided_at:%Y-%m-%d %H:%M} UTC"))
    if batch.voided_by:
        figures.append(Figure("Voided by", f"{batch.voided_by}: {batch.void_reason}"))
    return [Reply(
        f"{batch.batch_id}: {batch.status}",
        figures=figures + views.payment_totals_figures(batch.paid_lines),
        table=views.payment_lines_table(batch.lines, batch.skipped),
        sections=views.failed_section(batch) + views.skipped_section(batch.skipped), private=True,
        buttons=_status_buttons(batch),
    )]


def _status_buttons(batch: BatchRecord) -> list[Button]:
    """A pending batch can be decided from its status too, should its approval request have gone astray."""
    if batch.status == batches.PENDING:
        return views.decision_buttons(batch, len(batch.lines))
    if batch.status == batches.POSTED:
        return [views.print_button(batch), views.files_button(batch), *views.failure_buttons(batch)]
    return []


def print_ledgers(request: Request, batch_id: str) -> list[Reply]:
    """A posted batch's ledgers, each stamped with the amount paid, to go in the envelopes."""
    out = io.BytesIO()
    try:
        pages = use_batches.print_ledgers(request, batch_id, out)
    except BatchError as refused:
        return [Reply.error(str(refused))]
    pdf = Attachment(f"{batch_id}-ledgers.pdf", out.getvalue(), "application/pdf", f"{batch_id} partner ledgers")
    return [Reply(f"Printed ledgers of {batch_id}: {pages} page(s)", files=[pdf])]


def payout_files_reply(request: Request, batch_id: str) -> list[Reply]:
    """The files a finance team uploads, one per payout method and currency, or who stops them."""
    from domain.secret_box import SecretKeyError

    try:
        stored_id, files = use_batches.export_for_providers(request, batch_id)
    except (ExportError, SecretKeyError) as exc:
        return [Reply.error(f"{batch_id}: {exc}")]
    attachments = [
        Attachment(provider_file_name(stored_id, payout), payout.text.encode("utf-8"), "text/csv",
                   provider_file_name(stored_id, payout))
        for payout in files
    ]
    renamed = [f"customer ID {customer_id} is partner {code}" for payout in files for code, customer_id in payout.customer_ids]
    sections = [Section("PayPal customer IDs: " + "; ".join(renamed))] if renamed else []
    return [Reply(f"Payout files of {stored_id}: {len(files)} file(s), one per payout method and currency",
                  files=attachments, sections=sections)]


def handle_action(action: str, value: str, request: Request) -> list[Reply]:
    """Buttons: start the form, submit a preview, approve or reject a batch, print its ledgers."""
    try:
        if action == views.START:
            return start_form(request, DateRange.parse(value))
        if action == views.SUBMIT:
            return submit(request, views.decode_options(value))
        if action == views.APPROVE:
            return approve(request, value)
        if action == views.REJECT:
            return reject(request, value)
        if action == views.PRINT:
            return print_ledgers(request, value)
        if action == views.FILES:
            return payout_files_reply(request, value)
        if action == views.FAIL_START:
            return fail_form(request, value)
        if action == views.REPAY:
            return repay(request, value)
    except (BatchError, DateError) as exc:
        return [Reply.error(str(exc))]
    return [Reply.error(f"unknown action '{action}'")]


def _form_options(values: dict[str, str], request: Request) -> BatchOptions:
    try:
        options = batch_options(values, request.settings)
    except OptionErrors as bad:
        raise FormErrors(bad.errors) from None
    return options


def _fail_submitted(values: dict[str, str], batch_id: str, request: Request) -> list[Reply]:
    """The failed-payment form: a missing or refused value comes back beside its field."""
    partner, reason = (values.get("partner") or "").strip(), (values.get("reason") or "").strip()
    missing = {name: f"{label} is required" for name, label, value in
               (("partner", "the partner", partner), ("reason", "a reason", reason)) if not value}
    if missing:
        raise FormErrors(missing)
    try:
        failed = use_failures.fail(request, batch_id, partner, reason)
    except batches.NotAllowed as refused:
        return [Reply.error(str(refused))]
    except BatchError as refused:
        raise FormErrors({"reason" if "reason" in str(refused) else "partner": str(refused)[:150]}) from None
    return _failed_replies(failed, request)


def handle_form(action: str, values: dict[str, str], context: str, request: Request) -> list[Reply]:
    """The request form: bad values come back beside their fields; good ones create the batch.

    An odd payment date (batches.payment_date_warning) creates nothing yet: the answer is the
    preview, whose Submit button asks to confirm that date."""
    if action == views.FAIL_FORM:
        return _fail_submitted(values, context, request)
    if action != views.REQUEST_FORM:
        raise ValueError(f"unknown form '{action}'")
    options = _form_options(values, request)
    try:
        if use_batches.payment_date_warning(request, options):
            return preview(request, options)
        return submit(request, options)
    except batches.BatchIdTaken as exc:
        raise FormErrors({"batch": str(exc)}) from None
    except batches.OverlapRefused as exc:
        raise FormErrors({"overlap": str(exc)[:150]}) from None
    except BatchError as exc:
        raise FormErrors({"range": str(exc)}) from None
