"""How long `payouts ledger RANGE --pdf FILE` takes, and how much memory, for 1,000 and 10,000 partners.

For each number of partners it builds its own database in a temporary folder the way a user would
(`payouts init`, then `payouts import partners` and `payouts import entries` from generated CSV
files): one partner in ten with a Greek, Cyrillic, Arabic or Chinese name so the fallback fonts
are exercised, each with a balance brought forward from May and 20 entries in June 2015 (one page
each). `--history N` sets how many entries come before June: the first of them are those May
entries, one a partner, and the rest are spread over 2010–2014 (by default one a partner).
Then it runs, as whole processes, in turn:

  baseline     payouts ledger 2015-06 --format csv --output FILE   (the same report, no PDF)
  pdf          payouts ledger 2015-06 --format csv --output FILE --pdf FILE.pdf
  single part  the same, with every page drawn on one reportlab Canvas (PART_PAGES set past the
               page count), as printing worked before pages were joined part by part

and prints the median, min and max wall time of each, the cost of printing (pdf - baseline) and
each process's peak resident memory (its own, from wait4).

    python bench/print_ledgers.py [--partners 1000 10000] [--history N] [--runs 5] [--paper letter|a4]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

PAYOUTS = str(Path(sys.executable).with_name("payouts"))
# The `payouts` command with every page on one Canvas: what memory would be without parts.
SINGLE_PART = ("import sys\nimport commands.pdf_ledgers\ncommands.pdf_ledgers.PART_PAGES = sys.maxsize\n"
               "from bot.cli import main\nsys.exit(main(sys.argv[1:]))")
JUNE = date(2015, 6, 1)
EARLIEST = date(2010, 1, 1)
ENTRIES_PER_PARTNER = 20
WORLD_NAMES = ("Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов", "محمد الأحمد", "王小明", "Zoë Ångström-Nuñez")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    last_line: str


def payouts(database: str, *args: str, single_part: bool = False) -> Run:
    """Run one `payouts` command to completion: its wall time, its own peak memory, its last line of output."""
    command = [sys.executable, "-c", SINGLE_PART] if single_part else [PAYOUTS]
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen([*command, "--database", database, *args], stdout=output)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"payouts {' '.join(args)} failed with exit status {child.returncode}")
        output.seek(0)
        lines = output.read().strip().splitlines() or [""]
    return Run(seconds, usage.ru_maxrss / 1024, lines[-1])


def write_data(folder: Path, partners: int, history: int) -> tuple[Path, Path]:
    rng = random.Random(7)
    partner_file, entry_file = folder / "partners.csv", folder / "entries.csv"
    with partner_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "email", "currency"])
        for number in range(partners):
            name = WORLD_NAMES[number // 10 % len(WORLD_NAMES)] if number % 10 == 0 else f"Partner {number:04d}"
            writer.writerow([f"P{number:04d}", name, f"p{number}@example.com", "USD"])
    with entry_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "partner_code", "kind", "amount", "reference", "description"])
        writer.writerows(_earlier_history(partners, history))
        for number in range(partners):
            code = f"P{number:04d}"
            if number < history:
                writer.writerow(["2015-05-15", code, "commission", "250.00", f"{code}-MAY", "May orders"])
            for entry in range(ENTRIES_PER_PARTNER):
                kind = "clawback" if entry % 7 == 6 else "commission"
                day = JUNE + timedelta(days=entry * 29 // ENTRIES_PER_PARTNER)
                amount = f"{rng.randint(100, 50_000) / 100:.2f}"
                writer.writerow([day.isoformat(), code, kind, amount, f"{code}-{entry}", f"Order #{rng.randint(1000, 9999)}"])
    return partner_file, entry_file


def _earlier_history(partners: int, history: int) -> Iterator[list[str]]:
    """The history entries past the May one of each partner: commissions spread over 2010-2014."""
    for number in range(partners, history):
        code = f"P{number % partners:04d}"
        day = EARLIEST + timedelta(days=number * 7 % 1826)
        yield [day.isoformat(), code, "commission", f"{1 + number % 500}.{number % 100:02d}", f"{code}-H{number}",
               "Earlier orders"]


def build_database(folder: Path, partners: int, history: int) -> str:
    database = f"sqlite:///{folder / 'bench.db'}"
    partner_file, entry_file = write_data(folder, partners, history)
    payouts(database, "init")
    payouts(database, "import", "partners", str(partner_file))
    payouts(database, "import", "entries", str(entry_file))
    return database


def row(partners: int, label: str, runs: list[float], peak_mb: float | None) -> str:
    peak = f"{peak_mb:>8.0f}" if peak_mb is not None else f"{'':>8}"
    return (f"| {partners:>8,} | {label:<44} | {statistics.median(runs):>8.2f} | {min(runs):>8.2f} | "
            f"{max(runs):>8.2f} | {peak} |")


def measure(partners: int, history: int | None, runs: int, paper: str) -> list[str]:
    """The table rows for one number of partners, each workload run `runs` times in turn."""
    with tempfile.TemporaryDirectory(prefix="print-ledgers-") as temp:
        folder = Path(temp)
        started = time.perf_counter()
        before_june = partners if history is None else history
        database = build_database(folder, partners, before_june)
        print(f"Built {partners:,} partners x {ENTRIES_PER_PARTNER} entries in June and {before_june:,} before, in "
              f"{time.perf_counter() - started:.1f} s with payouts init/import.")
        csv_out, pdf_out = str(folder / "june.csv"), folder / "june.pdf"
        report = ["ledger", "2015-06", "--format", "csv", "--output", csv_out]
        printing = [*report, "--pdf", str(pdf_out), "--paper", paper]
        baseline: list[Run] = []
        parts: list[Run] = []
        single: list[Run] = []
        for _ in range(runs):
            baseline.append(payouts(database, *report))
            parts.append(payouts(database, *printing))
            single.append(payouts(database, *printing, single_part=True))
        print(f"{parts[-1].last_line} ({pdf_out.stat().st_size / 1_048_576:.1f} MB)\n")
    return [
        row(partners, "baseline: ledger 2015-06 --format csv", [run.seconds for run in baseline],
            max(run.peak_mb for run in baseline)),
        row(partners, f"ledger 2015-06 --format csv --pdf ({paper})", [run.seconds for run in parts],
            max(run.peak_mb for run in parts)),
        row(partners, "printing alone (pdf - baseline, per run)",
            [pdf.seconds - plain.seconds for pdf, plain in zip(parts, baseline, strict=True)], None),
        row(partners, "the same --pdf, all pages on one Canvas", [run.seconds for run in single],
            max(run.peak_mb for run in single)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--history", type=int, help="entries before June 2015 (default: one a partner, in May)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--paper", choices=("letter", "a4"), default="letter")
    args = parser.parse_args()
    rows = [line for partners in args.partners for line in measure(partners, args.history, args.runs, args.paper)]
    print(f"{args.runs} runs of each workload, in turn; whole processes; seconds, and each process's peak memory.\n")
    print(f"| {'partners':>8} | {'workload':<44} | {'median':>8} | {'min':>8} | {'max':>8} | {'peak MB':>8} |")
    print(f"|{'-' * 10}|{'-' * 46}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
