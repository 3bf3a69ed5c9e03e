"""How long `payouts ledger RANGE --pdf FILE` takes to print 1,000 one-page partner ledgers.

Builds its own database in a temporary folder the way a user would (`payouts init`, then
`payouts import partners` and `payouts import entries` from generated CSV files): 1,000 partners,
one in ten with a Greek, Cyrillic, Arabic or Chinese name so the fallback fonts are exercised, each
with a balance brought forward from May and 20 entries in June 2015 (one page each). Then it
runs, as whole processes, alternately:

  baseline  payouts ledger 2015-06 --format csv --output FILE   (the same report, no PDF)
  pdf       payouts ledger 2015-06 --format csv --output FILE --pdf FILE.pdf

and prints the median, min and max wall time of each, and the difference (the cost of printing).

    python bench/print_ledgers.py [--partners 1000] [--runs 5] [--paper letter|a4]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PAYOUTS = str(Path(sys.executable).with_name("payouts"))
JUNE = date(2015, 6, 1)
ENTRIES_PER_PARTNER = 20
WORLD_NAMES = ("Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов", "محمد الأحمد", "王小明", "Zoë Ångström-Nuñez")


def payouts(database: str, *args: str) -> tuple[float, str]:
    """Run one `payouts` command to completion; its wall time in seconds and its last line of output."""
    started = time.perf_counter()
    done = subprocess.run([PAYOUTS, "--database", database, *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - started, (done.stdout.strip().splitlines() or [""])[-1]


def write_data(folder: Path, partners: int) -> tuple[Path, Path]:
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
        for number in range(partners):
            code = f"P{number:04d}"
            writer.writerow(["2015-05-15", code, "commission", "250.00", f"{code}-MAY", "May orders"])
            for entry in range(ENTRIES_PER_PARTNER):
                kind = "clawback" if entry % 7 == 6 else "commission"
                day = JUNE + timedelta(days=entry * 29 // ENTRIES_PER_PARTNER)
                amount = f"{rng.randint(100, 50_000) / 100:.2f}"
                writer.writerow([day.isoformat(), code, kind, amount, f"{code}-{entry}", f"Order #{rng.randint(1000, 9999)}"])
    return partner_file, entry_file


def build_database(folder: Path, partners: int) -> str:
    database = f"sqlite:///{folder / 'bench.db'}"
    partner_file, entry_file = write_data(folder, partners)
    payouts(database, "init")
    payouts(database, "import", "partners", str(partner_file))
    payouts(database, "import", "entries", str(entry_file))
    return database


def row(label: str, times: list[float]) -> str:
    return f"| {label:<44} | {statistics.median(times):>8.2f} | {min(times):>8.2f} | {max(times):>8.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--paper", choices=("letter", "a4"), default="letter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="print-ledgers-") as temp:
        folder = Path(temp)
        started = time.perf_counter()
        database = build_database(folder, args.partners)
        print(f"Built {args.partners} partners x {ENTRIES_PER_PARTNER + 1} entries in "
              f"{time.perf_counter() - started:.1f} s with payouts init/import.\n")
        csv_out, pdf_out = str(folder / "june.csv"), folder / "june.pdf"
        report = ["ledger", "2015-06", "--format", "csv", "--output", csv_out]
        baseline: list[float] = []
        printing: list[float] = []
        printed = ""
        for _ in range(args.runs):
            baseline.append(payouts(database, *report)[0])
            seconds, printed = payouts(database, *report, "--pdf", str(pdf_out), "--paper", args.paper)
            printing.append(seconds)
        difference = [pdf - csv_only for pdf, csv_only in zip(printing, baseline, strict=True)]
        print(f"{args.runs} runs each, alternating; whole processes; seconds.\n")
        print(f"| {'workload':<44} | {'median':>8} | {'min':>8} | {'max':>8} |")
        print(f"|{'-' * 46}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
        print(row("baseline: ledger 2015-06 --format csv", baseline))
        print(row(f"ledger 2015-06 --format csv --pdf ({args.paper})", printing))
        print(row("printing alone (pdf - baseline, per run)", difference))
        print(f"\n{printed} ({pdf_out.stat().st_size / 1_048_576:.1f} MB)")


if __name__ == "__main__":
    main()
