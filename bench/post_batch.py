"""Previewing and posting a payment batch: the whole `payouts pay`, time and peak memory.

    python bench/post_batch.py [--repeat 3] [--partners 10000] [--history 1000000]
                               [--before OLD_PAYOUTS] [--postgres URL]

Uses the cached ledger of bench/_data.py (`--partners` partners, `--history` entries before June
2015 and two per partner in June), where most partners have a positive ending balance for June.
Each posting run gets a fresh copy of the database (copying is not timed). Rows, in the same run:

- `payouts pay 2015-06 --method M` for each of the three methods (the preview: plan only, nothing
  written), as a whole process;
- `payouts pay 2015-06 --method ending-balance --date 2015-07-01 --yes`: request and post, as a
  user runs it;
- the floor: the same number of payment rows inserted with the sqlite3 module's executemany and
  committed, with no checks at all.

With `--before PATH` (the `payouts` script of another checkout, such as the code before a change)
every whole-process row is also run with that script, interleaved with the current one, so that
load on a shared machine falls on both alike; on SQLite it reads and posts on copies taken down to
the schema that code needs (on PostgreSQL both must need the same schema). With `--postgres URL` (or PAYOUTS_BENCH_POSTGRES_URL)
the same rows are measured on PostgreSQL: the data set is loaded once with COPY into a database of
its own (`bench_batch_…`) and every posting run gets a copy made with CREATE DATABASE … TEMPLATE.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from _data import MONTH_START, Shape, at_revision, fresh_copy, postgres_dataset, script_revision, sqlite_dataset
from _measure import PAYOUTS, Result, Run, machine, print_table, run_process

METHODS = ("ending-balance", "commission", "beginning-plus-commission")
PAYMENT_DATE = date(2015, 7, 1)
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)
POSTGRES_ENV = "PAYOUTS_BENCH_POSTGRES_URL"
POSTGRES_PREFIX = "bench_batch_"


def _pay_command(payouts: Sequence[str], url: str, method: str, *extra: str) -> list[str]:
    return [*payouts, "--database", url, "pay", f"{MONTH_START:%Y-%m}", "--method", method,
            "--date", PAYMENT_DATE.isoformat(), *extra]


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


class _Versions:
    """The `payouts` scripts compared: the current one, and the one given by --before."""

    def __init__(self, before: str | None) -> None:
        self.scripts: list[tuple[str, tuple[str, ...]]] = [("", PAYOUTS)]
        if before:
            self.scripts.insert(0, ("before: ", (before,)))

    def results(self, label: str) -> list[Result]:
        return [Result(f"{prefix}{label}") for prefix, _ in self.scripts]


def _measure_all(versions: _Versions, repeat: int, url_for_post: Callable[[int], str],
                 read_url: Callable[[int], str]) -> list[Result]:
    """Every row for every version (by index), runs interleaved: previews on `read_url`, each posting
    on a fresh copy."""
    previews = {method: versions.results(f"pay --method {method} (preview)") for method in METHODS}
    posts = versions.results("pay --method ending-balance --yes (request + post)")
    for index, (_, script) in enumerate(versions.scripts):
        run_process(_pay_command(script, read_url(index), METHODS[0]))
    for _ in range(repeat):
        for index, (_, script) in enumerate(versions.scripts):
            for method in METHODS:
                previews[method][index].runs.append(run_process(_pay_command(script, read_url(index), method)))
            posts[index].runs.append(run_process(_pay_command(script, url_for_post(index), METHODS[0], "--yes")))
    return [result for method in METHODS for result in previews[method]] + posts


def _sqlite_part(args: argparse.Namespace, versions: _Versions, shape: Shape, scratch: Path) -> None:
    """The older code, if any, reads and posts on copies at its own schema (taken down by Alembic)."""
    source = sqlite_dataset(shape)
    sources = [at_revision(source, script_revision(args.before), scratch) if prefix else source
               for prefix, _ in versions.scripts]
    runs = scratch / "runs"
    runs.mkdir()
    results = _measure_all(versions, args.repeat, lambda index: f"sqlite:///{fresh_copy(sources[index], runs)}",
                           lambda index: f"sqlite:///{sources[index]}")
    floor = Result("floor: executemany of the payment rows + commit (in process)")
    for _ in range(args.repeat):
        floor.runs.append(_raw_insert(fresh_copy(source, scratch)))
    print_table(f"SQLite: {shape.partners:,} partners, {shape.history:,} entries of history, "
                f"{shape.month:,} in June (median of {args.repeat})", [*results, floor], memory=True)


def _postgres_copy(admin_url: str, template_url: str) -> Callable[[], str]:
    """A function giving a fresh copy of the template database for each posting run."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).render_as_string(hide_password=False)
    template = make_url(template_url)
    copy_name = f"{template.database}_run"

    def fresh() -> str:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
            connection.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{template.database}"')
        return template.set(database=copy_name).render_as_string(hide_password=False)

    return fresh


def _postgres_part(args: argparse.Namespace, versions: _Versions, shape: Shape) -> None:
    url = postgres_dataset(args.postgres, shape, prefix=args.postgres_prefix)
    fresh = _postgres_copy(args.postgres, url)
    results = _measure_all(versions, args.repeat, lambda _: fresh(), lambda _: url)
    print_table(f"PostgreSQL: {shape.partners:,} partners, {shape.history:,} entries of history, "
                f"{shape.month:,} in June (median of {args.repeat})", results, memory=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--before", metavar="PAYOUTS", help="the payouts script of the code to compare with")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get(POSTGRES_ENV))
    parser.add_argument("--postgres-prefix", default=POSTGRES_PREFIX,
                        help="the name prefix of the loaded ledger; bench_report_ reuses ledger_large.py's (run one "
                             "script at a time then, as posting copies it as a template)")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}; load average {os.getloadavg()[0]:.2f} at the start")
    shape = Shape(args.partners, args.history, 2 * args.partners)
    versions = _Versions(args.before)
    with tempfile.TemporaryDirectory() as scratch_dir:
        _sqlite_part(args, versions, shape, Path(scratch_dir))
    if args.postgres:
        _postgres_part(args, versions, shape)
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
