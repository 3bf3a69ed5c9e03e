"""Ledger report for one month, as a whole process, against the naive GROUP BY in the sqlite3 shell.

    python bench/ledger_report.py [--repeat 5] [--partners 10000] [--history 1000000] [--postgres URL]
                                  [--before OLD_PAYOUTS]
    python bench/ledger_report.py --held 30 [--history 100000] [--repeat 9]

Builds (once, cached in bench/.data/) two SQLite ledgers of 10,000 partners that differ only in
history: 1,000,000 and 100,000 entries before June 2015, each with 20,000 entries in June and
10,000 in July. Times `payouts ledger 2015-06 --format csv --output FILE` on both, and the naive
single GROUP BY over every entry (the same figures, computed the textbook way) in the `sqlite3`
shell on the same file, in the same run. With a PostgreSQL URL (--postgres or
PAYOUTS_BENCH_POSTGRES_URL; `.ci/start-postgres /tmp/pgbench 55433` prints one) the large ledger
is loaded there too and the same command is timed against it.

Every workload gets one untimed warm-up run (so the page cache is warm for all alike), then
`--repeat` timed runs; the table shows the median wall time, and the median CPU time (user +
system) of each process, which load from other work on the machine inflates far less. The CSV is
checked against domain.ledger.ledger_report_plain once, outside the timing. The `payouts`
processes run with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE emptied), as after an
install: the warm-up run writes it, so start-up is not timed compiling the project's modules.

With `--before PATH` (the `payouts` script of another checkout, such as the code before a change)
its start-up and its report on the `--history` ledger are timed too, each run alternating with
the current code's, so that load on a shared machine falls on both alike.

With `--held DAYS` only the hold variant runs (SPEC §12): the same report on the `--history`
ledger without a hold and with HOLD_DAYS=DAYS, runs alternating so that load on a shared machine
falls on both alike; the held CSV must carry the same figures plus on_hold and payable, and its
median must stay within 10 % of the one without a hold.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from _data import MONTH_END, MONTH_START, Shape, postgres_dataset, sqlite_dataset
from _measure import PAYOUTS, Result, machine, measure, print_table, run_process

MONTH_ENTRIES = 20_000
AFTER_ENTRIES = 10_000
POSTGRES_ENV = "PAYOUTS_BENCH_POSTGRES_URL"

NAIVE_REPORT_SQL = f"""
SELECT partner_id,
  SUM(CASE WHEN effective_date < '{MONTH_START}' THEN CASE kind WHEN 'commission' THEN amount ELSE -amount END ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{MONTH_START}' AND kind = 'commission' THEN amount ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{MONTH_START}' AND kind = 'clawback' THEN amount ELSE 0 END),
  SUM(CASE WHEN effective_date >= '{MONTH_START}' AND kind = 'payment' THEN amount ELSE 0 END)
FROM entry WHERE effective_date <= '{MONTH_END}' GROUP BY partner_id;
"""
NAIVE_KIND_SQL = "SELECT partner_id, kind, SUM(amount) FROM entry GROUP BY partner_id, kind;"


def _sql_shell(database: Path, sql: str) -> tuple[list[str], str]:
    """The sqlite3 shell when installed, else Python's sqlite3 module in a subprocess (named so)."""
    shell = shutil.which("sqlite3")
    if shell:
        return [shell, str(database), sql], "sqlite3 shell"
    script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); [print(*r) for r in c.execute(sys.argv[2])]"
    return [sys.executable, "-c", script, str(database), sql], "python sqlite3 module"


BYTECODE_CACHE = {"PYTHONDONTWRITEBYTECODE": ""}
"""Python writes and reads .pyc files, as for an installed package, whatever the calling shell says."""


def _timed(label: str, command: list[str], repeat: int) -> Result:
    run_process(command, env=BYTECODE_CACHE)
    return measure(label, repeat, lambda: run_process(command, env=BYTECODE_CACHE))


def _alternating(workloads: list[tuple[str, list[str]]], repeat: int) -> list[Result]:
    """Each workload warmed up once, then `repeat` rounds running each of them once, in turn."""
    results = [Result(label) for label, _ in workloads]
    for _, command in workloads:
        run_process(command, env=BYTECODE_CACHE)
    for _ in range(repeat):
        for result, (_, command) in zip(results, workloads, strict=True):
            result.runs.append(run_process(command, env=BYTECODE_CACHE))
    return results


def _report_command(url: str, output: Path, payouts: tuple[str, ...] = PAYOUTS) -> list[str]:
    return [*payouts, "--database", url, "ledger", f"{MONTH_START:%Y-%m}", "--format", "csv", "--output", str(output)]


def _import_command(python: str) -> list[str]:
    """Start-up and the CLI's imports; -P keeps the working directory (this checkout) off sys.path, so
    that each interpreter imports the code installed in its own environment."""
    return [python, "-P", "-c", "import bot.cli"]


def _python_of(payouts: str) -> str:
    """The interpreter a `payouts` console script runs under, from its #! line."""
    first = Path(payouts).read_text(encoding="utf-8").splitlines()[0]
    if not first.startswith("#!"):
        raise SystemExit(f"--before {payouts}: not a console script (no #! line)")
    return first[2:].strip()


def _check_against_plain(url: str, output: Path) -> int:
    """The CSV the command wrote must carry the figures of the plain aggregate, row for row."""
    from domain.dates import DateRange
    from domain.db import Database
    from domain.ledger import ledger_report_plain
    from domain.money import format_plain

    database = Database(url)
    with database.read() as session:
        plain = ledger_report_plain(session, DateRange(MONTH_START, MONTH_END))
    database.dispose()
    expected = [
        [row.partner_code, row.currency]
        + [format_plain(value, row.currency) for value in (row.beginning_balance, row.commissions, row.clawbacks,
                                                            row.payments, row.ending_balance)]
        for row in plain.rows
    ]
    with output.open(encoding="utf-8", newline="") as handle:
        written = [[row[0], *row[3:]] for row in list(csv.reader(handle))[1:]]
    if written != expected:
        raise SystemExit(f"{output}: the report differs from ledger_report_plain")
    return len(written)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _sqlite_part(repeat: int, partners: int, history: int, small_history: int, scratch: Path,
                 before: str | None) -> Path:
    large = sqlite_dataset(Shape(partners, history, MONTH_ENTRIES, AFTER_ENTRIES))
    small = sqlite_dataset(Shape(partners, small_history, MONTH_ENTRIES, AFTER_ENTRIES))
    output = scratch / "report.csv"
    naive_report, shell = _sql_shell(large, NAIVE_REPORT_SQL)
    naive_kind, _ = _sql_shell(large, NAIVE_KIND_SQL)
    baseline = _timed(f"naive GROUP BY, report figures ({shell}, {history:,})", naive_report, repeat)
    simplest = _timed(f"naive GROUP BY partner, kind ({shell}, {history:,})", naive_kind, repeat)
    workloads = [("python start-up + import bot.cli", _import_command(sys.executable)),
                 (f"payouts ledger, {history:,} before the month", _report_command(f"sqlite:///{large}", output))]
    if before:
        workloads = [
            ("before: python start-up + import bot.cli", _import_command(_python_of(before))),
            workloads[0],
            (f"before: payouts ledger, {history:,} before the month",
             _report_command(f"sqlite:///{large}", scratch / "before.csv", (before,))),
            workloads[1],
        ]
    timed = _alternating(workloads, repeat)
    startup, fast_large = timed[-3], timed[-1]
    rows = _check_against_plain(f"sqlite:///{large}", output)
    if before and (scratch / "before.csv").read_bytes() != output.read_bytes():
        raise SystemExit("the report of --before differs from the current code's")
    fast_small = _timed(f"payouts ledger, {small_history:,} before the month",
                        _report_command(f"sqlite:///{small}", scratch / "small.csv"), repeat)
    _check_against_plain(f"sqlite:///{small}", scratch / "small.csv")
    fastest_naive = min(baseline, simplest, key=lambda result: result.median)
    print_table(f"SQLite: ledger report for {MONTH_START:%Y-%m}, {partners:,} partners, {rows:,} rows written "
                f"(median of {repeat})", [baseline, simplest, *timed, fast_small], baseline=fastest_naive, cpu=True)
    half = fast_large.median <= fastest_naive.median / 2
    flat = fast_large.median <= 1.3 * fast_small.median
    print(f"\n- at most half the faster naive GROUP BY ({fastest_naive.median:.3f} s): "
          f"{fast_large.median:.3f} s, {_verdict(half)} (CPU time: {fast_large.median_cpu:.3f} s against "
          f"{fastest_naive.median_cpu:.3f} s, {fast_large.median_cpu / fastest_naive.median_cpu:.2f}×)")
    print(f"- {history:,} vs {small_history:,} entries of history: "
          f"{fast_large.median / fast_small.median:.2f}× (at most 1.3×), {_verdict(flat)}")
    if before:
        print(f"- against --before: start-up {startup.median / timed[0].median:.2f}× "
              f"(CPU {startup.median_cpu / timed[0].median_cpu:.2f}×), report {fast_large.median / timed[2].median:.2f}× "
              f"(CPU {fast_large.median_cpu / timed[2].median_cpu:.2f}×)")
    return output


def _postgres_part(repeat: int, partners: int, history: int, admin_url: str, scratch: Path, sqlite_csv: Path) -> None:
    url = postgres_dataset(admin_url, Shape(partners, history, MONTH_ENTRIES, AFTER_ENTRIES))
    output = scratch / "postgres.csv"
    results = []
    psql = shutil.which("psql")
    if psql:
        results.append(_timed(f"naive GROUP BY, report figures (psql, {history:,})",
                              [psql, "-X", "-q", "-o", os.devnull, "-c", NAIVE_REPORT_SQL, url], repeat))
    report = _timed(f"payouts ledger on PostgreSQL, {history:,} before the month",
                    _report_command(url, output), repeat)
    results.append(report)
    if output.read_bytes() != sqlite_csv.read_bytes():
        raise SystemExit("the PostgreSQL report differs from the SQLite report of the same ledger")
    print_table(f"PostgreSQL: the same report (median of {repeat}); CSV identical to SQLite's", results)
    print(f"\n- under 1 second: {report.median:.3f} s, {_verdict(report.median < 1)}")


def _check_held(plain: Path, held: Path) -> int:
    """The held CSV is the plain one with on_hold and payable after ending_balance, and payable = ending - on_hold."""
    from decimal import Decimal

    with plain.open(encoding="utf-8", newline="") as first, held.open(encoding="utf-8", newline="") as second:
        plain_rows, held_rows = list(csv.reader(first)), list(csv.reader(second))
    if held_rows[0] != plain_rows[0] + ["on_hold", "payable"] or [row[:-2] for row in held_rows] != plain_rows:
        raise SystemExit(f"{held}: the held report's figures differ from the report without a hold")
    on_hold = sum(1 for row in held_rows[1:] if Decimal(row[-2]) != 0)
    if any(Decimal(row[-1]) != Decimal(row[-3]) - Decimal(row[-2]) for row in held_rows[1:]):
        raise SystemExit(f"{held}: payable is not ending_balance - on_hold")
    return on_hold


def _held_part(repeat: int, partners: int, history: int, hold_days: int, scratch: Path) -> None:
    database = sqlite_dataset(Shape(partners, history, MONTH_ENTRIES, AFTER_ENTRIES))
    url = f"sqlite:///{database}"
    plain_csv, held_csv = scratch / "plain.csv", scratch / "held.csv"
    hold_env = {"HOLD_DAYS": str(hold_days), **BYTECODE_CACHE}
    no_hold = {"HOLD_DAYS": "0", **BYTECODE_CACHE}
    run_process(_report_command(url, plain_csv), env=no_hold)
    run_process(_report_command(url, held_csv), env=hold_env)
    partners_on_hold = _check_held(plain_csv, held_csv)
    plain = Result(f"payouts ledger, no hold, {history:,} before the month")
    held = Result(f"payouts ledger, HOLD_DAYS={hold_days}, {history:,} before the month")
    for _ in range(repeat):
        plain.runs.append(run_process(_report_command(url, plain_csv), env=no_hold))
        held.runs.append(run_process(_report_command(url, held_csv), env=hold_env))
    print_table(f"SQLite: ledger report for {MONTH_START:%Y-%m}, {partners:,} partners, {partners_on_hold:,} with "
                f"commissions on hold (median of {repeat}, runs alternating)", [plain, held], baseline=plain)
    ratio = held.median / plain.median
    print(f"\n- with a {hold_days}-day hold within 10 % of no hold: {ratio:.2f}×, {_verdict(ratio <= 1.10)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--small-history", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get(POSTGRES_ENV),
                        help=f"a PostgreSQL server to create the benchmark database on (default ${POSTGRES_ENV})")
    parser.add_argument("--before", metavar="PAYOUTS",
                        help="the payouts script of the code to compare with, its runs alternating with the current's")
    parser.add_argument("--held", type=int, metavar="DAYS",
                        help="time only the report with HOLD_DAYS=DAYS against it without, on the --history ledger")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}")
    if args.held is not None:
        with tempfile.TemporaryDirectory() as scratch:
            _held_part(args.repeat, args.partners, args.history, args.held, Path(scratch))
        return
    with tempfile.TemporaryDirectory() as scratch:
        sqlite_csv = _sqlite_part(args.repeat, args.partners, args.history, args.small_history, Path(scratch),
                                  args.before)
        if args.postgres:
            _postgres_part(args.repeat, args.partners, args.history, args.postgres, Path(scratch), sqlite_csv)
        else:
            print(f"\nPostgreSQL: skipped, no server given (--postgres URL or {POSTGRES_ENV}; "
                  "`.ci/start-postgres /tmp/pgbench 55433` starts one and prints its URL)")


if __name__ == "__main__":
    main()
