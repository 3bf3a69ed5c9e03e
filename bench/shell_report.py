"""The chat report of a 10,000-partner program in `payouts shell`, against the CLI's full report.

    python bench/shell_report.py [--repeat 5] [--partners 10000] [--history 100000]

Uses the cached SQLite ledger of bench/_data.py (`--partners` partners, 10,000 by default;
`--history` entries before June 2015, 100,000 by default; two entries a partner in June and one
in early July). Each workload is a fresh `payouts` process fed its
commands on standard input, as a script would feed the shell:

- baseline: `payouts ledger 2015-06 --format csv --output FILE`, the whole report as a file;
- `payouts ledger 2015-06`, the whole report as a 10,000-line terminal table;
- `/ledger 2015-06` in the shell: the summary (totals, top 10, buttons) with the full CSV attached;
- `/ledger 2015-06 partner CODE` in the shell;
- a session: the summary, its CSV button, a partner ledger, help and the batch list.

Every workload gets one untimed warm-up run, then `--repeat` timed runs; the table shows the
median and the ratio to the baseline. The summary's length in lines is checked once, untimed.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from _data import Shape, sqlite_dataset
from _measure import PAYOUTS, Result, machine, measure, print_table, run_process

MONTH_PER_PARTNER, AFTER_PER_PARTNER = 2, 1
PARTNER = "P000042"
MOST_SUMMARY_LINES = 40
SESSION = f"ledger 2015-06\n1\nledger 2015-06 partner {PARTNER}\nhelp\npayout list\n"


def _timed(label: str, command: list[str], repeat: int, stdin_text: str | None = None) -> Result:
    run_process(command, stdin_text=stdin_text)
    return measure(label, repeat, lambda: run_process(command, stdin_text=stdin_text))


def _summary_lines(shell: list[str]) -> int:
    done = subprocess.run(shell, input="ledger 2015-06\n", capture_output=True, text=True, check=True)
    return len(done.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--partners", type=int, default=10_000, help=f"at least {int(PARTNER[1:])}, for {PARTNER}")
    parser.add_argument("--history", type=int, default=100_000, help="entries before June 2015")
    args = parser.parse_args()
    if args.partners < int(PARTNER[1:]):
        parser.error(f"--partners must be at least {int(PARTNER[1:])}: the shell workloads ask for {PARTNER}")
    shape = Shape(args.partners, args.history, MONTH_PER_PARTNER * args.partners, AFTER_PER_PARTNER * args.partners)
    url = f"sqlite:///{sqlite_dataset(shape)}"
    with tempfile.TemporaryDirectory() as scratch:
        shell = [*PAYOUTS, "--database", url, "shell", "--files-dir", str(Path(scratch) / "files")]
        lines = _summary_lines(shell)
        baseline = _timed("payouts ledger --format csv --output FILE (baseline)",
                          [*PAYOUTS, "--database", url, "ledger", "2015-06", "--format", "csv",
                           "--output", str(Path(scratch) / "report.csv")], args.repeat)
        results = [
            baseline,
            _timed(f"payouts ledger ({args.partners:,}-line table)", [*PAYOUTS, "--database", url, "ledger", "2015-06"],
                   args.repeat),
            _timed("shell: ledger 2015-06 (summary + CSV file)", shell, args.repeat, "ledger 2015-06\n"),
            _timed(f"shell: ledger 2015-06 partner {PARTNER}", shell, args.repeat, f"ledger 2015-06 partner {PARTNER}\n"),
            _timed("shell: 5-command session", shell, args.repeat, SESSION),
        ]
    print(f"Machine: {machine()}")
    print_table(f"{shape.partners:,} partners, {shape.entries:,} entries: June 2015 (median of {args.repeat})",
                results, baseline=baseline, memory=True)
    verdict = "met" if lines <= MOST_SUMMARY_LINES else "MISSED"
    print(f"\n- the shell's summary of {shape.partners:,} partners is {lines} lines "
          f"(at most {MOST_SUMMARY_LINES}): {verdict}")


if __name__ == "__main__":
    main()
