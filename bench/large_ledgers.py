"""The ledger report's table and the printed ledgers at 100,000 partners, on SQLite: time and peak memory.

    python bench/large_ledgers.py [--repeat 1] [--partners 100000] [--month 200000] [--before OLD_PAYOUTS]

Uses the data set of `bench/_data.py` (`--partners` partners, `--month` entries in June 2015, no
history; cached in bench/.data), copies it and posts a batch paying June with `payouts pay --yes`
(untimed). Rows, in the same run, each a whole process:

- `payouts ledger 2015-06 --output FILE`: the report as a terminal table;
- `payouts ledger 2015-06 --pdf FILE`: every partner on the report's ledger, printed;
- `payouts batch print ID --output FILE`: every paid partner's ledger, stamped with the payment.

With `--before PATH` (the `payouts` script of another checkout) every row is also run with that
script, interleaved with the current one. Printing 100,000 one-page ledgers takes minutes a run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import date
from pathlib import Path

from _data import Shape, fresh_copy, sqlite_dataset
from _measure import PAYOUTS, Result, machine, print_table, run_process

BATCH_ID = "Batch-LargeLedgers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--month", type=int, default=200_000)
    parser.add_argument("--before", metavar="PAYOUTS", help="the payouts script of the code to compare with")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}; load average {os.getloadavg()[0]:.2f} at the start")
    source = sqlite_dataset(Shape(args.partners, 0, args.month))
    scripts = ([("before: ", (args.before,))] if args.before else []) + [("", PAYOUTS)]
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        url = f"sqlite:///{fresh_copy(source, scratch)}"
        run_process([*PAYOUTS, "--database", url, "pay", "2015-06", "--method", "ending-balance", "--date",
                     "2015-07-01", "--batch-id", BATCH_ID, "--yes"])
        workloads = {
            "ledger 2015-06 (table)": ["ledger", "2015-06", "--output", str(scratch / "report.txt")],
            "ledger 2015-06 --pdf": ["ledger", "2015-06", "--pdf", str(scratch / "report.pdf")],
            "batch print": ["batch", "print", BATCH_ID, "--output", str(scratch / "batch.pdf")],
        }
        results = {(prefix, label): Result(f"{prefix}{label}") for label in workloads for prefix, _ in scripts}
        for _ in range(args.repeat):
            for label, command in workloads.items():
                for prefix, script in scripts:
                    results[(prefix, label)].runs.append(run_process([*script, "--database", url, *command]))
    print_table(f"SQLite: {args.partners:,} partners, {args.month:,} entries in June 2015, a batch paying June "
                f"(median of {args.repeat})", list(results.values()), memory=True)
    print(f"\nLoad average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
