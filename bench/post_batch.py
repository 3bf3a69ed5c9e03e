"""Posting a 10,000-line payment batch on SQLite: the whole `payouts pay --yes`, and approval alone.

    python bench/post_batch.py [--repeat 5]

Uses the cached ledger of bench/ledger_report.py (10,000 partners, 1,000,000 entries before June
2015), where every partner has a positive ending balance for June. Each run gets a fresh copy of
the database (copying is not timed). Rows, in the same run:

- `payouts pay 2015-06 --method ending-balance` (the preview: plan only, nothing written): the
  whole-process baseline;
- `payouts pay 2015-06 --method ending-balance --date 2015-07-01 --yes`: request and post, as a
  user runs it;
- domain.batches.approve_batch alone, in this process, on a batch requested beforehand (untimed):
  the posting step with its stale and overlap checks, through the commit;
- the floor: the same 10,000 payment rows inserted with the sqlite3 module's executemany and
  committed, with no checks at all.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from _data import MONTH_END, MONTH_START, Shape, fresh_copy, sqlite_dataset
from _measure import PAYOUTS, Result, Run, machine, print_table, run_process

PARTNERS = 10_000
HISTORY = 1_000_000
PAYMENT_DATE = date(2015, 7, 1)
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)
ACTOR = "cli:bench"


def _pay_command(database: Path, *extra: str) -> list[str]:
    return [*PAYOUTS, "--database", f"sqlite:///{database}", "pay", f"{MONTH_START:%Y-%m}",
            "--method", "ending-balance", "--date", PAYMENT_DATE.isoformat(), *extra]


def _approve_alone(database: Path) -> tuple[Run, int]:
    """Request a batch (untimed), then time its approval through the commit."""
    from domain import batches
    from domain.dates import DateRange
    from domain.db import Database

    db = Database(f"sqlite:///{database}")
    options = batches.BatchOptions(DateRange(MONTH_START, MONTH_END), "ending-balance", "Check", PAYMENT_DATE)
    with db.write() as session:
        batch_id = batches.request_batch(session, options, actor=ACTOR, now=NOW).batch_id
    policy = batches.ApprovalPolicy(frozenset({ACTOR}), trusted_operator=True)
    started = time.perf_counter()
    with db.write() as session:
        approval = batches.approve_batch(session, batch_id, actor=ACTOR, policy=policy, now=NOW)
        lines = len(approval.lines) if approval.posted else 0
    seconds = time.perf_counter() - started
    db.dispose()
    return Run(seconds, 0), lines


def _raw_insert(database: Path) -> Run:
    """The same number of payment rows, straight in with executemany: the floor for posting."""
    connection = sqlite3.connect(database, isolation_level=None)
    partners = connection.execute("SELECT id, currency FROM partner WHERE balance > 0").fetchall()
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description,"
        " recorded_at, recorded_by) VALUES (?, 'payment', 100, ?, ?, 'RAW', 'raw', ?, 'bench')",
        [(partner, currency, PAYMENT_DATE.isoformat(), NOW.isoformat(" ")) for partner, currency in partners],
    )
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return Run(seconds, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}")
    source = sqlite_dataset(Shape(PARTNERS, HISTORY, 20_000, 10_000))
    preview, whole = Result("payouts pay (preview, no --yes)"), Result("payouts pay --yes (request + post)")
    approve, floor = Result("approve_batch alone (in process)"), Result("floor: executemany of the rows + commit")
    posted_lines = 0
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        run_process(_pay_command(fresh_copy(source, scratch)))
        for _ in range(args.repeat):
            database = fresh_copy(source, scratch)
            preview.runs.append(run_process(_pay_command(database)))
            whole.runs.append(run_process(_pay_command(database, "--yes")))
            run, posted_lines = _approve_alone(fresh_copy(source, scratch))
            approve.runs.append(run)
            floor.runs.append(_raw_insert(fresh_copy(source, scratch)))
    print_table(f"SQLite: posting a batch of {posted_lines:,} lines, {HISTORY:,} entries of history "
                f"(median of {args.repeat})", [preview, whole, approve, floor], baseline=preview)
    print(f"\n- `payouts pay --yes` under 2 seconds: {whole.median:.3f} s, {'met' if whole.median < 2 else 'MISSED'}")
    print(f"- approve_batch under 2 seconds: {approve.median:.3f} s, {'met' if approve.median < 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
