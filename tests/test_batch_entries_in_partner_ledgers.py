"""A partner's ledger reads a batch's entries through (batch, partner), not the (partner, date) index.

Migration 0017 keeps a batch's payments and their reversals out of the (partner, date) index, so that
posting 100,000 payments does not dirty a page of it per partner. A partner's ledger then reads its
entries in two parts (domain.ledger.partner_entries): the ones no batch made through that index, and
each batch's paid in the range by (batch, partner). These properties compare it with a plain read of
every entry, after batches posted, voided and with lines failed, on SQLite and on PostgreSQL; a
trigger refuses any batch entry that is not a payment dated on its batch's payment date, which the
second part relies on.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DatabaseError

from domain import batches
from domain.dates import DateRange
from domain.ledger import find_partner, partner_ledger, signed_amount
from domain.ledger_data import LedgerLine
from domain.models import Batch, Entry
from tests.factories import RECORDED, add_entry, add_partner
from tests.test_holds import entry_query_plans
from tests.test_report_fast_path import (
    add_partners,
    currencies,
    database_examples,
    days,
    fail_lines,
    movements,
    paid_codes,
    post_batch,
    ranges,
    record,
    void,
)

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def plain_ledger(db, code: str, period: DateRange) -> tuple[int, list[LedgerLine]]:
    """The beginning balance and lines of a partner's ledger from every entry it has, read without
    any index in mind: the yardstick."""
    with db.read() as session:
        partner = find_partner(session, code)
        before = session.scalar(select(func.sum(signed_amount())).where(
            Entry.partner_id == partner.id, Entry.effective_date < period.start)) or 0
        found = session.execute(
            select(Entry.id, Entry.effective_date, Entry.kind, Entry.reference, Entry.description, Entry.amount,
                   Batch.batch_id)
            .outerjoin(Batch, Batch.id == Entry.batch_pk)
            .where(Entry.partner_id == partner.id, Entry.effective_date.between(period.start, period.end))
            .order_by(Entry.effective_date, Entry.id)
        ).all()
    balance, lines = int(before), []
    for entry_id, day, kind, reference, description, amount, batch_id in found:
        effect = amount if kind == "commission" else -amount
        balance += effect
        lines.append(LedgerLine(entry_id, day, kind, reference, description or "", effect, balance, batch_id))
    return int(before), lines


def assert_ledgers_read_every_entry(db, codes: list[str], periods: list[DateRange]) -> None:
    for period in periods:
        for code in codes:
            with db.read() as session:
                ledger = partner_ledger(session, code, period)
            assert (ledger.beginning_balance, ledger.lines) == plain_ledger(db, code, period), (code, period)


@database_examples
@given(chosen=currencies, moves=st.lists(movements, min_size=1, max_size=20), batch_range=ranges(),
       method=st.sampled_from(batches.METHODS), payment_day=days, second_day=days,
       failing=st.sets(st.integers(0, 2)), voided=st.booleans(), periods=st.lists(ranges(), min_size=1, max_size=3))
def test_partner_ledgers_show_every_batch_payment_void_and_failure_as_a_plain_read_of_the_entries(
    db, chosen, moves, batch_range, method, payment_day, second_day, failing, voided, periods
):
    codes = add_partners(db, chosen)
    record(db, codes, moves)
    first = post_batch(db, batch_range, method, payment_day)
    if first is not None:
        failed = [code for code in paid_codes(db, first, codes) if codes.index(code) in failing]
        fail_lines(db, first, failed)
    record(db, codes, moves[:3])
    second = post_batch(db, batch_range, "ending-balance", second_day)
    if second is not None and voided:
        void(db, second)
    assert_ledgers_read_every_entry(db, codes, [batch_range, *periods])


def _posted_june(db) -> str:
    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
    batch_id = post_batch(db, JUNE, "ending-balance", date(2015, 7, 3))
    assert batch_id is not None
    return batch_id


def _batch_entry(db, batch_id: str, kind: str, day: date) -> None:
    with db.write() as s:
        batch = batches.get_batch(s, batch_id)
        ann = find_partner(s, "ANN")
        s.execute(insert(Entry), [{
            "partner_id": ann.id, "kind": kind, "amount": 1, "currency": "USD", "effective_date": day,
            "reference": f"{batch_id}-extra", "description": "", "recorded_at": RECORDED, "recorded_by": "test",
            "batch_pk": batch.id,
        }])


def test_a_batch_entry_dated_other_than_its_batchs_payment_date_is_refused(db):
    batch_id = _posted_june(db)
    with pytest.raises(DatabaseError, match="an entry of a batch is a payment dated on the batch's payment date"):
        _batch_entry(db, batch_id, "payment", date(2015, 7, 4))


def test_a_batch_entry_that_is_not_a_payment_is_refused(db):
    batch_id = _posted_june(db)
    with pytest.raises(DatabaseError, match="an entry of a batch is a payment dated on the batch's payment date"):
        _batch_entry(db, batch_id, "commission", date(2015, 7, 3))


def test_a_batch_entry_on_its_payment_date_is_kept(db):
    batch_id = _posted_june(db)
    _batch_entry(db, batch_id, "payment", date(2015, 7, 3))
    with db.read() as s:
        assert [line.batch_id for line in partner_ledger(s, "ANN", DateRange(date(2015, 7, 1), date(2015, 7, 31))).lines] \
            == [batch_id, batch_id]


def test_a_partners_ledger_reads_entries_by_index_only(sqlite_db):
    """SQLite's plans: the entries no batch made through the (partner, date) index, a batch's by
    (batch, partner); never a scan of the entries."""
    def ledgers(session) -> None:  # type: ignore[no-untyped-def]
        partner_ledger(session, "ANN", JUNE)

    plans = entry_query_plans(sqlite_db, ledgers)
    assert plans and not [plan for plan in plans if "SCAN entry" in plan], plans
    unbatched = [plan for plan in plans if "ix_entry_partner_date (partner_id=? AND effective_date" in plan]
    batched = [plan for plan in plans if "ix_entry_batch_partner (batch_pk=? AND partner_id=?)" in plan]
    assert len(unbatched) == len(batched) == 2 and len(plans) == 4, plans  # the beginning balance, then the lines


def test_posting_leaves_the_partner_date_index_alone(sqlite_db):
    """A batch's payments are not in the (partner, date) index: it holds the commission only."""
    _posted_june(sqlite_db)
    with sqlite_db.read() as s:
        indexed = s.connection().exec_driver_sql(
            "SELECT count(*) FROM entry INDEXED BY ix_entry_partner_date WHERE partner_id > 0 AND batch_pk IS NULL"
        ).scalar()
        every = s.connection().exec_driver_sql("SELECT count(*) FROM entry").scalar()
    assert (indexed, every) == (1, 2)
