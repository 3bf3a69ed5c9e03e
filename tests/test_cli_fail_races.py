"""`payouts batch fail` and `batch reconcile` run by two real processes at once write one reversal
per failed line (SPEC §10, "exactly once"), on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from domain.models import Entry
from tests.test_cli_pay_races import PAY_JUNE, _program, _start


def _reversals(db) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Entry.reference).where(Entry.reverses_id.is_not(None))))


def _posted(db) -> None:
    _program(db, 50)
    payer = _start(db, *PAY_JUNE)
    assert payer.communicate(timeout=120) and payer.returncode == 0


def test_two_processes_failing_the_same_line_at_once_write_one_reversal(db):
    _posted(db)
    processes = [_start(db, "batch", "fail", "Batch-20150701", "P00007", "--reason", "returned") for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    said = sorted("already recorded as failed" in out for out, _ in outputs)
    assert said == [False, True], outputs
    assert _reversals(db) == ["Batch-20150701:failed"]


def test_two_processes_reconciling_the_same_file_at_once_write_one_reversal_per_failed_line(db, tmp_path):
    _posted(db)
    results = tmp_path / "results.csv"
    results.write_text("partner_code,status,reason\nP00003,failed,Unclaimed\nP00004,failed,Returned\nP00005,paid,\n")
    processes = [_start(db, "batch", "reconcile", "Batch-20150701", str(results)) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    summaries = sorted(out.splitlines()[0].split(" (")[0].removesuffix(".") for out, _ in outputs)
    assert summaries == ["Reconciled Batch-20150701: 1 paid, 0 failed, 2 already failed",
                         "Reconciled Batch-20150701: 1 paid, 2 failed"], outputs
    assert sorted(_reversals(db)) == ["Batch-20150701:failed", "Batch-20150701:failed"]
