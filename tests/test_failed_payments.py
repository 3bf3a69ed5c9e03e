"""Failed payments (SPEC §10): one line of a posted batch reversed, exactly once, without touching the rest."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from domain import batches
from domain.batches import ApprovalPolicy, BatchError, BatchOptions
from domain.dates import DateRange
from domain.ledger import ledger_report
from domain.models import AuditEvent, BatchLine, Entry
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
NOW = datetime(2015, 7, 20, 9, 0, tzinfo=UTC)
PAID_ON = date(2015, 7, 1)
OPERATOR = ApprovalPolicy(frozenset({"cli:op"}), trusted_operator=True)


def options(**overrides) -> BatchOptions:
    values = dict(period=JUNE, method="ending-balance", payment_type="PayPal", payment_date=PAID_ON)
    values.update(overrides)
    return BatchOptions(**values)


def _june(db) -> str:
    """ANN and BOB each earned in June; one batch paid both."""
    with db.write() as s:
        ann = add_partner(s, "ANN")
        bob = add_partner(s, "BOB", currency="EUR")
        add_entry(s, ann, "commission", 10_000, "2015-05-10")
        add_entry(s, ann, "commission", 5_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
        return batches.request_and_post_batch(s, options(), actor="cli:op", policy=OPERATOR, now=NOW).batch.batch_id


def _fail(db, batch_id: str, partner: str = "ANN", reason: str = "unclaimed after 30 days"):
    with db.write() as s:
        return batches.fail_batch_line(s, batch_id, partner, actor="U_APPROVER", reason=reason, now=NOW)


def _rows(db, period: DateRange = JUNE) -> dict[str, tuple[int, int, int]]:
    with db.read() as s:
        return {row.partner_code: (row.beginning_balance, row.payments, row.ending_balance)
                for row in ledger_report(s, period, include_all=True).rows}


def _reversals(db) -> list[tuple[str, int, date, str]]:
    with db.read() as s:
        return [tuple(row) for row in s.execute(
            select(Entry.reference, Entry.amount, Entry.effective_date, Entry.recorded_by)
            .where(Entry.reverses_id.is_not(None)).order_by(Entry.id))]


def test_a_failed_line_reverses_only_that_partners_payment_at_the_payment_date(db):
    batch_id = _june(db)
    _fail(db, batch_id)
    assert _reversals(db) == [(f"{batch_id}:failed", -15_000, PAID_ON, "U_APPROVER")]
    july = DateRange(date(2015, 7, 1), date(2015, 7, 31))
    assert _rows(db, july) == {"ANN": (15_000, 0, 15_000), "BOB": (2_000, 2_000, 0)}


def test_a_failed_line_is_marked_with_who_when_and_why_and_the_batch_stays_posted(db):
    batch_id = _june(db)
    failed = _fail(db, batch_id, "ann", "returned: wrong account")
    assert failed.recorded and failed.batch.status == batches.POSTED
    with db.read() as s:
        paid, _ = batches.frozen_lines(batches.get_batch(s, batch_id))
        audit = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "batch.fail")).all()
    by_code = {line.partner_code: line.failure for line in paid}
    assert by_code["BOB"] is None
    assert (by_code["ANN"].by, by_code["ANN"].reason) == ("U_APPROVER", "returned: wrong account")
    assert by_code["ANN"].at.astimezone(UTC) == NOW
    assert len(audit) == 1 and "ANN" in audit[0]


def test_failing_the_same_line_twice_writes_one_reversal(db):
    batch_id = _june(db)
    _fail(db, batch_id)
    again = _fail(db, batch_id, reason="another reason")
    assert not again.recorded and again.line.failure.reason == "unclaimed after 30 days"
    assert len(_reversals(db)) == 1


def test_the_double_payment_guard_lets_a_new_batch_pay_a_failed_partner_for_the_same_range(db):
    batch_id = _june(db)
    _fail(db, batch_id)
    with db.write() as s:
        again = batches.request_and_post_batch(s, options(payment_date=date(2015, 7, 25), partners=("ANN",)),
                                               actor="cli:op", policy=OPERATOR, now=NOW)
        paid, _ = batches.frozen_lines(again.batch)
    assert [(line.partner_code, line.amount) for line in paid] == [("ANN", 15_000)]


def test_the_guard_still_refuses_the_partners_whose_payment_stands(db):
    batch_id = _june(db)
    _fail(db, batch_id)
    with db.write() as s, pytest.raises(batches.OverlapRefused, match="BOB"):
        batches.request_batch(s, options(payment_date=date(2015, 7, 25)), actor="cli:op", now=NOW)


def test_a_void_after_a_failed_line_reverses_only_the_lines_not_already_failed(db):
    batch_id = _june(db)
    _fail(db, batch_id)
    with db.write() as s:
        batches.void_batch(s, batch_id, actor="cli:op", reason="sent twice", now=NOW)
    assert sorted((reference, amount) for reference, amount, _, _ in _reversals(db)) == [
        (f"{batch_id}:failed", -15_000), (f"{batch_id}:void", -2_000)]
    assert _rows(db) == {"ANN": (10_000, 0, 15_000), "BOB": (0, 0, 2_000)}


def test_a_void_of_a_batch_whose_every_line_failed_records_no_reversal(db):
    batch_id = _june(db)
    _fail(db, batch_id, "ANN")
    _fail(db, batch_id, "BOB")
    with db.write() as s:
        assert batches.void_batch(s, batch_id, actor="cli:op", reason="all bounced", now=NOW).status == batches.VOIDED
    assert len(_reversals(db)) == 2


@pytest.mark.parametrize(("partner", "message"), [
    ("ZED", "has no line for partner 'ZED'"),
    ("CAT", "CAT was skipped"),
])
def test_a_line_that_is_not_a_paid_line_of_the_batch_is_refused_by_name(db, partner, message):
    batch_id = _june(db)
    with db.write() as s:
        cat = add_partner(s, "CAT")
        s.add(BatchLine(batch_pk=batches.get_batch(s, batch_id).id, partner_id=cat.id, amount=0, currency="USD",
                        beginning_balance=0, commissions=0, clawbacks=0, payments=0, ending_balance=0,
                        skip_reason="nothing owed ($0.00)"))
    with pytest.raises(BatchError, match=message):
        _fail(db, batch_id, partner)
    assert _reversals(db) == []


def test_only_a_posted_batchs_line_can_fail(db):
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 5_000, "2015-06-10")
        batch_id = batches.request_batch(s, options(), actor="U_REQ", now=NOW).batch_id
    with pytest.raises(BatchError, match="is pending; only a line of a posted batch can fail"):
        _fail(db, batch_id)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 401])
def test_a_failed_line_needs_a_reason_that_fits(db, reason):
    batch_id = _june(db)
    with pytest.raises(BatchError, match="reason"):
        _fail(db, batch_id, reason=reason)
    assert _reversals(db) == []


def test_only_approvers_may_record_a_failed_line():
    """SPEC §8: recording failed lines is the approvers'."""
    policy = ApprovalPolicy(frozenset({"U_APPROVER"}))
    policy.check_fail("U_APPROVER")
    with pytest.raises(batches.NotAllowed, match="only a payout approver can record a failed payment"):
        policy.check_fail("U_REQ")


def test_two_threads_failing_the_same_line_at_once_write_one_reversal(db):
    batch_id = _june(db)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def fail_it() -> None:
        barrier.wait()
        try:
            outcomes.append(_fail(db, batch_id).recorded)
        except Exception as exc:  # a loser may be refused by the database; it must not write
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=fail_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert True in outcomes
    assert len(_reversals(db)) == 1
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "batch.fail")) == 1


def test_a_batch_limited_to_some_partners_pays_only_them(db):
    with db.write() as s:
        for code in ("ANN", "BOB", "CAT"):
            add_entry(s, add_partner(s, code), "commission", 1_000, "2015-06-10")
        plan = batches.plan_batch(s, options(partners=("bob", "CAT")))
    assert [line.partner_code for line in plan.lines] == ["BOB", "CAT"]


def test_a_batch_limited_to_an_unknown_partner_is_refused_naming_it(db):
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 1_000, "2015-06-10")
        with pytest.raises(BatchError, match="no partner with code 'ZED'"):
            batches.plan_batch(s, options(partners=("ANN", "ZED")))
