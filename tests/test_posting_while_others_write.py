"""A batch is not posted on figures another writer changed before the payments went in (PostgreSQL).

An import holds its partners' rows until it commits; a posting that plans meanwhile sees the
ledger without it, then waits at its first payment for those rows. When the import commits a
clawback, paying the balance planned before it would overpay. The payments' own row locks make the
check airtight: the posting is refused as stale and nothing of it is kept (domain.ledger_marks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from domain import batches
from domain.batches import ApprovalPolicy, BatchOptions
from domain.dates import DateRange
from domain.models import Batch, Partner
from tests.concurrent_writer import while_uncommitted
from tests.factories import RECORDED, add_entry, add_partner

pytestmark = pytest.mark.postgres

NOW = datetime(2015, 7, 1, 9, 0, tzinfo=UTC)
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
OPTIONS = BatchOptions(JUNE, "ending-balance", "Check", date(2015, 7, 1))
OPERATOR = ApprovalPolicy(frozenset(), trusted_operator=True)
CLAWBACK = text("INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
                "recorded_at, recorded_by) VALUES (:partner_id, 'clawback', 4000, 'USD', '2015-06-20', 'refund-1', "
                "'', :at, 'import')")


def _ann_owed_100(db) -> int:
    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        return ann.id


def _balance(db) -> int:
    with db.read() as s:
        return s.scalar(select(Partner.balance))


def _pay_now(db) -> None:
    with db.write() as s:
        batches.request_and_post_batch(s, OPTIONS, actor="cli:test", policy=OPERATOR, now=NOW)


def test_a_posting_that_waited_for_an_imported_clawback_is_refused_and_pays_nothing(postgres_db):
    ann = _ann_owed_100(postgres_db)
    raised = while_uncommitted(postgres_db, CLAWBACK, {"partner_id": ann, "at": RECORDED}, lambda: _pay_now(postgres_db))
    assert len(raised) == 1 and isinstance(raised[0], batches.StaleBatch)
    assert "ANN: the ledger changed while the batch was being posted" in str(raised[0])
    assert _balance(postgres_db) == 6_000
    with postgres_db.read() as s:
        assert s.scalars(select(Batch)).all() == []


def test_an_approval_that_waited_for_an_imported_clawback_is_refused_and_the_batch_stays_pending(postgres_db):
    ann = _ann_owed_100(postgres_db)
    with postgres_db.write() as s:
        batch_id = batches.request_batch(s, OPTIONS, actor="U_REQ", now=NOW).batch_id

    def approve() -> None:
        with postgres_db.write() as s:
            batches.approve_batch(s, batch_id, actor="cli:test", policy=OPERATOR, now=NOW)

    raised = while_uncommitted(postgres_db, CLAWBACK, {"partner_id": ann, "at": RECORDED}, approve)
    assert len(raised) == 1 and isinstance(raised[0], batches.StaleBatch)
    assert _balance(postgres_db) == 6_000
    with postgres_db.read() as s:
        assert batches.get_batch(s, batch_id).status == "pending"


def test_a_posting_that_waited_for_a_change_of_hold_days_is_refused(postgres_db):
    ann = _ann_owed_100(postgres_db)
    raised = while_uncommitted(postgres_db, text("UPDATE partner SET hold_days = 30 WHERE id = :id"), {"id": ann},
                                lambda: _pay_now(postgres_db))
    assert len(raised) == 1 and isinstance(raised[0], batches.StaleBatch)
    assert _balance(postgres_db) == 10_000


def test_a_posting_beside_a_write_to_another_partner_is_posted(postgres_db):
    _ann_owed_100(postgres_db)
    with postgres_db.write() as s:
        bob = add_partner(s, "BOB").id
    commission = text("INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description, "
                      "recorded_at, recorded_by) VALUES (:partner_id, 'commission', 500, 'USD', '2015-06-20', 'c-1', "
                      "'', :at, 'import')")
    with postgres_db.engine.connect() as writer:
        writer.execute(commission, {"partner_id": bob, "at": RECORDED})
        _pay_now(postgres_db)
        writer.commit()
    with postgres_db.read() as s:
        assert s.scalar(select(Partner.balance).where(Partner.code == "ANN")) == 0
