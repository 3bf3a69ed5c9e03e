"""An entry's partner and batch exist, and rows entries refer to stay: by foreign keys on SQLite, by
triggers checking each statement on PostgreSQL (migration 0019), with the same refusals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from domain.models import Entry
from tests.factories import RECORDED, add_entry, add_partner
from tests.test_batch_entries_in_partner_ledgers import JUNE
from tests.test_report_fast_path import post_batch


def _entry(partner_id: int, batch_pk: int | None = None, day: date = date(2015, 6, 10)) -> dict:
    return {"partner_id": partner_id, "kind": "payment" if batch_pk else "commission", "amount": 100,
            "currency": "USD", "effective_date": day, "reference": f"REF-{partner_id}-{batch_pk}", "description": "",
            "recorded_at": RECORDED, "recorded_by": "test", "batch_pk": batch_pk}


def _ann_with_a_commission(db) -> int:
    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        return ann.id


def test_an_entry_for_a_partner_that_does_not_exist_is_refused(db):
    ann = _ann_with_a_commission(db)
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(insert(Entry), [_entry(ann), _entry(ann + 1000)])
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM entry")).scalar_one() == 1


def test_an_entry_for_a_batch_that_does_not_exist_is_refused(db):
    ann = _ann_with_a_commission(db)
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(insert(Entry), [_entry(ann, batch_pk=999)])


def test_a_partner_with_entries_cannot_be_deleted(db):
    ann = _ann_with_a_commission(db)
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("DELETE FROM partner WHERE id = :id"), {"id": ann})
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM partner")).scalar_one() == 1


def test_a_partner_paid_by_a_batch_cannot_be_deleted_nor_its_id_changed(db):
    ann = _ann_with_a_commission(db)
    assert post_batch(db, JUNE, "ending-balance", date(2015, 7, 3)) is not None
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("UPDATE partner SET id = id + 1000 WHERE id = :id"), {"id": ann})


def test_a_batch_with_entries_cannot_be_deleted(db):
    _ann_with_a_commission(db)
    assert post_batch(db, JUNE, "ending-balance", date(2015, 7, 3)) is not None
    with pytest.raises(IntegrityError), db.write() as s:
        s.execute(text("DELETE FROM batch_line"))
        s.execute(text("DELETE FROM batch"))


def test_a_partner_without_entries_can_be_deleted(db):
    with db.write() as s:
        add_partner(s, "ANN")
    with db.write() as s:
        s.execute(text("DELETE FROM partner"))
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM partner")).scalar_one() == 0


@pytest.mark.postgres
def test_on_postgresql_entries_carry_no_foreign_keys_and_are_checked_per_statement(postgres_db):
    with postgres_db.read() as s:
        keys = s.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'entry'::regclass "
                              "AND contype = 'f'")).scalars().all()
        triggers = s.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'entry'::regclass "
                                  "AND NOT tgisinternal")).scalars().all()
    assert keys == ["entry_reverses_id_fkey"]
    assert "entry_refers_to_stored_rows" in triggers
