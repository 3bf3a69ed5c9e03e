"""Batches as scripts and people read them: the JSON shape of SPEC §5 and a terminal table."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, TextIO

from commands.batch_wording import conflicts_text, describe_totals, totals_text
from commands.json_text import Items, write_fields
from commands.text_table import SpooledTable, render, render_columns
from domain.batches import (
    PENDING,
    POSTED,
    REJECTED,
    VOIDED,
    BatchOptions,
    CurrencyTotal,
    Plan,
    PlannedLine,
    currency_totals,
)
from domain.money import display_formatter, format_column, format_display, format_plain
from domain.text import visible

if TYPE_CHECKING:
    from commands.use_batches import BatchRecord, StreamedBatch


def _json_body(batch_id: str, status: str, options: BatchOptions, lines: list[PlannedLine],
               skipped: list[PlannedLine]) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "status": status,
        "method": options.method,
        "payment_type": options.payment_type,
        "payment_date": options.payment_date.isoformat(),
        "start": options.period.start.isoformat(),
        "end": options.period.end.isoformat(),
        "lines": [_json_line(line) for line in lines],
        "skipped": [_json_skipped(line) for line in skipped],
        "totals": _json_totals(lines),
    }


def _json_skipped(line: PlannedLine) -> dict[str, Any]:
    return {"partner_code": line.partner_code, "reason": line.skip_reason}


def _json_totals(lines: list[PlannedLine]) -> list[dict[str, Any]]:
    return _json_total_items(currency_totals(lines))


def _json_total_items(totals: list[CurrencyTotal]) -> list[dict[str, Any]]:
    return [{"currency": total.currency, "amount": format_plain(total.amount, total.currency), "count": total.count}
            for total in totals]


def line_status(batch_status: str, line: PlannedLine) -> str:
    """A line's own status (SPEC §10): `failed` once its payment came back, else what its batch did to it."""
    if line.failure is not None:
        return "failed"
    return {PENDING: "pending", POSTED: "paid", REJECTED: "rejected", VOIDED: "voided"}.get(batch_status, batch_status)


def _json_batch_line(batch_status: str, line: PlannedLine) -> dict[str, Any]:
    """A batch's line with its status; a failed one says who recorded the failure, when and why."""
    item = {**_json_line(line), "status": line_status(batch_status, line)}
    if line.failure is not None:
        item.update(failed_by=line.failure.by, failed_at=line.failure.at.isoformat(), fail_reason=line.failure.reason)
    return item


def _json_line(line: PlannedLine) -> dict[str, Any]:
    """A paid line; one a hold reduced also says how much is held and until when (SPEC §12)."""
    item: dict[str, Any] = {"partner_code": line.partner_code, "amount": format_plain(line.amount, line.currency),
                            "currency": line.currency}
    if line.held:
        item["on_hold"] = format_plain(line.held, line.currency)
        item["held_until"] = line.held_until.isoformat() if line.held_until else None
    return item


def _held_note(line: PlannedLine) -> str:
    return f"{format_display(line.held, line.currency)} on hold until {line.held_until}" if line.held else ""


def plan_json(plan: Plan) -> dict[str, Any]:
    body = _json_body(plan.batch_id, "preview", plan.options, plan.lines, plan.skipped)
    if plan.conflicts:
        body["conflicts"] = [{"partner_code": code, "batch_ids": ids} for code, ids in sorted(plan.conflicts.items())]
    return body


def batch_json(batch: BatchRecord) -> dict[str, Any]:
    """SPEC §5's shape; `totals` counts the paid lines, `failed_totals` the failed ones (SPEC §10)."""
    body = _json_body(batch.batch_id, batch.status, batch.options, batch.paid_lines, batch.skipped)
    body["lines"] = [_json_batch_line(batch.status, line) for line in batch.lines]
    body["failed_totals"] = _json_totals(batch.failed_lines)
    body["requested_by"] = batch.requested_by
    if batch.status in (POSTED, VOIDED):
        body["approved_by"] = batch.decided_by
    if batch.status == REJECTED:
        body["rejected_by"] = batch.decided_by
    if batch.status == VOIDED:
        body["voided_by"] = batch.voided_by
        body["void_reason"] = batch.void_reason
    return body


def _failed_note(line: PlannedLine) -> str:
    failure = line.failure
    return f"FAILED {failure.at:%Y-%m-%d} by {failure.by}: {failure.reason}" if failure else ""


LINE_HEADER = ("Code", "Partner", "Cur", "Amount", "Note")
LINE_RIGHT = (False, False, False, True, False)


def _line_row(line: PlannedLine) -> list[str]:
    return [line.partner_code, line.partner_name, line.currency, format_display(line.amount, line.currency),
            _line_note(line)]


def _skipped_row(line: PlannedLine) -> list[str]:
    return [line.partner_code, line.partner_name, line.currency, "", _skipped_note(line)]


def _skipped_note(line: PlannedLine) -> str:
    return f"skipped: {line.skip_reason}"


def _line_note(line: PlannedLine) -> str:
    return _failed_note(line) if line.failure else _held_note(line) if line.held else ""


def lines_text(lines: list[PlannedLine], skipped: list[PlannedLine]) -> str:
    """The lines, then the skipped ones, as a table; built a column at a time, each column in one
    pass over the lines (a preview has 100,000)."""
    every = lines + skipped
    currencies = list(map(_currency, every))
    columns = [
        list(map(_code, every)), list(map(_name, every)), currencies,
        [*format_column(display_formatter, currencies[:len(lines)], map(_amount, lines)), *([""] * len(skipped))],
        [*map(_line_note, lines), *map(_skipped_note, skipped)],
    ]
    return render_columns(LINE_HEADER, columns, LINE_RIGHT, max_width=60)


_code, _name, _currency, _amount = (attrgetter(name) for name in ("partner_code", "partner_name", "currency", "amount"))


def plan_text(plan: Plan) -> str:
    o = plan.options
    head = (
        f"Preview of {plan.batch_id}: {o.method} for {o.period}, {o.payment_type}, paid {o.payment_date}"
        + (f", minimum {o.minimum}" if o.minimum else "")
    )
    parts = [visible(head), lines_text(plan.lines, plan.skipped), f"Total: {describe_totals(plan.totals)}"]
    if plan.conflicts:
        parts.append(visible(conflicts_text(plan.conflicts)))
    return "\n".join(parts)


def _facts(batch: BatchRecord) -> list[str]:
    facts = [
        f"{batch.batch_id}: {batch.status}",
        f"  range {batch.start_date}..{batch.end_date}, method {batch.method}, {batch.payment_type}, paid {batch.payment_date}",
        f"  requested by {batch.requested_by} at {batch.requested_at:%Y-%m-%d %H:%M} UTC",
    ]
    if batch.decided_by:
        facts.append(f"  {'approved' if batch.status in (POSTED, VOIDED) else 'rejected'} by {batch.decided_by} at {batch.decided_at:%Y-%m-%d %H:%M} UTC")
    if batch.decision_note:
        facts.append(f"  note: {batch.decision_note}")
    if batch.voided_by:
        facts.append(f"  voided by {batch.voided_by} at {batch.voided_at:%Y-%m-%d %H:%M} UTC: {batch.void_reason}")
    return [visible(fact) for fact in facts]


def _totals_lines(paid: list[CurrencyTotal], failed: list[CurrencyTotal]) -> list[str]:
    if failed:
        return [f"Total paid: {describe_totals(paid)}", f"Total failed: {describe_totals(failed)}"]
    return [f"Total: {describe_totals(paid)}"]


def batch_text(batch: BatchRecord) -> str:
    return "\n".join([*_facts(batch), lines_text(batch.lines, batch.skipped),
                      *_totals_lines(batch.totals, batch.failed_totals)])


class _Tally:
    """Paid and failed totals counted as a batch's lines go by (SPEC §10: a failed line is not paid)."""

    def __init__(self) -> None:
        self.sums: dict[bool, dict[str, list[int]]] = {False: {}, True: {}}

    def add(self, line: PlannedLine) -> PlannedLine:
        entry = self.sums[line.failed].setdefault(line.currency, [0, 0])
        entry[0] += line.amount
        entry[1] += 1
        return line

    def totals(self, *, failed: bool) -> list[CurrencyTotal]:
        return [CurrencyTotal(currency, amount, count) for currency, (amount, count) in sorted(self.sums[failed].items())]


def write_batch_text(batch: StreamedBatch, out: TextIO) -> None:
    """`batch_text` of the whole batch and a newline, from one pass over its lines: they are
    tallied and set aside in a spooled table (its columns are sized on all of them), then written."""
    tally = _Tally()
    table = SpooledTable(LINE_HEADER, LINE_RIGHT, max_width=60)
    try:
        for line in batch.lines():
            table.add(_line_row(tally.add(line)))
        for line in batch.skipped():
            table.add(_skipped_row(line))
        out.write("\n".join(_facts(batch.record)) + "\n")
        table.write(out)
    finally:
        table.close()
    out.write("\n" + "\n".join(_totals_lines(tally.totals(failed=False), tally.totals(failed=True))) + "\n")


def write_batch_json(batch: StreamedBatch, out: TextIO) -> None:
    """`document(batch_json(...))` of the whole batch, byte for byte, written as its lines are read."""
    record = batch.record
    tally = _Tally()
    lazy = {
        "lines": Items(_json_batch_line(record.status, tally.add(line)) for line in batch.lines()),
        "skipped": Items(_json_skipped(line) for line in batch.skipped()),
        "totals": lambda: _json_total_items(tally.totals(failed=False)),
        "failed_totals": lambda: _json_total_items(tally.totals(failed=True)),
    }
    write_fields(((key, lazy.get(key, value)) for key, value in batch_json(record).items()), out)


def batch_list_text(batches: list[BatchRecord], totals: dict[str, list[CurrencyTotal]]) -> str:
    if not batches:
        return "No batches yet."
    rows = [
        [b.batch_id, b.status, f"{b.start_date}..{b.end_date}", b.method, b.payment_type, describe_totals(totals[b.batch_id])]
        for b in batches
    ]
    return render(("Batch", "Status", "Range", "Method", "Type", "Total"), rows, (False,) * 6, max_width=60)


def failure_text(batch_id: str, line: PlannedLine, recorded: bool) -> str:
    """What `batch fail` did: the line reversed, or nothing because it already was."""
    failure = line.failure
    assert failure is not None
    if not recorded:
        return visible(f"{line.partner_code}'s payment in {batch_id} was already recorded as failed by {failure.by} "
                       f"at {failure.at:%Y-%m-%d %H:%M} UTC ({failure.reason}); nothing was changed.")
    return visible(f"{line.partner_code}'s payment in {batch_id} recorded as failed: "
                   f"{format_display(line.amount, line.currency)} reversed at its payment date. "
                   f"The partner can be paid again (payouts batch repay {batch_id}).")


def reconciliation_text(batch_id: str, paid: list[str], failed: list[PlannedLine], already: list[PlannedLine]) -> str:
    """A results file's summary: how many lines it confirmed paid, failed now, and had failed already."""
    head = (f"Reconciled {batch_id}: {len(paid)} paid, {len(failed)} failed"
            + (f" ({totals_text(failed)})" if failed else "") + f", {len(already)} already failed.")
    named = [f"  failed: {line.partner_code} {format_display(line.amount, line.currency)}" for line in failed]
    return "\n".join(visible(text) for text in [head, *named])
