"""Printed ledgers for a report or for a batch (the copy that goes in the envelope with the check).

Neither holds the report's rows or the batch's lines: the partners to print are a list of IDs (a
few bytes each, 100,000 partners under a megabyte), and their rows, entries and, for a batch, the
amounts it paid are read PARTNERS_AT_ONCE partners at a time as the pages are drawn.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO

from sqlalchemy.orm import Session

from commands.pdf_ledgers import BatchStamp, write_ledgers_pdf
from domain.batches import paid_amounts, paid_partner_ids
from domain.dates import DateRange
from domain.ledger import iter_partner_ledgers, partners_by_ids
from domain.ledger_data import PartnerLedger
from domain.models import Batch

PARTNERS_AT_ONCE = 500  # partner rows loaded per step: a long report never holds them all


def _steps(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for offset in range(0, len(ids), PARTNERS_AT_ONCE):
        yield ids[offset : offset + PARTNERS_AT_ONCE]


def _ledgers(session: Session, period: DateRange, ids: Sequence[int], hold_days: int) -> Iterator[PartnerLedger]:
    """The partners' ledgers in the order of `ids`, loading the partner rows a step at a time."""
    for step in _steps(ids):
        found = partners_by_ids(session, step)
        yield from iter_partner_ledgers(session, period, [found[partner_id] for partner_id in step],
                                        hold_days=hold_days)


def report_ledgers_pdf(session: Session, period: DateRange, partner_ids: Sequence[int], out: BinaryIO, *,
                       organisation: str, paper: str, hold_days: int = 0) -> int:
    """The ledgers of the report's partners (`partner_ids`, in report order) for `period`; the page count."""
    return write_ledgers_pdf(_ledgers(session, period, partner_ids, hold_days), out, organisation=organisation,
                             paper=paper)


def _stamped_ledgers(session: Session, batch: Batch, ids: Sequence[int], amounts: dict[int, tuple[int, str]],
                     hold_days: int) -> Iterator[PartnerLedger]:
    """The paid partners' ledgers a step at a time, `amounts` refilled with each step's before its
    first ledger is drawn: the stamp never holds what the whole batch paid."""
    period = DateRange(batch.start_date, batch.end_date)
    for step in _steps(ids):
        amounts.clear()
        amounts.update(paid_amounts(session, batch.id, step))
        yield from _ledgers(session, period, step, hold_days)


def batch_ledgers_pdf(session: Session, batch: Batch, out: BinaryIO, *, organisation: str, paper: str,
                      hold_days: int = 0) -> int:
    """Each paid partner's ledger for the batch's range, by partner code, stamped with what the batch
    paid them; a failed line's partner was not paid (SPEC §10), so it has no page."""
    amounts: dict[int, tuple[int, str]] = {}
    stamp = BatchStamp(batch_id=batch.batch_id, payment_date=batch.payment_date, payment_type=batch.payment_type,
                       amounts=amounts)
    ids = paid_partner_ids(session, batch.id)
    return write_ledgers_pdf(_stamped_ledgers(session, batch, ids, amounts, hold_days), out,
                             organisation=organisation, paper=paper, stamp=stamp)
