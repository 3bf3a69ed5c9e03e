"""Ledger reports of a large program, as whole processes: this tree against another, runs interleaved.

    python bench/ledger_large.py [--partners 100000] [--history 10000000] [--month 200000]
                                 [--repeat 3] [--before /path/to/older/tree] [--postgres URL]

Builds (once, cached in bench/.data/) the SQLite ledger of `--partners` partners with `--history`
entries from 2010 to May 2015 and `--month` in June 2015. Times, as `payouts` processes, the
month report as CSV and JSON, the whole-history range as CSV, one partner's ledger and the
naive single GROUP BY in the `sqlite3` shell on the same file. With `--before TREE` (a checkout
of older code, e.g. `git archive main | tar -x -C /tmp/base`) every workload also runs with that
tree's code on a copy of the file at its own schema, alternating with this tree's runs so that
load on a shared machine falls on both alike. Each figure is the median of `--repeat` runs after
one untimed warm-up; peak memory is the process's own maximum RSS. The CSV of each tree must be
identical. With a PostgreSQL URL the ledger is loaded there (COPY, VACUUM ANALYZE) and the same
workloads run against it with this tree's code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from _data import MONTH_START, Shape, at_revision, postgres_dataset, sqlite_dataset, tree_revision
from _measure import PAYOUTS, ROOT, Result, machine, print_table, run_process

WHOLE_RANGE = "2010-01-01..2015-06-30"
NAIVE_SQL = """
SELECT partner_id,
  SUM(CASE WHEN effective_date < '{start}' THEN CASE kind WHEN 'commission' THEN amount ELSE -amount END ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{start}' AND kind = 'commission' THEN amount ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{start}' AND kind = 'clawback' THEN amount ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{start}' AND kind = 'payment' THEN amount ELSE 0 END)
FROM entry WHERE effective_date <= '{end}' GROUP BY partner_id;
"""


def _workloads(output: Path) -> list[tuple[str, list[str]]]:
    month = f"{MONTH_START:%Y-%m}"
    return [
        (f"ledger {month} --format csv", ["ledger", month, "--format", "csv", "--output", str(output)]),
        (f"ledger {month} --format json", ["ledger", month, "--format", "json", "--output", str(output)]),
        (f"ledger {WHOLE_RANGE} --format csv", ["ledger", WHOLE_RANGE, "--format", "csv", "--output", str(output)]),
        (f"ledger {month} --partner P000123", ["ledger", month, "--partner", "P000123", "--format", "json",
                                               "--output", str(output)]),
    ]


def _before_command(tree: Path) -> list[str]:
    """`payouts` run with the code of `tree` (it comes first on the path) in this environment, as its
    own `payouts` program runs it: `bot.cli.run` where the tree has it (a one-shot command tunes the
    cycle collector there, worth a fifth of a large report), else `main`."""
    program = "import sys, bot.cli as cli; sys.exit(getattr(cli, 'run', cli.main)())"
    return ["env", f"PYTHONPATH={tree}", sys.executable, "-P", "-c", program]


def _naive(database: Path) -> tuple[Result, list[str]]:
    """The figures of the month report computed the textbook way, one GROUP BY over every entry."""
    shell = shutil.which("sqlite3")
    sql = NAIVE_SQL.format(start=MONTH_START, end="2015-06-30")
    script = "import sqlite3, sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]"
    command = [shell, str(database), sql] if shell else [sys.executable, "-c", script, str(database), sql]
    return Result(f"naive GROUP BY ({'sqlite3 shell' if shell else 'python sqlite3'})"), command


def _migrated_copy(source: Path, scratch: Path) -> Path:
    """A copy of the cached file brought to this tree's schema (the migration is what users run)."""
    target = scratch / "after.db"
    shutil.copyfile(source, target)
    subprocess.run([*PAYOUTS, "--database", f"sqlite:///{target}", "init"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return target


def _run_sqlite(args: argparse.Namespace, scratch: Path) -> None:
    shape = Shape(args.partners, args.history, args.month)
    cached = sqlite_dataset(shape)
    source = at_revision(cached, tree_revision(args.before), scratch) if args.before else cached
    after = _migrated_copy(cached, scratch)
    naive, naive_command = _naive(after)
    rows: list[Result] = [naive]
    pairs = []
    for label, argv in _workloads(scratch / "out"):
        now = Result(f"{label} (this tree)")
        before = Result(f"{label} (before)") if args.before else None
        pairs.append((argv, now, before))
        rows += [r for r in (before, now) if r is not None]
    commands = [(naive_command, naive)]
    for argv, now, before in pairs:
        if before is not None:
            commands.append(([*_before_command(args.before), "--database", f"sqlite:///{source}", *argv], before))
        commands.append(([*PAYOUTS, "--database", f"sqlite:///{after}", *argv], now))
    for command, _ in commands:
        run_process(command)
    for _ in range(args.repeat):
        for command, result in commands:
            result.runs.append(run_process(command))
    print_table(f"SQLite, {args.partners:,} partners, {shape.entries:,} entries (median of {args.repeat}, "
                "runs interleaved)", rows, baseline=naive, memory=True)


def _run_postgres(args: argparse.Namespace, scratch: Path) -> None:
    url = postgres_dataset(args.postgres, Shape(args.partners, args.history, args.month), prefix="bench_report_")
    subprocess.run([*PAYOUTS, "--database", url, "init"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    naive = Result("naive GROUP BY (psql)")
    commands = []
    psql = shutil.which("psql")
    if psql:
        sql = NAIVE_SQL.format(start=MONTH_START, end="2015-06-30")
        commands.append(([psql, "-X", "-q", "-o", os.devnull, "-c", sql, url], naive))
    rows = [naive] if psql else []
    for label, argv in _workloads(scratch / "out"):
        result = Result(label)
        commands.append(([*PAYOUTS, "--database", url, *argv], result))
        rows.append(result)
    for command, _ in commands:
        run_process(command)
    for _ in range(args.repeat):
        for command, result in commands:
            result.runs.append(run_process(command))
    print_table(f"PostgreSQL, the same ledger (median of {args.repeat})", rows,
                baseline=naive if psql else None, memory=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=10_000_000)
    parser.add_argument("--month", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a tree of older code to run alternately, on its own schema")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to load the ledger into")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / ".data") as scratch:
        _run_sqlite(args, Path(scratch))
        if args.postgres:
            _run_postgres(args, Path(scratch))


if __name__ == "__main__":
    main()
