"""Rows written straight to the driver are stored exactly as SQLAlchemy's own insert stores them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from domain.driver_rows import RowInserter
from domain.models import Entry
from tests.factories import add_partner

COLUMNS = ("partner_id", "kind", "amount", "currency", "effective_date", "reference", "description", "recorded_at",
           "recorded_by")


def _rows(partner_id: int, prefix: str) -> list[tuple]:
    return [
        (partner_id, "commission", 1000 + n, "USD", date(2015, 6, 1 + n % 30), f"{prefix}-{n}", "",
         datetime(2015, 7, 1, 9, n % 60, tzinfo=UTC), "test")
        for n in range(45)
    ]


def _stored(session, prefix: str) -> list[tuple]:
    """The columns as the database holds them, read without the ORM's conversions."""
    return [tuple(row) for row in session.execute(text(
        "SELECT kind, amount, currency, effective_date, substr(reference, 3), recorded_at, recorded_by "
        "FROM entry WHERE reference LIKE :prefix ORDER BY amount"), {"prefix": f"{prefix}-%"})]


def test_rows_sent_to_the_driver_are_stored_as_sqlalchemy_stores_them(db):
    with db.write() as s:
        partner = add_partner(s, "P1")
        inserter = RowInserter(s.connection(), Entry.__table__, COLUMNS)
        inserter.rows_per_statement = 10  # several statements, the last one short
        assert inserter.insert(_rows(partner.id, "D")) == 45
        s.execute(insert(Entry), [dict(zip(COLUMNS, row, strict=True)) for row in _rows(partner.id, "S")])
    with db.read() as s:
        direct, through_sqlalchemy = _stored(s, "D"), _stored(s, "S")
        assert len(direct) == 45
        assert direct == through_sqlalchemy
        assert s.scalar(select(Entry.effective_date).where(Entry.reference == "D-7")) == date(2015, 6, 8)


def test_an_empty_list_of_rows_inserts_nothing(db):
    with db.write() as s:
        inserter = RowInserter(s.connection(), Entry.__table__, COLUMNS)
        assert inserter.insert([]) == 0


def test_a_row_the_database_refuses_raises_sqlalchemys_error_and_leaves_nothing_behind(db):
    """PostgreSQL's rows go by COPY, outside SQLAlchemy's statements: its refusal must still arrive as
    the IntegrityError every caller (and `payouts`' 'database error' message) expects."""
    with db.write() as s:
        partner = add_partner(s, "P1")
    rows = _rows(partner.id, "R")
    rows[-1] = (partner.id + 1000, *rows[-1][1:])  # no such partner: the foreign key refuses it
    with pytest.raises(IntegrityError), db.write() as s:
        RowInserter(s.connection(), Entry.__table__, COLUMNS).insert(rows)
    with db.read() as s:
        assert _stored(s, "R") == []


def test_rows_go_by_copy_on_postgresql_only(db):
    with db.read() as s:
        plain = RowInserter(s.connection(), Entry.__table__, COLUMNS)
        skipping = RowInserter(s.connection(), Entry.__table__, COLUMNS, on_conflict="ON CONFLICT DO NOTHING")
        assert (plain.copies, skipping.copies) == (not db.is_sqlite, not db.is_sqlite)


SKIPPING = "ON CONFLICT (partner_id, kind, reference) DO NOTHING"


def test_rows_with_a_conflict_clause_count_only_those_that_went_in_and_keep_their_order(db):
    """On PostgreSQL by COPY into a temporary table and one INSERT … SELECT from it: the clause still
    skips keys stored before and keys repeated within the rows, and IDs follow the rows' order."""
    with db.write() as s:
        partner = add_partner(s, "P1")
        rows = _rows(partner.id, "C")
        first = RowInserter(s.connection(), Entry.__table__, COLUMNS, on_conflict=SKIPPING)
        assert first.insert(rows[:20]) == 20
        again = RowInserter(s.connection(), Entry.__table__, COLUMNS, on_conflict=SKIPPING)  # the same transaction
        assert again.insert(rows[10:] + rows[30:35]) == 25  # 10 stored already, 5 repeated
        assert again.insert(rows[40:]) == 0
    with db.read() as s:
        stored = s.execute(text("SELECT reference FROM entry WHERE reference LIKE 'C-%' ORDER BY id")).scalars().all()
    assert stored == [f"C-{n}" for n in range(45)]
