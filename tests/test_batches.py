"""Payment batches behave as SPEC §3 says: the right amounts, exactly once, never twice, never stale."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from domain import batches
from domain.batches import ApprovalPolicy, BatchOptions
from domain.dates import DateRange
from domain.ledger import ledger_report
from domain.models import AuditEvent, Batch, Entry, Partner
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
NOW = datetime(2015, 7, 1, 9, 0, tzinfo=UTC)
MANAGER = ApprovalPolicy(frozenset({"U_MANAGER", "U_OTHER"}))


def options(method: str = "ending-balance", **overrides) -> BatchOptions:
    values = dict(period=JUNE, method=method, payment_type="Check", payment_date=date(2015, 6, 30))
    values.update(overrides)
    return BatchOptions(**values)


def request(db, opts: BatchOptions | None = None, actor: str = "U_REQ") -> str:
    with db.write() as s:
        return batches.request_batch(s, opts or options(), actor=actor, now=NOW).batch_id


def approve(db, batch_id: str, actor: str = "U_MANAGER", policy: ApprovalPolicy = MANAGER):
    """Approve in a unit of work of its own; a stale batch's rejection is committed, then refused."""
    with db.write() as s:
        approval = batches.approve_batch(s, batch_id, actor=actor, policy=policy, now=NOW)
    if not approval.posted:
        raise approval.stale()
    return approval.batch


def _ledger(db) -> None:
    with db.write() as s:
        ann = add_partner(s, "ANN")
        bob = add_partner(s, "BOB", currency="EUR")
        cat = add_partner(s, "CAT", currency="JPY")
        dan = add_partner(s, "DAN")
        add_entry(s, ann, "commission", 10_000, "2015-05-10")
        add_entry(s, ann, "commission", 5_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
        add_entry(s, bob, "clawback", 500, "2015-06-20")
        add_entry(s, cat, "commission", 3_000, "2015-05-02")
        add_entry(s, cat, "clawback", 4_000, "2015-06-02")
        add_entry(s, dan, "commission", 700, "2015-06-03")


# ---- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("commission", {"ANN": 5_000, "BOB": 2_000, "DAN": 700}),
        ("beginning-plus-commission", {"ANN": 15_000, "BOB": 2_000, "CAT": 3_000, "DAN": 700}),
        ("ending-balance", {"ANN": 15_000, "BOB": 1_500, "DAN": 700}),
    ],
)
def test_each_method_pays_the_spec_amount(db, method, expected):
    _ledger(db)
    with db.read() as s:
        plan = batches.plan_batch(s, options(method))
    assert {line.partner_code: line.amount for line in plan.lines} == expected


def test_zero_and_negative_lines_are_skipped_with_reasons(db):
    _ledger(db)
    with db.read() as s:
        plan = batches.plan_batch(s, options("ending-balance"))
    assert {line.partner_code: line.skip_reason for line in plan.skipped} == {"CAT": "nothing owed (-¥1,000)"}


def test_a_partner_stored_in_a_code_that_is_no_money_is_skipped_with_the_reason(db):
    with db.write() as s:
        odd = add_partner(s, "ODD", currency="XAU")
        add_entry(s, odd, "commission", 700, "2015-06-03")
    with db.read() as s:
        plan = batches.plan_batch(s, options("ending-balance"))
    assert plan.lines == []
    assert {line.partner_code: line.skip_reason for line in plan.skipped} == {
        "ODD": "'XAU' is not a currency of money (precious metal)"}


def test_lines_under_the_minimum_are_skipped_in_their_own_currency(db):
    _ledger(db)
    with db.read() as s:
        plan = batches.plan_batch(s, options("ending-balance", minimum="10"))
    assert "DAN" in {line.partner_code for line in plan.skipped}
    assert "under the minimum of 10 USD" in next(p.skip_reason for p in plan.skipped if p.partner_code == "DAN")
    assert {line.partner_code for line in plan.lines} == {"ANN", "BOB"}


def _independent_amount(entries: list[tuple[str, int, date]], method: str) -> int:
    before = sum((a if k == "commission" else -a) for k, a, d in entries if d < JUNE.start)
    within = [(k, a) for k, a, d in entries if JUNE.contains(d)]
    commissions = sum(a for k, a in within if k == "commission")
    ending = before + sum((a if k == "commission" else -a) for k, a in within)
    return {"commission": commissions, "beginning-plus-commission": before + commissions, "ending-balance": ending}[method]


@pytest.mark.parametrize("seed", range(6))
def test_methods_match_an_independent_computation_on_random_ledgers(sqlite_db, seed):
    rng = random.Random(seed)
    ledgers: dict[str, list[tuple[str, int, date]]] = {}
    with sqlite_db.write() as s:
        for number in range(15):
            partner = add_partner(s, f"R{number:02d}")
            ledgers[partner.code] = []
            for _ in range(rng.randint(0, 12)):
                kind = rng.choice(["commission", "commission", "clawback", "payment"])
                amount = rng.randint(1, 50_000)
                day = date(2015, rng.randint(3, 8), rng.randint(1, 28))
                add_entry(s, partner, kind, amount, day)
                ledgers[partner.code].append((kind, amount, day))
    for method in batches.METHODS:
        expected = {code: _independent_amount(entries, method) for code, entries in ledgers.items()}
        with sqlite_db.read() as s:
            plan = batches.plan_batch(s, options(method))
        assert {line.partner_code: line.amount for line in plan.lines} == {c: a for c, a in expected.items() if a > 0}


def test_after_an_ending_balance_batch_dated_in_the_range_every_paid_partner_ends_at_zero(db):
    _ledger(db)
    approve(db, request(db, options("ending-balance", payment_date=date(2015, 6, 30))))
    with db.read() as s:
        rows = {row.partner_code: row for row in ledger_report(s, JUNE).rows}
    assert [rows[code].ending_balance for code in ("ANN", "BOB", "DAN")] == [0, 0, 0]


# ---- IDs, requests ----------------------------------------------------------------------------


def test_default_batch_ids_follow_the_payment_date_with_suffixes(db):
    _ledger(db)
    first = request(db, options(allow_overlap=True))
    second = request(db, options(allow_overlap=True))
    third = request(db, options(allow_overlap=True))
    assert (first, second, third) == ("Batch-20150630", "Batch-20150630-2", "Batch-20150630-3")


def test_a_taken_explicit_batch_id_is_refused_by_name(db):
    _ledger(db)
    request(db, options(batch_id="June-run"))
    with pytest.raises(batches.BatchIdTaken, match="June-run"):
        request(db, options(batch_id="June-run", allow_overlap=True))


def test_a_batch_id_differing_only_in_case_from_a_taken_one_is_refused_naming_the_existing_batch(db):
    _ledger(db)
    request(db, options(batch_id="Batch-20150703"))
    with pytest.raises(batches.BatchIdTaken, match="'batch-20150703' is already taken by Batch-20150703 "):
        request(db, options(batch_id="batch-20150703", allow_overlap=True))


def test_a_default_batch_id_skips_one_taken_in_another_case(db):
    _ledger(db)
    request(db, options(batch_id="batch-20150630"))
    assert request(db, options(allow_overlap=True)) == "Batch-20150630-2"


def test_the_database_refuses_two_batch_ids_differing_only_in_case(db):
    _ledger(db)
    batch_id = request(db, options(batch_id="Batch-20150703"))
    with pytest.raises(IntegrityError), db.write() as s:
        copy = batches.get_batch(s, batch_id)
        s.execute(insert(Batch).values(
            batch_id="BATCH-20150703", status="rejected", method=copy.method, start_date=copy.start_date,
            end_date=copy.end_date, payment_type=copy.payment_type, payment_date=copy.payment_date,
            allow_overlap=False, fingerprint=copy.fingerprint, requested_by="U_REQ", requested_at=NOW,
        ))


def test_a_batch_is_found_by_its_id_in_any_case(db):
    _ledger(db)
    request(db, options(batch_id="Batch-20150703"))
    with db.read() as s:
        assert batches.get_batch(s, "batch-20150703").batch_id == "Batch-20150703"


def test_a_batch_voided_by_its_id_in_another_case_reverses_under_its_stored_id(db):
    _ledger(db)
    approve(db, request(db, options(batch_id="Batch-20150703")), actor="U_MANAGER")
    with db.write() as s:
        batches.void_batch(s, "BATCH-20150703", actor="U_MANAGER", reason="sent twice", now=NOW)
    with db.read() as s:
        references = set(s.scalars(select(Entry.reference).where(Entry.amount < 0)))
    assert references == {"Batch-20150703:void"}


def test_a_default_batch_id_skips_one_that_is_an_imported_payment_reference_of_a_paid_partner(db):
    _ledger(db)
    with db.write() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        add_entry(s, ann, "payment", 100, "2015-07-20", reference="Batch-20150630")
    batch_id = request(db)
    approve(db, batch_id)
    assert batch_id == "Batch-20150630-2"


def test_a_default_batch_id_skips_an_imported_payment_reference_of_a_paid_partner_in_any_case(db):
    """References are compared in lower case, as batch IDs are; any mix of cases must be found."""
    _ledger(db)
    with db.write() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        add_entry(s, ann, "payment", 100, "2015-07-20", reference="bATCH-20150630")
        add_entry(s, ann, "payment", 100, "2015-07-21", reference="BaTcH-20150630-2")
        add_entry(s, ann, "payment", 100, "2015-07-22", reference="Cash-20150630-3")
    batch_id = request(db)
    approve(db, batch_id)
    assert batch_id == "Batch-20150630-3"


def test_a_payment_reference_of_a_partner_the_batch_does_not_pay_leaves_the_default_batch_id_free(db):
    """Only the partners paid could collide (the key is partner, kind, reference); CAT is owed nothing."""
    _ledger(db)
    with db.write() as s:
        cat = s.scalar(select(Partner).where(Partner.code == "CAT"))
        add_entry(s, cat, "payment", 100, "2015-07-20", reference="Batch-20150630")
    assert request(db) == "Batch-20150630"


def test_the_default_batch_id_reads_payment_references_through_their_own_index(sqlite_db):
    """One seek per partner paid cost 0.7 s at 100,000 partners; the partial index of payments by
    lower-case reference (migration 0012) finds the few candidates directly."""
    from sqlalchemy import event

    _ledger(sqlite_db)
    plans: list[str] = []

    def explain(connection, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT DISTINCT entry.reference"):
            plans.extend(row[3] for row in cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters))

    event.listen(sqlite_db.engine, "before_cursor_execute", explain)
    try:
        request(sqlite_db)
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", explain)
    assert any("USING INDEX ix_entry_payment_reference" in plan for plan in plans), plans


def test_an_explicit_batch_id_that_is_an_imported_payment_reference_of_a_paid_partner_is_refused(db):
    _ledger(db)
    with db.write() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        add_entry(s, ann, "payment", 100, "2015-07-20", reference="June-run")
    with pytest.raises(batches.BatchIdTaken, match="'June-run' is already the reference of a payment"):
        request(db, options(batch_id="June-run"))


def test_a_minimum_too_long_to_store_is_refused_with_its_reason_and_nothing_is_written(db):
    _ledger(db)
    with pytest.raises(batches.BatchError, match="has too many digits"):
        request(db, options(minimum="1." + "0" * 40))
    with db.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0


def test_a_default_batch_id_skips_one_whose_void_reference_an_imported_payment_already_uses(db):
    _ledger(db)
    with db.write() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        add_entry(s, ann, "payment", 100, "2015-07-20", reference="Batch-20150630:void")
    batch_id = request(db)
    approve(db, batch_id)
    with db.write() as s:
        batches.void_batch(s, batch_id, actor="U_MANAGER", reason="sent twice", now=NOW)
    assert batch_id == "Batch-20150630-2"


def test_a_preview_reserves_no_batch_id(db):
    _ledger(db)
    with db.read() as s:
        assert batches.plan_batch(s, options()).batch_id == "Batch-20150630"
    assert request(db) == "Batch-20150630"


def test_request_freezes_lines_and_writes_the_audit_log(db):
    _ledger(db)
    batch_id = request(db)
    with db.read() as s:
        batch = batches.get_batch(s, batch_id)
        paid, skipped = batches.frozen_lines(batch)
        actions = list(s.scalars(select(AuditEvent.action)))
    assert batch.status == "pending" and len(paid) == 3 and len(skipped) == 1
    assert "batch.request" in actions


# ---- approval policy --------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_batch(db):
    _ledger(db)
    batch_id = request(db, actor="U_MANAGER")
    with pytest.raises(batches.NotAllowed, match="requested"):
        approve(db, batch_id, actor="U_MANAGER")


def test_a_non_approver_cannot_approve(db):
    _ledger(db)
    batch_id = request(db)
    with pytest.raises(batches.NotAllowed, match="not one of the payout approvers"):
        approve(db, batch_id, actor="U_STRANGER")
    with db.read() as s:
        assert batches.get_batch(s, batch_id).status == "pending"


def test_the_requester_may_approve_when_separate_approval_is_not_required(db):
    _ledger(db)
    batch_id = request(db, actor="U_MANAGER")
    lenient = ApprovalPolicy(frozenset({"U_MANAGER"}), require_separate_approver=False)
    assert approve(db, batch_id, actor="U_MANAGER", policy=lenient).status == "posted"


# ---- exactly once -----------------------------------------------------------------------------


def _payment_count(db, batch_id: str) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Entry.id)).where(Entry.reference == batch_id)) or 0


def test_approving_twice_posts_once_and_names_who_posted(db):
    _ledger(db)
    batch_id = request(db)
    approve(db, batch_id)
    with pytest.raises(batches.AlreadyDecided, match="already posted by U_MANAGER"):
        approve(db, batch_id, actor="U_OTHER")
    assert _payment_count(db, batch_id) == 3


def test_many_threads_approving_at_once_post_the_batch_once(db):
    _ledger(db)
    batch_id = request(db)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def click(actor: str) -> None:
        barrier.wait()
        try:
            approve(db, batch_id, actor=actor)
            outcomes.append("posted")
        except batches.AlreadyDecided as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=click, args=(("U_MANAGER", "U_OTHER")[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("posted") == 1
    assert all("already posted by" in o or "decided by someone else" in o for o in outcomes if o != "posted")
    assert _payment_count(db, batch_id) == 3


_APPROVE_SCRIPT = """
import sys
from datetime import datetime, timezone
from domain.db import Database
from domain import batches
db = Database(sys.argv[1])
policy = batches.ApprovalPolicy(frozenset({sys.argv[3]}))
try:
    with db.write() as s:
        batches.approve_batch(s, sys.argv[2], actor=sys.argv[3], policy=policy, now=datetime.now(timezone.utc))
    print("posted")
except batches.AlreadyDecided as exc:
    print("refused:", exc)
"""


def test_several_processes_approving_at_once_post_the_batch_once(db):
    _ledger(db)
    batch_id = request(db)
    url = db.engine.url.render_as_string(hide_password=False)
    processes = [
        subprocess.Popen([sys.executable, "-c", _APPROVE_SCRIPT, url, batch_id, f"U_APPROVER{i}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    outputs = [out.strip() for out, _ in results]
    assert outputs.count("posted") == 1, results
    assert sum(o.startswith("refused:") for o in outputs) == 3, results
    assert _payment_count(db, batch_id) == 3


def test_a_failure_halfway_through_posting_leaves_no_partial_batch(db):
    _ledger(db)
    batch_id = request(db)
    calls = []

    def failing_insert(session, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        batches._insert_payment_chunk(session, rows)

    with pytest.raises(RuntimeError), db.write() as s:
        batches.POSTING_CHUNK, saved = 2, batches.POSTING_CHUNK
        try:
            batches.approve_batch(s, batch_id, actor="U_MANAGER", policy=MANAGER, now=NOW, insert_chunk=failing_insert)
        finally:
            batches.POSTING_CHUNK = saved
    assert calls == [2, 1]
    assert _payment_count(db, batch_id) == 0
    with db.read() as s:
        assert batches.get_batch(s, batch_id).status == "pending"
    assert approve(db, batch_id).status == "posted"


# ---- double payment ---------------------------------------------------------------------------


def test_paying_an_overlapping_range_again_is_refused_naming_the_batch(db):
    _ledger(db)
    approve(db, request(db))
    with pytest.raises(batches.OverlapRefused, match="Batch-20150630"):
        request(db, options("beginning-plus-commission", period=DateRange(date(2015, 6, 15), date(2015, 7, 15))))


def test_a_preview_shows_the_overlap_conflict(db):
    _ledger(db)
    approve(db, request(db))
    with db.read() as s:
        plan = batches.plan_batch(s, options("commission"))
    assert plan.conflicts == {code: ["Batch-20150630"] for code in ("ANN", "BOB", "DAN")}


def test_the_overlap_override_allows_a_second_batch(db):
    _ledger(db)
    approve(db, request(db))
    with db.write() as s:
        add_entry(s, batches.get_batch(s, "Batch-20150630").lines[0].partner, "commission", 100, "2015-06-29")
    batch_id = request(db, options("commission", allow_overlap=True))
    assert approve(db, batch_id).status == "posted"


def test_two_pending_batches_for_one_range_cannot_both_be_posted(db):
    _ledger(db)
    first = request(db)
    second = request(db)
    approve(db, first)
    with pytest.raises(batches.OverlapRefused, match=first):
        approve(db, second)


def test_voiding_restores_balances_and_frees_the_range(db):
    _ledger(db)
    with db.read() as s:
        before = {r.partner_code: r.ending_balance for r in ledger_report(s, JUNE).rows}
    batch_id = request(db)
    approve(db, batch_id)
    with db.write() as s:
        voided = batches.void_batch(s, batch_id, actor="U_MANAGER", reason="checks lost in the mail", now=NOW)
    assert voided.status == "voided" and voided.void_reason == "checks lost in the mail"
    with db.read() as s:
        after = {r.partner_code: r.ending_balance for r in ledger_report(s, JUNE).rows}
        originals = s.scalar(select(func.count(Entry.id)).where(Entry.reference == batch_id))
    assert after == before
    assert originals == 3
    again = request(db)
    assert approve(db, again).status == "posted"


def test_a_void_reads_as_if_the_batch_never_happened_in_every_range(db):
    _ledger(db)
    july = DateRange(date(2015, 7, 1), date(2015, 7, 31))
    with db.read() as s:
        before = [ledger_report(s, period).rows for period in (JUNE, july)]
    batch_id = request(db, options(payment_date=date(2015, 7, 3)))
    approve(db, batch_id)
    with db.write() as s:
        batches.void_batch(s, batch_id, actor="U_MANAGER", reason="wrong amounts", now=NOW)
    with db.read() as s:
        assert [ledger_report(s, period).rows for period in (JUNE, july)] == before


def test_voiding_needs_a_reason(db):
    _ledger(db)
    batch_id = request(db)
    approve(db, batch_id)
    with pytest.raises(batches.BatchError, match="reason"), db.write() as s:
        batches.void_batch(s, batch_id, actor="U_MANAGER", reason="  ", now=NOW)


def test_a_void_reason_too_long_for_the_reversing_entries_is_refused_and_the_batch_stays_posted(db):
    _ledger(db)
    batch_id = request(db)
    approve(db, batch_id)
    with db.write() as s, pytest.raises(batches.BatchError, match="at most 400 characters"):
        batches.void_batch(s, batch_id, actor="U_MANAGER", reason="x" * 600, now=NOW)
    with db.read() as s:
        assert batches.get_batch(s, batch_id).status == "posted"


def test_only_a_posted_batch_can_be_voided(db):
    _ledger(db)
    batch_id = request(db)
    with pytest.raises(batches.BatchError, match="pending"), db.write() as s:
        batches.void_batch(s, batch_id, actor="U_MANAGER", reason="oops", now=NOW)


# ---- stale approval ---------------------------------------------------------------------------


def test_a_commission_recorded_after_the_request_makes_approval_refused(db):
    _ledger(db)
    batch_id = request(db)
    with db.write() as s:
        ann = batches.get_batch(s, batch_id).lines[0].partner
        add_entry(s, ann, "commission", 1_234, "2015-06-15")
    with pytest.raises(batches.StaleBatch, match=r"ANN: amount \$150.00 → \$162.34"):
        approve(db, batch_id)
    assert _payment_count(db, batch_id) == 0
    with db.read() as s:
        batch = batches.get_batch(s, batch_id)
    assert batch.status == "rejected" and "ledger changed" in batch.decision_note


def test_a_stale_commission_batch_names_the_figure_that_changed_and_not_an_unchanged_amount(db):
    _ledger(db)
    batch_id = request(db, options("commission"))
    with db.write() as s:
        add_entry(s, s.scalar(select(Partner).where(Partner.code == "ANN")), "clawback", 1_000, "2015-06-15")
    with pytest.raises(batches.StaleBatch, match=r"\(ANN: clawbacks \$0.00 → \$10.00\)"):
        approve(db, batch_id)


def test_a_stale_batch_names_every_changed_figure_of_a_partner_old_and_new(db):
    _ledger(db)
    batch_id = request(db, options("commission"))
    with db.write() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        add_entry(s, ann, "commission", 1_001, "2015-06-15")
        add_entry(s, ann, "payment", 500, "2015-05-15")
    expected = r"ANN: amount \$50.00 → \$60.01, beginning balance \$100.00 → \$95.00, commissions \$50.00 → \$60.01\)"
    with pytest.raises(batches.StaleBatch, match=expected):
        approve(db, batch_id)


def test_a_stale_approval_commits_nothing_itself_the_callers_unit_of_work_does(db):
    _ledger(db)
    batch_id = request(db)
    with db.write() as s:
        add_entry(s, batches.get_batch(s, batch_id).lines[0].partner, "commission", 1_234, "2015-06-15")
    with pytest.raises(RuntimeError), db.write() as s:
        approval = batches.approve_batch(s, batch_id, actor="U_MANAGER", policy=MANAGER, now=NOW)
        assert not approval.posted and approval.batch.status == "rejected"
        raise RuntimeError("the caller's unit of work fails")
    with db.read() as s:
        assert batches.get_batch(s, batch_id).status == "pending"


def test_the_approve_use_case_commits_the_rejection_of_a_stale_batch(db):
    from commands import use_batches
    from commands.context import Request
    from domain.settings import Settings

    _ledger(db)
    batch_id = request(db)
    with db.write() as s:
        add_entry(s, batches.get_batch(s, batch_id).lines[0].partner, "commission", 1_234, "2015-06-15")
    decision = use_batches.approve(Request(db, Settings(fixed_now=NOW), "U_MANAGER", approvers=MANAGER.approvers),
                                   batch_id)
    assert decision.outcome == use_batches.STALE and "ANN: amount" in str(decision.stale)
    with db.read() as s:
        assert batches.get_batch(s, batch_id).status == "rejected"


def test_a_change_outside_the_range_does_not_make_a_batch_stale(db):
    _ledger(db)
    batch_id = request(db)
    with db.write() as s:
        add_entry(s, batches.get_batch(s, batch_id).lines[0].partner, "commission", 1_234, "2015-07-02")
    assert approve(db, batch_id).status == "posted"


def test_rejecting_a_batch_records_who_and_posts_nothing(db):
    _ledger(db)
    batch_id = request(db)
    with db.write() as s:
        batch = batches.reject_batch(s, batch_id, actor="U_OTHER", policy=MANAGER, now=NOW, reason="wait for July")
    assert (batch.status, batch.decided_by) == ("rejected", "U_OTHER")
    with pytest.raises(batches.AlreadyDecided, match="rejected"):
        approve(db, batch_id)
    assert _payment_count(db, batch_id) == 0


def test_nothing_owed_is_a_clear_refusal(db):
    with db.write() as s:
        add_partner(s, "ZED")
    with pytest.raises(batches.BatchError, match="nobody is owed"):
        request(db)
    with db.read() as s:
        assert s.scalar(select(func.count(Batch.id))) == 0
