"""Failed payments (SPEC §10): record a failed line, pay the failed partners again, reconcile a
provider's results file. Recording a failure is the approvers' (SPEC §8), checked here through
the domain's ApprovalPolicy.check_fail; the terminal operator is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.context import Request
from commands.results_files import ResultRow
from commands.use_batches import BatchRecord, record_of
from domain import batches
from domain.batches import BatchError, BatchOptions, PlannedLine
from domain.dates import DateRange


@dataclass(frozen=True)
class FailedPayment:
    """A line recorded as failed; `recorded` False: it already was, and nothing changed."""

    batch: BatchRecord
    line: PlannedLine
    recorded: bool


@dataclass(frozen=True)
class Reconciliation:
    """What a results file did: lines confirmed paid, newly failed and already failed before."""

    batch: BatchRecord
    paid: list[str]
    failed: list[PlannedLine]
    already_failed: list[PlannedLine]


class ResultsRefused(BatchError):
    """A results file that cannot be applied; nothing was recorded. The message names the rows."""

    def __init__(self, batch_id: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"the results file was refused for {batch_id}, nothing was recorded: {shown}")


def fail(request: Request, batch_id: str, partner_code: str, reason: str) -> FailedPayment:
    """One reversing payment for that line, the line marked failed; again changes nothing."""
    request.policy().check_fail(request.actor)
    with request.db.write() as session:
        failed = batches.fail_batch_line(session, batch_id, partner_code, actor=request.actor, reason=reason,
                                         now=request.settings.now())
        return FailedPayment(record_of(failed.batch), failed.line, failed.recorded)


def repay_options(request: Request, batch_id: str, *, payment_type: str | None = None,
                  payment_date: date | None = None) -> BatchOptions:
    """A batch for the partners of ID's failed lines, with ID's range, method and minimum; its
    payment type unless another is given; paid today unless another date is given."""
    with request.db.read() as session:
        record = record_of(batches.get_batch(session, batch_id))
    if not record.failed_lines:
        raise BatchError(f"{record.batch_id} has no failed lines to pay again")
    return BatchOptions(
        DateRange(record.start_date, record.end_date), record.method, payment_type or record.payment_type,
        payment_date or request.settings.today(), None, record.minimum, False,
        tuple(line.partner_code for line in record.failed_lines),
    )


def reconcile(request: Request, batch_id: str, rows: list[ResultRow]) -> Reconciliation:
    """Every failed row of a results file recorded in one unit of work, or none: a row that matches
    no paid line of the batch, or a partner listed twice with different statuses, refuses the file."""
    request.policy().check_fail(request.actor)
    with request.db.write() as session:
        batch = batches.locked_posted_batch(session, batch_id)
        lines = {line.partner_code.lower(): line for line in batches.frozen_lines(batch)[0]}
        _refuse_bad_rows(batch.batch_id, rows, lines)
        chosen = [(row, lines[row.partner_code.lower()]) for row in _first_of_each(rows)]
        paid = [line.partner_code for row, line in chosen if not row.failed]
        already = [line for row, line in chosen if row.failed and line.failed]
        to_fail = [(line, row.reason) for row, line in chosen if row.failed and not line.failed]
        failed = batches.fail_lines(session, batch, to_fail, actor=request.actor, now=request.settings.now())
        return Reconciliation(record_of(batch), paid, [done.line for done in failed], already)


def _first_of_each(rows: list[ResultRow]) -> list[ResultRow]:
    """A partner listed twice with the same status counts once."""
    seen: dict[str, ResultRow] = {}
    for row in rows:
        seen.setdefault(row.partner_code.lower(), row)
    return list(seen.values())


def _refuse_bad_rows(batch_id: str, rows: list[ResultRow], lines: dict[str, PlannedLine]) -> None:
    """Every row names a paid line of the batch, and a partner listed twice has one status; a
    failed row's reason fits where a reason is kept."""
    problems = []
    statuses: dict[str, ResultRow] = {}
    for row in rows:
        key = row.partner_code.lower()
        if key not in lines:
            problems.append(f"row {row.row}: partner '{row.partner_code}' has no paid line in {batch_id}")
            continue
        first = statuses.setdefault(key, row)
        if first.failed != row.failed:
            problems.append(f"row {row.row}: partner '{row.partner_code}' is {row.status} here but "
                            f"{first.status} in row {first.row}")
        if row.failed and len(row.reason) > batches.VOID_REASON_LENGTH:
            problems.append(f"row {row.row}: the reason is longer than {batches.VOID_REASON_LENGTH} characters")
    if problems:
        raise ResultsRefused(batch_id, problems)
