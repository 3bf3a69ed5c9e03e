"""A batch line's partner and batch exist, and rows lines refer to stay: by foreign keys on SQLite, by
a trigger checking each statement on PostgreSQL (migration 0020), with the same refusals, including
against a concurrent delete (the trigger locks what the lines name, as a foreign key does)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.concurrent_writer import while_uncommitted
from tests.factories import RECORDED, add_partner

BATCH = text("INSERT INTO batch (batch_id, status, method, start_date, end_date, payment_type, payment_date, "
             "allow_overlap, fingerprint, requested_by, requested_at) VALUES (:batch_id, 'pending', 'ending-balance', "
             "'2015-06-01', '2015-06-30', 'Check', '2015-07-01', false, 'f', 'cli:test', :at) RETURNING id")
LINE = text("INSERT INTO batch_line (batch_pk, partner_id, amount, currency, beginning_balance, commissions, "
            "clawbacks, payments, ending_balance) VALUES (:batch_pk, :partner_id, 100, 'USD', 0, 100, 0, 0, 100)")


def _partner(db, code: str) -> int:
    """A partner with no entries, so that only a batch line can hold it."""
    with db.write() as s:
        return add_partner(s, code).id


def _write_line(db, batch_pk: int, partner_id: int) -> None:
    with db.write() as s:
        s.execute(LINE, {"batch_pk": batch_pk, "partner_id": partner_id})


def _pending_batch(db) -> int:
    with db.write() as s:
        return s.execute(BATCH, {"batch_id": "B-1", "at": RECORDED}).scalar_one()


def _line_for(db, partner_id: int) -> int:
    batch_pk = _pending_batch(db)
    _write_line(db, batch_pk, partner_id)
    return batch_pk


def _count(db, table: str) -> int:
    with db.read() as s:
        return s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_line_for_a_partner_that_does_not_exist_is_refused(db):
    ann = _partner(db, "ANN")
    with pytest.raises(IntegrityError), db.write() as s:
        batch_pk = s.execute(BATCH, {"batch_id": "B-1", "at": RECORDED}).scalar_one()
        s.execute(LINE, [{"batch_pk": batch_pk, "partner_id": ann}, {"batch_pk": batch_pk, "partner_id": ann + 1000}])
    assert _count(db, "batch_line") == 0


def test_a_line_for_a_batch_that_does_not_exist_is_refused(db):
    ann = _partner(db, "ANN")
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(LINE, {"batch_pk": 999, "partner_id": ann})


def test_a_partner_named_by_a_pending_batch_cannot_be_deleted(db):
    _line_for(db, _partner(db, "ANN"))
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("DELETE FROM partner"))
    assert _count(db, "partner") == 1


def test_a_partner_named_by_a_batch_line_cannot_change_its_id(db):
    ann = _partner(db, "ANN")
    _line_for(db, ann)
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("UPDATE partner SET id = id + 1000 WHERE id = :id"), {"id": ann})


def test_a_batch_with_lines_cannot_be_deleted(db):
    _line_for(db, _partner(db, "ANN"))
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("DELETE FROM batch"))
    assert _count(db, "batch") == 1


def test_a_partner_and_a_batch_without_lines_can_be_deleted(db):
    ann = _partner(db, "ANN")
    with db.write() as s:
        s.execute(BATCH, {"batch_id": "B-1", "at": RECORDED})
    with db.write() as s:
        s.execute(text("DELETE FROM batch"))
        s.execute(text("DELETE FROM partner WHERE id = :id"), {"id": ann})
    assert (_count(db, "batch"), _count(db, "partner")) == (0, 0)


@pytest.mark.postgres
def test_on_postgresql_lines_carry_no_foreign_keys_nor_a_partner_index(postgres_db):
    with postgres_db.read() as s:
        keys = s.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'batch_line'::regclass "
                              "AND contype = 'f'")).scalars().all()
        indexes = s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'batch_line' "
                                 "ORDER BY indexname")).scalars().all()
        triggers = s.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'batch_line'::regclass "
                                  "AND NOT tgisinternal")).scalars().all()
    assert keys == []
    assert indexes == ["batch_line_pkey", "uq_batch_line_partner"]
    assert triggers == ["batch_line_refers_to_stored_rows"]


def _delete_partner(db, partner_id: int) -> None:
    with db.write() as s:
        s.execute(text("DELETE FROM partner WHERE id = :id"), {"id": partner_id})


@pytest.mark.postgres
def test_on_postgresql_a_partner_delete_waits_for_an_uncommitted_request_then_is_refused(postgres_db):
    ann, batch_pk = _partner(postgres_db, "ANN"), _pending_batch(postgres_db)
    raised = while_uncommitted(postgres_db, LINE, {"batch_pk": batch_pk, "partner_id": ann},
                               lambda: _delete_partner(postgres_db, ann))
    assert len(raised) == 1 and isinstance(raised[0], IntegrityError) and "batch line" in str(raised[0])
    assert _count(postgres_db, "partner") == 1


@pytest.mark.postgres
def test_on_postgresql_a_line_waits_for_an_uncommitted_partner_delete_then_is_refused(postgres_db):
    ann, batch_pk = _partner(postgres_db, "ANN"), _pending_batch(postgres_db)
    raised = while_uncommitted(postgres_db, text("DELETE FROM partner WHERE id = :id"), {"id": ann},
                               lambda: _write_line(postgres_db, batch_pk, ann))
    assert len(raised) == 1 and isinstance(raised[0], IntegrityError)
    assert "partner that does not exist" in str(raised[0])
    assert _count(postgres_db, "batch_line") == 0
