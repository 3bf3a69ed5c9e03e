"""`/payout`: preview, request, approve, reject, list, status and void batches from chat."""

from __future__ import annotations

import io

from commands import payout_views as views
from commands.batch_views import batch_list_text, totals_text
from commands.context import Request
from commands.grammar_payout import STATUS_EXAMPLE, VOID_EXAMPLE
from commands.payout_files import ExportError, generic_csv, provider_file_name, provider_files
from commands.reply import Attachment, Button, Figure, FormErrors, Reply, Section
from domain import batches
from domain.batches import ApprovalPolicy, BatchError, BatchOptions
from domain.dates import DateError, DateRange, parse_date, parse_range
from domain.ledger import partners_by_ids
from domain.models import Batch


def policy_for(request: Request) -> ApprovalPolicy:
    return ApprovalPolicy(request.approvers, request.settings.require_separate_approver, request.trusted_operator)


def preview(request: Request, options: BatchOptions) -> list[Reply]:
    with request.db.read() as session:
        plan = batches.plan_batch(session, options, hold_days=request.settings.hold_days)
    return [views.preview_reply(plan, batches.payment_date_warning(options, request.settings.today()))]


def start_form(request: Request, period: DateRange) -> list[Reply]:
    with request.db.read() as session:
        suggested = batches.plan_batch(session, _default_options(request, period),
                                       hold_days=request.settings.hold_days)
    return [views.request_form(period, request.settings, suggested.batch_id, suggested)]


def _default_options(request: Request, period: DateRange) -> BatchOptions:
    return BatchOptions(period, "ending-balance", request.settings.payment_types[0], request.settings.today())


def submit(request: Request, options: BatchOptions) -> list[Reply]:
    """Create the pending batch and ask the approvers; nothing is posted yet."""
    with request.db.write() as session:
        batch = batches.request_batch(session, options, actor=request.actor, now=request.settings.now(),
                                      origin_channel=request.channel, hold_days=request.settings.hold_days)
        lines, _ = batches.frozen_lines(batch)
        ask = views.approval_request(batch)
    done = Reply(
        f"{batch.batch_id} submitted for approval: {totals_text(lines)}",
        sections=[Section("An approver will approve or reject it; you will hear back here.")],
    )
    return [done, ask]


def _payout_csv(session, batch: Batch) -> Attachment:  # type: ignore[no-untyped-def]
    lines, _ = batches.frozen_lines(batch)
    partners = partners_by_ids(session, (line.partner_id for line in lines))
    text = generic_csv(batch, lines, partners)
    return Attachment(f"{batch.batch_id}-payouts.csv", text.encode("utf-8"), "text/csv", f"{batch.batch_id} payouts")


def approve(request: Request, batch_id: str) -> list[Reply]:
    try:
        with request.db.write() as session:
            batch = batches.approve_batch(session, batch_id, actor=request.actor, policy=policy_for(request),
                                          now=request.settings.now(), hold_days=request.settings.hold_days)
            lines, _ = batches.frozen_lines(batch)
            csv = _payout_csv(session, batch)
            headline = f"{batch_id} approved by {request.actor} and posted: {totals_text(lines)}"
            replies = [views.decided_request(batch, headline)]
    except batches.StaleBatch as stale:
        return _after_stale(request, batch_id, stale)
    except (batches.NotAllowed, batches.AlreadyDecided, batches.OverlapRefused) as refused:
        return [Reply.error(f"{batch_id}: {refused}")]
    printing = [views.print_button(batch), views.files_button(batch)]
    notice = views.requester_notice(batch, f"Your batch {headline}", [csv], printing)
    replies.append(notice or Reply(headline, files=[csv], buttons=printing))
    return replies


def _after_stale(request: Request, batch_id: str, stale: batches.StaleBatch) -> list[Reply]:
    headline = f"{batch_id} was not posted: the ledger changed since it was requested"
    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        replies = [views.decided_request(batch, headline), Reply.error(str(stale))]
    notice = views.requester_notice(batch, f"Your batch {batch_id} needs a fresh request: {stale}")
    return replies + ([notice] if notice else [])


def reject(request: Request, batch_id: str, reason: str = "") -> list[Reply]:
    headline = f"{batch_id} rejected by {request.actor}; nothing was posted"
    try:
        with request.db.write() as session:
            batch = batches.reject_batch(session, batch_id, actor=request.actor, policy=policy_for(request),
                                         now=request.settings.now(), reason=reason)
            replaced = views.decided_request(batch, headline)
    except (batches.NotAllowed, batches.AlreadyDecided) as refused:
        return [Reply.error(f"{batch_id}: {refused}")]
    notice = views.requester_notice(batch, f"Your batch {headline}")
    return [replaced] + ([notice] if notice else [])


def list_batches(request: Request) -> list[Reply]:
    with request.db.read() as session:
        found = batches.list_batches(session, limit=20)
        text = batch_list_text(found, batches.paid_totals(session, found))
    if not found:
        return [Reply("No batches yet. Try /payout last-month", private=True)]
    return [Reply(f"The {len(found)} most recent batches", sections=[Section(f"```{text}```")], private=True)]


def status(request: Request, batch_id: str) -> list[Reply]:
    with request.db.read() as session:
        try:
            batch = batches.get_batch(session, batch_id)
        except batches.UnknownBatch as unknown:
            return [Reply.error(str(unknown), STATUS_EXAMPLE)]
        lines, skipped = batches.frozen_lines(batch)
        figures = [Figure("Status", batch.status), Figure("Requested by", batch.requested_by)]
        if batch.decided_by:
            figures.append(Figure("Decided by", f"{batch.decided_by}, {batch.decided_at:%Y-%m-%d %H:%M} UTC"))
        if batch.voided_by:
            figures.append(Figure("Voided by", f"{batch.voided_by}: {batch.void_reason}"))
        reply = Reply(
            f"{batch.batch_id}: {batch.status}",
            figures=figures + views.totals_figures(lines), table=views.lines_table(lines, skipped),
            sections=views.skipped_section(skipped), private=True,
            buttons=_status_buttons(batch, len(lines)),
        )
    return [reply]


def _status_buttons(batch: Batch, payments: int) -> list[Button]:
    """A pending batch can be decided from its status too, should its approval request have gone astray."""
    if batch.status == batches.PENDING:
        return views.decision_buttons(batch, payments)
    if batch.status == batches.POSTED:
        return [views.print_button(batch), views.files_button(batch)]
    return []


def print_ledgers(request: Request, batch_id: str) -> list[Reply]:
    """A posted batch's ledgers, each stamped with the amount paid, to go in the envelopes."""
    from commands.printing import batch_ledgers_pdf  # reportlab and its fonts load only when printing

    out = io.BytesIO()
    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        if batch.status != batches.POSTED:
            return [Reply.error(f"{batch_id} is {batch.status}; only a posted batch prints its ledgers")]
        pages = batch_ledgers_pdf(session, batch, out, organisation=request.settings.organisation, paper="letter",
                                  hold_days=request.settings.hold_days)
    pdf = Attachment(f"{batch_id}-ledgers.pdf", out.getvalue(), "application/pdf", f"{batch_id} partner ledgers")
    return [Reply(f"Printed ledgers of {batch_id}: {pages} page(s)", files=[pdf])]


def payout_files_reply(request: Request, batch_id: str) -> list[Reply]:
    """The files a finance team uploads, one per payout method and currency, or who stops them."""
    from domain.payout_details import read_bank_details
    from domain.secret_box import SecretBox, SecretKeyError

    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        lines, _ = batches.frozen_lines(batch)
        partners = partners_by_ids(session, (line.partner_id for line in lines))
        try:
            files = provider_files(batch, lines, partners, read_bank_details(partners.values(), SecretBox.from_env()))
        except (ExportError, SecretKeyError) as exc:
            return [Reply.error(f"{batch_id}: {exc}")]
    attachments = [
        Attachment(provider_file_name(batch_id, payout), payout.text.encode("utf-8"), "text/csv",
                   provider_file_name(batch_id, payout))
        for payout in files
    ]
    renamed = [f"customer ID {customer_id} is partner {code}" for payout in files for code, customer_id in payout.customer_ids]
    sections = [Section("PayPal customer IDs: " + "; ".join(renamed))] if renamed else []
    return [Reply(f"Payout files of {batch_id}: {len(files)} file(s), one per payout method and currency",
                  files=attachments, sections=sections)]


def void(request: Request, batch_id: str, reason: str) -> list[Reply]:
    if not request.trusted_operator and request.actor not in request.approvers:
        return [Reply.error("only a payout approver can void a batch")]
    try:
        with request.db.write() as session:
            batch = batches.void_batch(session, batch_id, actor=request.actor, reason=reason,
                                       now=request.settings.now())
    except batches.UnknownBatch as unknown:
        return [Reply.error(str(unknown), VOID_EXAMPLE)]
    return [Reply(f"{batch.batch_id} voided by {request.actor}: reversing entries recorded, the originals stay. "
                  f"Reason: {reason}")]


def handle_action(action: str, value: str, request: Request) -> list[Reply]:
    """Buttons: start the form, submit a preview, approve or reject a batch, print its ledgers."""
    try:
        if action == views.START:
            start, _, end = value.partition("..")
            return start_form(request, DateRange(parse_date(start), parse_date(end)))
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
    except (BatchError, DateError) as exc:
        return [Reply.error(str(exc))]
    return [Reply.error(f"unknown action '{action}'")]


def _form_options(values: dict[str, str], request: Request) -> BatchOptions:
    errors: dict[str, str] = {}
    period = payment_date = None
    try:
        period = parse_range(values.get("range", ""), request.settings.today())
    except DateError as exc:
        errors["range"] = str(exc)
    try:
        payment_date = parse_date(values.get("date") or request.settings.today().isoformat())
    except DateError as exc:
        errors["date"] = str(exc)
    try:
        payment_type = request.settings.payment_type(values.get("type"))
    except ValueError as exc:
        errors["type"] = str(exc)
    if values.get("method") not in batches.METHODS:
        errors["method"] = f"choose one of: {', '.join(batches.METHODS)}"
    try:
        batches.parse_minimum(values.get("min"))
    except BatchError as exc:
        errors["min"] = str(exc)
    if errors:
        raise FormErrors(errors)
    assert period is not None and payment_date is not None
    options = BatchOptions(period, values["method"], payment_type, payment_date,
                           (values.get("batch") or "").strip() or None, (values.get("min") or "").strip() or None,
                           values.get("overlap") == "allow")
    try:
        batches.validate_options(options)
    except BatchError as exc:
        raise FormErrors({"batch": str(exc)}) from None
    return options


def handle_form(action: str, values: dict[str, str], context: str, request: Request) -> list[Reply]:
    """The request form: bad values come back beside their fields; good ones create the batch.

    An odd payment date (batches.payment_date_warning) creates nothing yet: the answer is the
    preview, whose Submit button asks to confirm that date."""
    if action != views.REQUEST_FORM:
        raise ValueError(f"unknown form '{action}'")
    options = _form_options(values, request)
    try:
        if batches.payment_date_warning(options, request.settings.today()):
            return preview(request, options)
        return submit(request, options)
    except batches.BatchIdTaken as exc:
        raise FormErrors({"batch": str(exc)}) from None
    except batches.OverlapRefused as exc:
        raise FormErrors({"overlap": str(exc)[:150]}) from None
    except BatchError as exc:
        raise FormErrors({"range": str(exc)}) from None
