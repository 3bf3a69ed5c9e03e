"""`payouts pay --yes` is one transaction: racing or killed processes leave no pending batch behind.

Requesting and posting used to be two commits, so a `pay --yes` that lost a race, failed, or was
killed between them left a pending batch that anyone could approve later (and, once the real batch
was voided, pay again). These tests run real `payouts` processes against both databases.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from domain.models import Batch, Entry, Partner
from tests.factories import RECORDED

PAYOUTS = str(Path(sys.executable).with_name("payouts"))
PAY_JUNE = ("pay", "2015-06", "--method", "ending-balance", "--date", "2015-07-01", "--yes")


def _program(db, partners: int) -> None:
    """`partners` partners, each with one June commission: posting them takes a moment."""
    with db.write() as session:
        session.execute(insert(Partner), [
            {"code": f"P{i:05d}", "name": f"Partner {i}", "email": "p@example.com", "currency": "USD",
             "status": "active", "balance": 0, "created_at": RECORDED}
            for i in range(partners)
        ])
        ids = session.scalars(select(Partner.id)).all()
        session.execute(insert(Entry), [
            {"partner_id": pid, "kind": "commission", "amount": 1_000 + pid, "currency": "USD",
             "effective_date": date(2015, 6, 10), "reference": f"C-{pid}", "description": "",
             "recorded_at": RECORDED, "recorded_by": "test"}
            for pid in ids
        ])


def _start(db, *args: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    return subprocess.Popen([PAYOUTS, *args], env=environment, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _batches(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return [tuple(row) for row in session.execute(select(Batch.batch_id, Batch.status).order_by(Batch.id))]


def _payments(db) -> int:
    with db.read() as session:
        return len(session.scalars(select(Entry.id).where(Entry.kind == "payment")).all())


def test_four_simultaneous_pay_yes_post_one_batch_and_leave_nothing_pending(db):
    _program(db, 400)
    processes = [_start(db, *PAY_JUNE) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    results = [(p.returncode, out, err) for p, (out, err) in zip(processes, outputs, strict=True)]
    assert sorted(status for status, _, _ in results) == [0, 2, 2, 2], results
    losers = [err for status, _, err in results if status == 2]
    assert all("already paid" in err for err in losers), losers
    assert _batches(db) == [("Batch-20150701", "posted")]
    assert _payments(db) == 400


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)


def _assert_nothing_pending_and_all_or_nothing_paid(db, partners: int) -> None:
    assert {status for _, status in _batches(db)} <= {"posted"}, _batches(db)
    assert _payments(db) in (0, partners)


def test_a_pay_yes_killed_the_moment_its_batch_is_visible_leaves_no_pending_batch(db):
    _program(db, 2_000)
    process = _start(db, *PAY_JUNE)
    deadline = time.monotonic() + 120
    while not _batches(db) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    _kill(process)
    _assert_nothing_pending_and_all_or_nothing_paid(db, 2_000)


def test_a_pay_yes_killed_at_random_moments_leaves_no_pending_batch(db):
    _program(db, 2_000)
    chance = random.Random(20)
    for _ in range(4):
        process = _start(db, *PAY_JUNE)
        time.sleep(chance.uniform(0.2, 2.5))
        _kill(process)
        _assert_nothing_pending_and_all_or_nothing_paid(db, 2_000)
    finisher = _start(db, *PAY_JUNE)
    finisher.communicate(timeout=120)
    assert finisher.returncode in (0, 2)
    assert _batches(db) == [("Batch-20150701", "posted")]
    assert _payments(db) == 2_000
