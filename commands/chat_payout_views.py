"""Replies about batches: previews, the request form, approval requests and decisions."""

from __future__ import annotations

import json
from dataclasses import replace

from commands.batch_wording import conflicts_text, totals_text
from commands.ranking import largest_per_currency
from commands.reply import Attachment, Button, Field, Figure, Form, Reply, Section, Style, Table, Target
from commands.use_batches import APPROVED, REJECTED, STALE, BatchRecord, Decision
from domain.batches import METHODS, BatchOptions, Plan, PlannedLine, currency_totals
from domain.dates import DateRange, parse_date
from domain.money import format_display
from domain.settings import Settings
from domain.text import visible

PREVIEW_ROWS = 15

APPROVE = "payout.approve"
REJECT = "payout.reject"
SUBMIT = "payout.submit"
START = "payout.start"
REQUEST_FORM = "payout.request"
PRINT = "payout.print"
FILES = "payout.files"
FAIL_START = "payout.fail"  # "Record a failed payment…": opens FAIL_FORM for a posted batch
FAIL_FORM = "payout.fail_form"
REPAY = "payout.repay"  # "Pay failed lines again…": a preview for the failed lines' partners
FORMS = (REQUEST_FORM, FAIL_FORM)
FORM_CHOICES = 100  # Slack's static_select offers at most 100 options; more lines are typed in
METHOD_LABELS = {
    "commission": "Commission for the range",
    "beginning-plus-commission": "Beginning balance + commission",
    "ending-balance": "Ending balance",
}


def encode_options(options: BatchOptions) -> str:
    """Options travel in a button's value, so a click carries exactly what was previewed."""
    return json.dumps({
        "range": str(options.period), "method": options.method, "type": options.payment_type,
        "date": options.payment_date.isoformat(), "batch": options.batch_id, "min": options.minimum,
        "overlap": options.allow_overlap, "partners": list(options.partners),
    }, separators=(",", ":"))


def decode_options(value: str) -> BatchOptions:
    data = json.loads(value)
    return BatchOptions(
        DateRange.parse(data["range"]), data["method"], data["type"], parse_date(data["date"]),
        data.get("batch"), data.get("min"), bool(data.get("overlap")), tuple(data.get("partners") or ()),
    )


def payment_totals_figures(lines: list[PlannedLine]) -> list[Figure]:
    return [
        Figure(f"Total {total.currency}", f"{format_display(total.amount, total.currency)} to {total.count} partner(s)")
        for total in currency_totals(lines)
    ]


def payment_lines_table(lines: list[PlannedLine], skipped: list[PlannedLine], *, limit: int = PREVIEW_ROWS) -> Table:
    shown = largest_per_currency(lines, amount=lambda line: line.amount, currency=lambda line: line.currency,
                                 limit=limit)
    rows = tuple((line.partner_code, line.partner_name, format_display(line.amount, line.currency)) for line in shown)
    several = " in each currency" if len({line.currency for line in lines}) > 1 else ""
    caption = f"Largest {limit} of {len(lines)} payments{several}" if len(lines) > limit else ""
    if skipped:
        caption = (caption + "; " if caption else "") + f"{len(skipped)} partner(s) skipped"
    return Table(("Code", "Partner", "Amount"), rows, (False, False, True), caption)


def held_totals(lines: list[PlannedLine]) -> str:
    """What holds kept out of the lines, per currency: '120.00 USD from 3 partner(s)'."""
    sums: dict[str, list[int]] = {}
    for line in lines:
        if line.held:
            total = sums.setdefault(line.currency, [0, 0])
            total[0] += line.held
            total[1] += 1
    return ", ".join(f"{format_display(amount, currency)} from {count} partner(s)"
                     for currency, (amount, count) in sorted(sums.items()))


def held_section(lines: list[PlannedLine], limit: int = 10) -> list[Section]:
    """Each line a hold reduced says how much is held and until when (SPEC §12)."""
    held = [line for line in lines if line.held]
    if not held:
        return []
    listed = "\n".join(
        f"{line.partner_code} {line.partner_name}: {format_display(line.held, line.currency)} held until {line.held_until}"
        for line in held[:limit]
    )
    more = f"\n… and {len(held) - limit} more" if len(held) > limit else ""
    return [Section(f"{listed}{more}", title=f"On hold on the payment date: {held_totals(held)}")]


def skipped_section(skipped: list[PlannedLine], limit: int = 10) -> list[Section]:
    """One line per partner, whatever its stored name holds (a newline in it shows as an escape)."""
    if not skipped:
        return []
    listed = "\n".join(visible(f"{line.partner_code} {line.partner_name}: {line.skip_reason}") for line in skipped[:limit])
    more = f"\n… and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return [Section(listed + more, title="Skipped")]


def _summary_figures(options: BatchOptions, batch_id: str) -> list[Figure]:
    figures = [
        Figure("Batch ID", batch_id), Figure("Range", str(options.period)),
        Figure("Method", METHOD_LABELS[options.method]), Figure("Payment type", options.payment_type),
        Figure("Payment date", options.payment_date.isoformat()),
    ]
    if options.minimum:
        figures.append(Figure("Minimum", options.minimum))
    if options.partners:
        figures.append(Figure("Only partners", ", ".join(options.partners)))
    return figures


def preview_reply(plan: Plan, date_warning: str | None = None) -> Reply:
    """The batch as it would be; an odd payment date is shown first and must be confirmed on Submit."""
    sections = held_section(plan.lines) + skipped_section(plan.skipped)
    pinned = replace(plan.options, batch_id=plan.batch_id)  # a second click finds the ID taken: one batch per preview
    confirm = f"Pay {plan.batch_id} on {plan.options.payment_date}? Note: {date_warning}." if date_warning else None
    buttons = [Button("Submit for approval", SUBMIT, encode_options(pinned), Style.PRIMARY, confirm=confirm)]
    if date_warning:
        sections.insert(0, Section(f"{date_warning[0].upper()}{date_warning[1:]}. Check it before submitting.",
                                   title="Payment date"))
    if plan.conflicts and not plan.options.allow_overlap:
        sections.insert(0, Section(conflicts_text(plan.conflicts) + ". Submitting is refused unless the overlap is "
                                   "allowed (overlap=allow).", title="Already paid"))
        buttons = []
    if not plan.lines:
        return Reply(f"Nobody is owed anything for {plan.options.period} by the {plan.options.method} method.",
                     sections=sections, private=True)
    return Reply(
        f"Preview of {plan.batch_id}: {len(plan.lines)} payment(s)",
        figures=_summary_figures(plan.options, plan.batch_id)[1:] + payment_totals_figures(plan.lines),
        table=payment_lines_table(plan.lines, plan.skipped), sections=sections, buttons=buttons, private=True,
    )


def _held_hint(plan: Plan | None) -> str:
    held = held_totals(plan.lines + plan.skipped) if plan is not None else ""
    return f"YYYY-MM-DD; on hold on {plan.options.payment_date}: {held}" if held else "YYYY-MM-DD"


def request_form(period: DateRange, settings: Settings, suggested_id: str, plan: Plan | None = None) -> Reply:
    """The form; `plan` is the default ending-balance batch, whose holds the form shows (SPEC §12)."""
    held = held_totals(plan.lines + plan.skipped) if plan is not None else ""
    sections = [Section(f"By the ending-balance method paid {plan.options.payment_date}, commissions still on hold "
                        f"are not paid: {held}.", title="On hold")] if plan is not None and held else []
    fields = (
        Field("range", "Date range", str(period), hint="YYYY-MM-DD..YYYY-MM-DD"),
        Field("method", "Amount method", "ending-balance", choices=METHODS),
        Field("type", "Payment type", settings.payment_types[0], choices=settings.payment_types),
        Field("batch", "Batch ID", suggested_id, hint="Batch-YYYYMMDD by default"),
        Field("date", "Payment date", settings.today().isoformat(), hint=_held_hint(plan)),
        Field("min", "Minimum payout", "", required=False, hint="skip lines under this amount"),
        Field("overlap", "Pay partners already paid for this range", "no", choices=("no", "allow")),
        Field("partners", "Only these partners", "", required=False,
              hint="partner codes, like ANN,BOB; empty: everyone"),
    )
    return Reply(
        f"Create payments for {period}",
        form=Form("Create payments", REQUEST_FORM, fields, submit_label="Submit for approval"),
        sections=sections, private=True,
    )


def failed_section(batch: BatchRecord, limit: int = 10) -> list[Section]:
    """Each failed line (SPEC §10): who recorded it, when and why."""
    failed = batch.failed_lines
    if not failed:
        return []
    listed = "\n".join(
        visible(f"{line.partner_code} {line.partner_name}: {format_display(line.amount, line.currency)}, "
                f"by {line.failure.by} on {line.failure.at:%Y-%m-%d}: {line.failure.reason}")
        for line in failed[:limit] if line.failure is not None
    )
    more = f"\n… and {len(failed) - limit} more" if len(failed) > limit else ""
    return [Section(listed + more, title=f"Failed: {totals_text(failed)}")]


def failure_buttons(batch: BatchRecord) -> list[Button]:
    """On a posted batch: record a failed line while any line stands paid; pay the failed ones again."""
    buttons = []
    if batch.paid_lines:
        buttons.append(Button("Record a failed payment…", FAIL_START, batch.batch_id))
    if batch.failed_lines:
        buttons.append(Button("Pay failed lines again…", REPAY, batch.batch_id))
    return buttons


def fail_form(batch: BatchRecord) -> Reply:
    """The form listing the batch's paid lines; the batch ID travels as the form's context."""
    codes = tuple(line.partner_code for line in batch.paid_lines)
    partner = (Field("partner", "Partner whose payment failed", codes[0], choices=codes) if len(codes) <= FORM_CHOICES
               else Field("partner", "Partner whose payment failed", "", hint="the partner code, like ANN"))
    fields = (partner, Field("reason", "Reason", "", hint="unclaimed, returned, blocked, refunded…"))
    return Reply(
        f"Record a failed payment in {batch.batch_id}",
        form=Form("Failed payment", FAIL_FORM, fields, submit_label="Record as failed", context=batch.batch_id),
        private=True,
    )


def failure_headline(batch_id: str, line: PlannedLine, actor: str) -> str:
    assert line.failure is not None
    return (f"{line.partner_code}'s payment of {format_display(line.amount, line.currency)} in {batch_id} failed "
            f"({line.failure.reason}); recorded by {actor}. The payment is reversed; "
            f"{line.partner_code} can be paid again.")


def reconciliation_reply(batch: BatchRecord, actor: str, paid: int, failed: list[PlannedLine],
                         already: int) -> Reply | None:
    """A results file's summary for the approval channel where the batch was announced; None when it never was."""
    if batch.announcement is None:
        return None
    listed = "\n".join(visible(f"{line.partner_code} {line.partner_name}: {format_display(line.amount, line.currency)}"
                                + (f" ({line.failure.reason})" if line.failure else "")) for line in failed[:20])
    more = f"\n… and {len(failed) - 20} more" if len(failed) > 20 else ""
    return Reply(
        f"Results of {batch.batch_id} reconciled by {actor}: "
        f"{paid} paid, {len(failed)} failed, {already} already failed",
        sections=[Section(listed + more, title=f"Failed now: {totals_text(failed)}")] if failed else [],
        target=Target.CHANNEL, channel=batch.announcement.channel,
    )


def approval_request(batch: BatchRecord) -> Reply:
    return Reply(
        f"Approval needed: {batch.batch_id}, {len(batch.lines)} payment(s) requested by {batch.requested_by}",
        figures=_summary_figures(batch.options, batch.batch_id)[1:] + payment_totals_figures(batch.lines),
        table=payment_lines_table(batch.lines, batch.skipped),
        sections=held_section(batch.lines) + skipped_section(batch.skipped),
        buttons=decision_buttons(batch, len(batch.lines)),
        target=Target.APPROVERS,
    )


def decision_buttons(batch: BatchRecord, payments: int) -> list[Button]:
    """Approve (behind a confirmation) and Reject; the domain decides who may press them."""
    return [
        Button("Approve", APPROVE, batch.batch_id, Style.PRIMARY,
               confirm=f"Post {batch.batch_id}: {payments} payment(s)? This records them in the ledger."),
        Button("Reject", REJECT, batch.batch_id, Style.DANGER),
    ]


def decided_request(batch: BatchRecord, headline: str) -> Reply:
    """The approval request rewritten after the decision: who decided and when, no buttons."""
    if batch.voided_by:
        decided = Figure("Voided by", f"{batch.voided_by} at {batch.voided_at:%Y-%m-%d %H:%M} UTC")
    else:
        decided = Figure("Decided by", f"{batch.decided_by} at {batch.decided_at:%Y-%m-%d %H:%M} UTC")
    notes = [batch.decision_note, f"Voided: {batch.void_reason}" if batch.void_reason else None]
    return Reply(
        headline,
        figures=[decided] + _summary_figures(batch.options, batch.batch_id)[1:] + payment_totals_figures(batch.lines),
        sections=[Section(note) for note in notes if note], target=Target.REPLACE,
    )


def decision_headline(decision: Decision) -> str:
    """What happened, as the decided request and the requester read it."""
    batch, actor = decision.batch, decision.actor
    if decision.outcome == APPROVED:
        return f"{batch.batch_id} approved by {actor} and posted: {totals_text(batch.lines)}"
    if decision.outcome == REJECTED:
        return f"{batch.batch_id} rejected by {actor}; nothing was posted"
    if decision.outcome == STALE:
        return f"{batch.batch_id} was not posted: the ledger changed since it was requested"
    return f"{batch.batch_id} voided by {actor}: reversing entries recorded, the original payments stay"


def announcement_update(decision: Decision) -> Reply | None:
    """The approval request in the approval channel, rewritten with the decision and no buttons
    (SPEC §8, "Decisions update every copy"); None when it was never posted."""
    if decision.announcement is None:
        return None
    rewritten = decided_request(decision.batch, decision_headline(decision))
    return replace(rewritten, target=Target.ANNOUNCEMENT, channel=decision.announcement.channel,
                   message_ref=decision.announcement.ref)


def print_button(batch: BatchRecord) -> Button:
    """The partners' ledgers stamped with what this batch paid them, for the envelopes."""
    return Button("Print ledgers (PDF)", PRINT, batch.batch_id)


def files_button(batch: BatchRecord) -> Button:
    """The provider-ready files, one per payout method and currency (SPEC §9)."""
    return Button("Payout files (CSV)", FILES, batch.batch_id)


def requester_notice(batch: BatchRecord, headline: str, files: list[Attachment] | None = None,
                     buttons: list[Button] | None = None) -> Reply | None:
    if not batch.origin_channel:
        return None
    return Reply(headline, files=files or [], buttons=buttons or [], target=Target.CHANNEL,
                 channel=batch.origin_channel, recipient=batch.requested_by)
