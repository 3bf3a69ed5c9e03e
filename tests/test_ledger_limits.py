"""No sum the ledger computes can overflow: what a partner and a currency accumulate is bounded.

Each amount is within its own limit (10^15 minor units), but 9,300 of them for one partner once
turned its stored balance into the float 9.3e18 on SQLite, after which every report failed with
"integer overflow" forever (entries cannot be deleted); PostgreSQL answered a raw "bigint out of
range". Imports and batches that would cross the bounds of domain.limits are refused, naming the
partner or currency, and the database itself refuses a turnover past its backstop.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from domain import batches, imports
from domain.batches import ApprovalPolicy, BatchOptions
from domain.dates import DateRange
from domain.imports import ImportRefused
from domain.ledger import ledger_report
from domain.limits import CURRENCY_IMPORT_LIMIT, PARTNER_IMPORT_LIMIT, PARTNER_LIMIT
from domain.models import Entry, Partner
from tests.factories import RECORDED, add_partner

HEADER = "date,partner_code,kind,amount,reference,description"
LARGEST_ENTRY = "10000000000000.00"  # 10^15 cents, the most one entry may hold
NOW = datetime(2015, 7, 1, 9, 0, tzinfo=UTC)
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def _rows(code: str, count: int, prefix: str = "x") -> str:
    return "\n".join(f"2015-06-01,{code},commission,{LARGEST_ENTRY},{prefix}{i},x" for i in range(count))


def _import(db, body: str) -> imports.ImportResult:
    with db.write() as session:
        return imports.import_entries(session, io.StringIO(f"{HEADER}\n{body}\n"), source="big.csv", actor="cli:test")


def _partner(db, code: str) -> tuple[int, int]:
    with db.read() as session:
        partner = session.scalar(select(Partner).where(Partner.code == code))
        return partner.balance, partner.turnover


def _stored_types(db, code: str) -> tuple[str, str]:
    with db.read() as session:
        return tuple(session.execute(
            text("SELECT typeof(balance), typeof(turnover) FROM partner WHERE code = :code"), {"code": code}
        ).one())


def _bulk_commissions(db, partner_id: int, count: int, amount: int = 10**15) -> None:
    """Entries written straight to the table, as no import may, to bring a partner near the batch limits."""
    with db.write() as session:
        session.execute(insert(Entry), [
            {"partner_id": partner_id, "kind": "commission", "amount": amount, "currency": "USD",
             "effective_date": date(2015, 6, 1), "reference": f"bulk-{i}", "description": "",
             "recorded_at": RECORDED, "recorded_by": "test"}
            for i in range(count)
        ])


def test_an_import_that_would_take_a_partner_past_its_limit_is_refused_naming_the_partner(db):
    with db.write() as session:
        add_partner(session, "BIG")
    with pytest.raises(ImportRefused) as refused:
        _import(db, _rows("BIG", 9_300))
    assert refused.value.count == 1
    problem = refused.value.problems[0]
    assert (problem.row, problem.column) == (102, "amount")
    assert "partner 'BIG' would hold more than $1,000,000,000,000,000.00 of entries" in problem.reason
    assert _partner(db, "BIG") == (0, 0)


def test_the_ledger_stays_readable_after_a_refused_import_past_the_limit(db):
    with db.write() as session:
        add_partner(session, "BIG")
    with pytest.raises(ImportRefused):
        _import(db, _rows("BIG", 9_300))
    with db.read() as session:
        assert ledger_report(session, DateRange(date(2015, 5, 1), date(2015, 5, 31)), include_all=True).rows[0].ending_balance == 0
        assert ledger_report(session, JUNE).rows == []


def test_an_import_up_to_the_partner_limit_is_recorded_and_reads_back_exactly(db):
    with db.write() as session:
        add_partner(session, "BIG")
    _import(db, _rows("BIG", 100))
    assert _partner(db, "BIG") == (PARTNER_IMPORT_LIMIT, PARTNER_IMPORT_LIMIT)
    with db.read() as session:
        assert ledger_report(session, JUNE).rows[0].commissions == PARTNER_IMPORT_LIMIT


def test_stored_balances_stay_integers_at_the_limit(sqlite_db):
    with sqlite_db.write() as session:
        add_partner(session, "BIG")
    _import(sqlite_db, _rows("BIG", 100))
    assert _stored_types(sqlite_db, "BIG") == ("integer", "integer")


def test_an_import_that_would_take_a_currency_past_its_limit_is_refused_naming_the_currency(db):
    codes = [f"P{i}" for i in range(11)]
    with db.write() as session:
        for code in codes:
            add_partner(session, code)
    _import(db, "\n".join(_rows(code, 100, prefix=f"{code}-") for code in codes[:10]))
    with pytest.raises(ImportRefused) as refused:
        _import(db, _rows("P10", 1))
    assert "would take the USD entries of all partners past $10,000,000,000,000,000.00" in refused.value.problems[0].reason
    assert _partner(db, "P10") == (0, 0)
    with db.read() as session:
        assert sum(session.scalars(select(Partner.turnover))) == CURRENCY_IMPORT_LIMIT


def test_another_currency_is_not_held_back_by_a_full_one(db):
    with db.write() as session:
        add_partner(session, "EU", currency="EUR")
        add_partner(session, "US")
    _import(db, _rows("US", 100))
    _import(db, _rows("EU", 1))
    assert _partner(db, "EU") == (10**15, 10**15)


def test_a_batch_that_would_take_a_partner_past_the_limit_is_refused_and_stays_pending(db):
    with db.write() as session:
        partner_id = add_partner(session, "BIG").id
    _bulk_commissions(db, partner_id, 1_000)
    options = BatchOptions(period=JUNE, method="ending-balance", payment_type="Check", payment_date=date(2015, 7, 1))
    with db.write() as session:
        batch_id = batches.request_batch(session, options, actor="U_REQ", now=NOW).batch_id
    with pytest.raises(batches.PastLimits, match=r"posting Batch-20150701 would take partner\(s\) BIG past"), db.write() as session:
        batches.approve_batch(session, batch_id, actor="U_MANAGER", policy=ApprovalPolicy(frozenset({"U_MANAGER"})), now=NOW)
    assert _partner(db, "BIG") == (PARTNER_LIMIT, PARTNER_LIMIT)
    with db.read() as session:
        assert batches.get_batch(session, batch_id).status == "pending"


def test_a_batch_that_would_take_a_currency_past_its_limit_is_refused_naming_it_and_stays_pending(db):
    with db.write() as session:
        partner_ids = [add_partner(session, f"P{i}").id for i in range(8)]
    for partner_id in partner_ids:  # 8 × 4×10^17: each partner can be paid, the currency cannot
        _bulk_commissions(db, partner_id, 400)
    options = BatchOptions(period=JUNE, method="ending-balance", payment_type="Check", payment_date=date(2015, 7, 1))
    with db.write() as session:
        batch_id = batches.request_batch(session, options, actor="U_REQ", now=NOW).batch_id
    with pytest.raises(batches.PastLimits, match=r"posting Batch-20150701 would take the USD entries past"), \
            db.write() as session:
        batches.approve_batch(session, batch_id, actor="U_MANAGER", policy=ApprovalPolicy(frozenset({"U_MANAGER"})), now=NOW)
    assert _partner(db, "P0") == (4 * 10**17, 4 * 10**17)
    with db.read() as session:
        assert batches.get_batch(session, batch_id).status == "pending"


def test_a_partner_paid_up_to_the_import_limit_can_be_paid_voided_and_paid_again(db):
    with db.write() as session:
        add_partner(session, "BIG")
    _import(db, _rows("BIG", 100))
    options = BatchOptions(period=JUNE, method="ending-balance", payment_type="Check", payment_date=date(2015, 7, 1))
    policy = ApprovalPolicy(frozenset(), trusted_operator=True)
    for _ in range(2):
        with db.write() as session:
            batch = batches.request_and_post_batch(session, options, actor="U_MANAGER", policy=policy, now=NOW).batch
        with db.write() as session:
            batches.void_batch(session, batch.batch_id, actor="U_MANAGER", reason="returned", now=NOW)
    assert _partner(db, "BIG") == (PARTNER_IMPORT_LIMIT, 5 * PARTNER_IMPORT_LIMIT)


def test_the_database_refuses_a_partner_turnover_past_its_backstop(db):
    with db.write() as session:
        partner_id = add_partner(session, "BIG").id
    _bulk_commissions(db, partner_id, 1_000)
    with pytest.raises(DBAPIError), db.write() as session:
        session.execute(insert(Entry), [
            {"partner_id": partner_id, "kind": "clawback", "amount": 10**15, "currency": "USD",
             "effective_date": date(2015, 6, 2), "reference": f"c-{i}", "description": "",
             "recorded_at": RECORDED, "recorded_by": "test"}
            for i in range(1_001)
        ])
    assert _partner(db, "BIG") == (PARTNER_LIMIT, PARTNER_LIMIT)
