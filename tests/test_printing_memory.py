"""Printed ledgers hold a step of partners at a time, never the whole report or batch (issue 21:
every printed ledger under 250 MB at 100,000 partners).

Each test prints through `commands.printing` with a step of two partners and, in place of the PDF,
counts what is alive as each ledger would be drawn: partner rows, report rows and the amounts the
batch stamp knows.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime

import pytest

from commands import printing, use_ledger
from commands.context import Request
from commands.pdf_ledgers import BatchStamp
from domain import batches
from domain.dates import DateRange
from domain.db import Database
from domain.ledger import ledger_report
from domain.ledger_data import LedgerRow, PartnerLedger
from domain.models import Partner
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
NOW = datetime(2015, 7, 1, tzinfo=UTC)
CODES = ("b", "B", "a", "C", "é", "A2", "Z")  # code point order: A2 B C Z a b é


def _alive(kind: type) -> int:
    gc.collect()
    return sum(isinstance(thing, kind) for thing in gc.get_objects())


@pytest.fixture
def counted(monkeypatch) -> list[dict[str, object]]:
    """What each drawn ledger saw alive; the PDF itself is not drawn."""
    seen: list[dict[str, object]] = []

    def count(ledgers: Iterable[PartnerLedger], out, *, organisation: str, paper: str,
              stamp: BatchStamp | None = None) -> int:
        for ledger in ledgers:
            seen.append({"code": ledger.partner_code, "partners": _alive(Partner), "rows": _alive(LedgerRow),
                         "paid": dict(stamp.amounts) if stamp else None,
                         "own": stamp.amounts.get(ledger.partner_id) if stamp else None})
        return len(seen)

    monkeypatch.setattr(printing, "PARTNERS_AT_ONCE", 2)
    monkeypatch.setattr(printing, "write_ledgers_pdf", count)
    return seen


def _ledger(db: Database) -> None:
    with db.write() as s:
        for number, code in enumerate(CODES, start=1):
            add_entry(s, add_partner(s, code, f"Partner {code}"), "commission", 100 * number, "2015-06-10")


def test_printing_a_report_holds_no_more_partners_nor_report_rows_than_a_step(db, settings, counted):
    _ledger(db)
    printed = use_ledger.print_ledgers(Request.operator(db, settings, "cli:test"), JUNE, io.BytesIO())
    assert printed.partners == len(counted) == len(CODES)
    with db.read() as session:
        assert [seen["code"] for seen in counted] == [row.partner_code for row in ledger_report(session, JUNE).rows]
    assert max(seen["partners"] for seen in counted) <= 2  # type: ignore[type-var]
    assert max(seen["rows"] for seen in counted) == 0  # type: ignore[type-var]


def test_printing_a_batch_holds_a_step_of_partners_and_of_amounts_paid_in_code_point_order(db, counted):
    _ledger(db)
    options = batches.BatchOptions(JUNE, "ending-balance", "Check", date(2015, 7, 1))
    with db.write() as s:
        posted = batches.request_and_post_batch(s, options, actor="cli:test", policy=batches.ApprovalPolicy(
            frozenset(), trusted_operator=True), now=NOW)
        batch_id = posted.batch.batch_id
    with db.read() as session:
        printing.batch_ledgers_pdf(session, batches.get_batch(session, batch_id), io.BytesIO(), organisation="Acme",
                                   paper="letter")
    assert [seen["code"] for seen in counted] == sorted(CODES)
    assert max(seen["partners"] for seen in counted) <= 2  # type: ignore[type-var]
    assert max(len(seen["paid"]) for seen in counted) == 2  # type: ignore[arg-type]
    amounts = {code: (100 * number, "USD") for number, code in enumerate(CODES, start=1)}
    assert [seen["own"] for seen in counted] == [amounts[code] for code in sorted(CODES)]
