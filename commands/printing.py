"""Printed ledgers for a report or for a batch (the copy that goes in the envelope with the check)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy.orm import Session

from commands.pdf_ledgers import BatchStamp, write_ledgers_pdf
from domain.batches import frozen_lines
from domain.dates import DateRange
from domain.ledger import LedgerReport, PartnerLedger, iter_partner_ledgers, partners_by_ids
from domain.models import Batch

PARTNERS_AT_ONCE = 500  # partner rows loaded per step: a long report never holds them all


def _report_ledgers(session: Session, report: LedgerReport, hold_days: int) -> Iterator[PartnerLedger]:
    """The report's partners' ledgers in report order, loading the partner rows a step at a time."""
    ids = [row.partner_id for row in report.rows]
    for offset in range(0, len(ids), PARTNERS_AT_ONCE):
        step = ids[offset : offset + PARTNERS_AT_ONCE]
        found = partners_by_ids(session, step)
        yield from iter_partner_ledgers(session, report.range, [found[partner_id] for partner_id in step],
                                        hold_days=hold_days)


def report_ledgers_pdf(session: Session, report: LedgerReport, out: BinaryIO, *, organisation: str, paper: str,
                       hold_days: int = 0) -> int:
    return write_ledgers_pdf(_report_ledgers(session, report, hold_days), out, organisation=organisation,
                             paper=paper)


def batch_ledgers_pdf(session: Session, batch: Batch, out: BinaryIO, *, organisation: str, paper: str,
                      hold_days: int = 0) -> int:
    """Each paid partner's ledger for the batch's range, stamped with what the batch paid them; a
    failed line's partner was not paid (SPEC §10), so it has no page."""
    paid = [line for line in frozen_lines(batch)[0] if not line.failed]
    period = DateRange(batch.start_date, batch.end_date)
    found = partners_by_ids(session, (line.partner_id for line in paid))
    partners = sorted((found[line.partner_id] for line in paid), key=lambda p: p.code)
    stamp = BatchStamp(
        batch_id=batch.batch_id, payment_date=batch.payment_date, payment_type=batch.payment_type,
        amounts={line.partner_id: (line.amount, line.currency) for line in paid},
    )
    return write_ledgers_pdf(iter_partner_ledgers(session, period, partners, hold_days=hold_days), out, organisation=organisation,
                             paper=paper, stamp=stamp)
