"""Import of a large CSV file as a whole process: wall time and the child's peak memory.

    python bench/import_entries.py [--repeat 3] [--entries 1000000] [--partners 10000] [--history 0]

Writes (once, cached in bench/.data/) an entries file for `--partners` partners in the format of
SPEC §5, and a migrated SQLite database holding those partners and `--history` entries before the
file's (the same generator: the file continues that ledger). Each run copies that
database (untimed) and times `payouts import entries FILE.csv` into the copy, then times
importing the same file again (every row already recorded: the idempotent path). The baseline,
in the same run, is the sqlite3 shell's `.import --csv` of the same file into a bare table: the
cost of moving the bytes with no checks, no indexes and no ledger. Peak memory is each child's
own max RSS (wait4), so Python's start-up is included.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from _data import DATA, Shape, fresh_copy, sqlite_dataset, write_entries_csv
from _measure import PAYOUTS, Result, machine, print_table, run_process

MEMORY_LIMIT_MB = 300


def time_limit_s(entries: int) -> float:
    """The targets: a million entries in a minute; ten million in eight minutes (48 s a million)."""
    return 60.0 if entries <= 1_000_000 else 48.0 * entries / 1_000_000


def _raw_load(csv_file: Path, scratch: Path) -> list[str]:
    """A bare-table load of the same file: the sqlite3 shell, else Python's csv + sqlite3 (named so)."""
    target = scratch / "raw.db"
    shell = shutil.which("sqlite3")
    if shell:
        return [shell, str(target), f".import --csv {csv_file} raw"]
    script = (
        "import csv, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = csv.reader(open(sys.argv[2]));"
        "h = next(r); c.execute(f'CREATE TABLE raw ({\", \".join(h)})');"
        "c.executemany(f'INSERT INTO raw VALUES ({\",\".join(\"?\" * len(h))})', r); c.commit()"
    )
    return [sys.executable, "-c", script, str(target), str(csv_file)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=0, help="entries the database holds before the import")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}")
    shape = Shape(args.partners, args.history + args.entries)
    csv_file = write_entries_csv(DATA / f"entries-{shape.name}-after{args.history}.csv", shape, after=args.history)
    partners_only = sqlite_dataset(Shape(args.partners, args.history))
    time_limit = time_limit_s(args.entries)
    raw_label = "bare-table load, " + ("sqlite3 shell .import" if shutil.which("sqlite3") else "python csv+sqlite3")
    baseline, first, again = Result(raw_label), Result("payouts import entries"), Result("the same file again")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for _ in range(args.repeat):
            (scratch / "raw.db").unlink(missing_ok=True)
            baseline.runs.append(run_process(_raw_load(csv_file, scratch)))
            database = fresh_copy(partners_only, scratch)
            command = [*PAYOUTS, "--database", f"sqlite:///{database}", "import", "entries", str(csv_file)]
            first.runs.append(run_process(command))
            again.runs.append(run_process(command))
            database.unlink()
    print_table(f"SQLite: import of {args.entries:,} entries for {args.partners:,} partners "
                f"into a ledger of {args.history:,} "
                f"({csv_file.stat().st_size / 1e6:.0f} MB of CSV; median of {args.repeat})",
                [baseline, first, again], baseline=baseline, memory=True)
    for result in (first, again):
        within = result.median < time_limit and result.peak_mb < MEMORY_LIMIT_MB
        print(f"- {result.label}: {result.median:.1f} s, peak {result.peak_mb:.0f} MB "
              f"(under {time_limit:.0f} s and {MEMORY_LIMIT_MB} MB: {'met' if within else 'MISSED'})")


if __name__ == "__main__":
    main()
