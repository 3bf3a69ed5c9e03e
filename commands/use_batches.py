"""Payment batches (SPEC §3, §5, §8, §9): one use-case per thing a person does with a batch.

Each takes a Request (who asks, with what rights) and typed options, opens and commits its own
unit of work, and returns plain data that every transport renders with its own views. Roles are
checked here, once: deciding a batch through the domain's ApprovalPolicy, voiding through its
check_void.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import filterfalse
from operator import attrgetter
from typing import BinaryIO

from sqlalchemy.orm import Session

from commands.context import Request
from commands.payout_files import (
    FileSink,
    FilesInMemory,
    PayoutFile,
    format_source,
    generic_csv,
    provider_source,
    write_payout_files,
    write_provider_files,
)
from commands.payout_formats import GENERIC
from domain import batches
from domain.batches import POSTED, BatchError, BatchOptions, CurrencyTotal, Payee, Plan, PlannedLine
from domain.dates import DateRange
from domain.models import Batch
from domain.payout_details import BankDetails

APPROVED, REJECTED, STALE, VOIDED = "approved", "rejected", "stale", "voided"


_failure = attrgetter("failure")  # a failed line's Failure, else None


@dataclass(frozen=True)
class Announcement:
    """Where the approval request was posted (PAYOUT_APPROVAL_CHANNEL and its message), to rewrite it."""

    channel: str
    ref: str


@dataclass(frozen=True)
class BatchRecord:
    """A batch as it stands, with its frozen lines: what every view of a batch reads."""

    id: int
    batch_id: str
    status: str
    method: str
    start_date: date
    end_date: date
    payment_type: str
    payment_date: date
    minimum: str | None
    allow_overlap: bool
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    voided_by: str | None
    voided_at: datetime | None
    void_reason: str | None
    origin_channel: str | None
    announcement: Announcement | None
    lines: list[PlannedLine] = field(default_factory=list)
    skipped: list[PlannedLine] = field(default_factory=list)

    @property
    def options(self) -> BatchOptions:
        return BatchOptions(DateRange(self.start_date, self.end_date), self.method, self.payment_type,
                            self.payment_date, self.batch_id, self.minimum, self.allow_overlap)

    @property
    def paid_lines(self) -> list[PlannedLine]:
        """The lines whose payment stands: a failed line's was reversed (SPEC §10)."""
        return list(filterfalse(_failure, self.lines))

    @property
    def failed_lines(self) -> list[PlannedLine]:
        return list(filter(_failure, self.lines))

    @property
    def totals(self) -> list[CurrencyTotal]:
        return batches.currency_totals(self.paid_lines)

    @property
    def failed_totals(self) -> list[CurrencyTotal]:
        return batches.currency_totals(self.failed_lines)


def _record(batch: Batch, lines: list[PlannedLine] | None = None, skipped: list[PlannedLine] | None = None) -> BatchRecord:
    """The batch read out of its session; its lines are frozen_lines' unless the caller already has them."""
    if lines is None or skipped is None:
        lines, skipped = batches.frozen_lines(batch)
    announcement = (Announcement(batch.announcement_channel, batch.announcement_ref)
                    if batch.announcement_channel and batch.announcement_ref else None)
    return BatchRecord(
        batch.id, batch.batch_id, batch.status, batch.method, batch.start_date, batch.end_date, batch.payment_type,
        batch.payment_date, batch.minimum, batch.allow_overlap, batch.requested_by, batch.requested_at,
        batch.decided_by, batch.decided_at, batch.decision_note, batch.voided_by, batch.voided_at, batch.void_reason,
        batch.origin_channel, announcement, lines, skipped,
    )


def record_of(batch: Batch) -> BatchRecord:
    """A batch as every view reads it, with its frozen lines; for the other batch use-cases."""
    return _record(batch)


@dataclass(frozen=True)
class Preview:
    plan: Plan
    date_warning: str | None  # a payment date that looks mistyped, to be confirmed before submitting


@dataclass(frozen=True)
class Decision:
    """What was decided about a batch, by whom; `announcement` is the approval request to rewrite."""

    batch: BatchRecord
    outcome: str  # APPROVED, REJECTED, STALE (rejected because the ledger changed) or VOIDED
    actor: str
    stale: batches.StaleBatch | None = None
    payout_csv: str | None = None  # the posted batch's generic payout file, when asked for

    @property
    def announcement(self) -> Announcement | None:
        return self.batch.announcement


@dataclass(frozen=True)
class BatchListing:
    batches: list[BatchRecord]
    totals: dict[str, list[CurrencyTotal]]  # paid totals by batch ID


# ---- planning and requesting --------------------------------------------------------------------


def preview(request: Request, options: BatchOptions) -> Preview:
    """What the batch would pay; reserves nothing."""
    with request.db.read() as session:
        plan = batches.plan_batch(session, options, hold_days=request.settings.hold_days)
    return Preview(plan, batches.payment_date_warning(options, request.settings.today()))


def default_options(request: Request, period: DateRange) -> BatchOptions:
    """What the request form offers before anyone chooses: the ending balance, the first payment type, today."""
    return BatchOptions(period, batches.METHODS[-1], request.settings.payment_types[0], request.settings.today())


def default_plan(request: Request, period: DateRange) -> Plan:
    """What the request form's defaults would pay: its suggested batch ID and what a hold keeps back."""
    with request.db.read() as session:
        return batches.plan_batch(session, default_options(request, period), hold_days=request.settings.hold_days)


def payment_date_warning(request: Request, options: BatchOptions) -> str | None:
    return batches.payment_date_warning(options, request.settings.today())


def request_batch(request: Request, options: BatchOptions) -> BatchRecord:
    """Create the pending batch, its lines frozen; nothing is posted yet."""
    with request.db.write() as session:
        batch = batches.request_batch(session, options, actor=request.actor, now=request.settings.now(),
                                      origin_channel=request.channel, hold_days=request.settings.hold_days)
        return _record(batch)


def remember_announcement(request: Request, batch_id: str, announcement: Announcement) -> None:
    """Where the approval request went, so a decision made anywhere can rewrite it."""
    with request.db.write() as session:
        batches.remember_announcement(session, batch_id, announcement.channel, announcement.ref)


def pay_now(request: Request, options: BatchOptions) -> BatchRecord:
    """Request and post in one unit of work (the terminal's `pay --yes`)."""
    with request.db.write() as session:
        posted = batches.request_and_post_batch(session, options, actor=request.actor, policy=request.policy(),
                                                now=request.settings.now(), hold_days=request.settings.hold_days)
        return _record(posted.batch, posted.lines, posted.skipped)


# ---- deciding -----------------------------------------------------------------------------------


def approve(request: Request, batch_id: str, *, with_payout_csv: bool = False) -> Decision:
    """Post a pending batch; a batch whose ledgers changed is rejected instead (outcome STALE), and
    that rejection is committed so it is on record."""
    with request.db.write() as session:
        approval = batches.approve_batch(session, batch_id, actor=request.actor, policy=request.policy(),
                                         now=request.settings.now(), hold_days=request.settings.hold_days)
        record = _record(approval.batch, approval.lines, approval.skipped)
        if not approval.posted:
            return Decision(record, STALE, request.actor, stale=approval.stale())
        csv = _payout_csv(session, record) if with_payout_csv else None
    return Decision(record, APPROVED, request.actor, payout_csv=csv)


def _payout_csv(session: Session, record: BatchRecord) -> str:
    return generic_csv(record, record.lines, batches.payees(session, record.id))  # type: ignore[arg-type]


def reject(request: Request, batch_id: str, reason: str = "") -> Decision:
    with request.db.write() as session:
        batch = batches.reject_batch(session, batch_id, actor=request.actor, policy=request.policy(),
                                     now=request.settings.now(), reason=reason)
        return Decision(_record(batch), REJECTED, request.actor)


def void(request: Request, batch_id: str, reason: str) -> Decision:
    """Only approvers void (SPEC §8); reversing entries are recorded and the originals stay."""
    request.policy().check_void(request.actor)
    with request.db.write() as session:
        batch = batches.void_batch(session, batch_id, actor=request.actor, reason=reason,
                                   now=request.settings.now())
        return Decision(_record(batch), VOIDED, request.actor)


# ---- reading, exporting and printing ------------------------------------------------------------


def show(request: Request, batch_id: str) -> BatchRecord:
    with request.db.read() as session:
        return _record(batches.get_batch(session, batch_id))


@dataclass(frozen=True)
class StreamedBatch:
    """A batch as it stands (`record`, without its lines) and its lines as passes over the
    database, each read as it is written: how a 100,000-line batch is shown."""

    record: BatchRecord
    lines: Callable[[], Iterator[PlannedLine]]  # the paid ones, failed included, in frozen order
    skipped: Callable[[], Iterator[PlannedLine]]


@contextmanager
def streamed(request: Request, batch_id: str) -> Iterator[StreamedBatch]:
    """`show`'s batch with its lines streamed; they can be read only within the `with` block."""
    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        yield StreamedBatch(_record(batch, [], []), lambda: batches.streamed_lines(session, batch.id),
                            lambda: batches.streamed_lines(session, batch.id, skipped=True))


def list_batches(request: Request, limit: int = 50, *, with_lines: bool = False) -> BatchListing:
    """The most recent batches with their paid totals; their lines only when asked for."""
    with request.db.read() as session:
        found = batches.list_batches(session, limit=limit)
        totals = batches.paid_totals(session, found)
        records = [_record(batch) if with_lines else _record(batch, [], []) for batch in found]
    return BatchListing(records, {record.batch_id: totals[record.id] for record in records})


def export(request: Request, batch_id: str, fmt: str = GENERIC, currency: str | None = None,
           source_currency: str | None = None, *, sink: FileSink | None = None) -> list[PayoutFile]:
    """A posted batch's payout files in `fmt` (SPEC §9), optionally only one currency's lines,
    written row by row to `sink` as the lines are read; without one, in memory (their `text`)."""
    into = sink or FilesInMemory()
    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        source = format_source(lambda: batches.streamed_payees(session, batch.id), fmt)
        files = write_payout_files(batch, source, fmt, into, currency, source_currency=source_currency)
    return files if sink else into.filled(files)


def export_for_providers(request: Request, batch_id: str, currency: str | None = None,
                         source_currency: str | None = None, *,
                         sink: FileSink | None = None) -> tuple[str, list[PayoutFile]]:
    """The files a finance team uploads, one per payout method and currency (SPEC §9), with the
    batch ID as stored, written like `export`'s; bank details are decrypted here and nowhere else,
    each as its line is read, and only for a partner paid to a bank account."""
    into = sink or FilesInMemory()
    with request.db.read() as session:
        batch = batches.get_batch(session, batch_id)
        bank = _bank_reader(session, batch.id)
        source = provider_source(lambda: batches.streamed_payees(session, batch.id), bank)
        files = write_provider_files(batch, source, into, source_currency=source_currency, currency=currency)
        stored_id = batch.batch_id
    return stored_id, files if sink else into.filled(files)


def _bank_reader(session: Session, batch_pk: int) -> Callable[[Payee], BankDetails]:
    """Clear bank details from a payee's stored ones; refused up front, naming how many partners
    have some, when no key is set."""
    from domain.secret_box import SecretBox, require_box

    box = SecretBox.from_env()
    if box is None and (holders := batches.bank_detail_holders(session, batch_pk)):
        require_box(box, f"reading the bank details of {holders} partner(s)")

    def read(payee: Payee) -> BankDetails:
        if not payee.bank_details or box is None:
            return BankDetails()
        return BankDetails.from_json(box.decrypt(payee.bank_details))

    return read


def print_ledgers(request: Request, batch_id: str, out: BinaryIO, *, paper: str = "letter") -> int:
    """A posted batch's partner ledgers, stamped with what it paid, written to `out`; the page count."""
    from commands.printing import batch_ledgers_pdf  # reportlab and its fonts load only when printing

    with request.db.read() as session:
        batch = _printable(session, batch_id)
        return batch_ledgers_pdf(session, batch, out, organisation=request.settings.organisation, paper=paper,
                                 hold_days=request.settings.hold_days)


def check_printable(request: Request, batch_id: str) -> None:
    """Refuse an unknown or unposted batch before anything is written (a CLI's output file)."""
    with request.db.read() as session:
        _printable(session, batch_id)


def _printable(session: Session, batch_id: str) -> Batch:
    batch = batches.get_batch(session, batch_id)
    if batch.status != POSTED:
        raise BatchError(f"{batch.batch_id} is {batch.status}; only a posted batch prints its ledgers")
    return batch
