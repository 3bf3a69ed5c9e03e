"""Exporting and showing a posted batch (SPEC §5, §9), on SQLite: time and peak memory.

    python bench/export_files.py [--repeat 3] [--partners 10000] [--history 0] [--before OLD_PAYOUTS]

Builds its own data (untimed): `--partners` partners paid in USD, EUR, GBP, JPY, HUF and AUD by
a mix of methods (PayPal, Wise by e-mail, bank with encrypted details, check), `--history`
commissions spread over 2010-2014, one commission each in June 2015, and a posted batch paying
them all. Rows, in the same run, each a whole process:

- `payouts batch export ID --format csv|paypal|wise --output FILE`: one format for the whole
  batch (PayPal and Wise pay every currency of the batch);
- `payouts batch export ID --output DIR`: one file per payout method and currency, every line
  checked against its provider's rules and every bank detail decrypted;
- `payouts batch show ID --format json|table`.

With `--before PATH` (the `payouts` script of another checkout) every row is also run with that
script, interleaved with the current one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _measure import PAYOUTS, ROOT, Result, machine, print_table, run_process

sys.path.insert(0, str(ROOT))

BATCH_ID = "Batch-Bench"
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "HUF", "AUD")  # each one PayPal and Wise pay in
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)


def _details(number: int, currency: str) -> tuple[str, dict[str, str], object]:
    """A payout method each partner's currency can be paid by, with fake but valid details."""
    from domain.payout_details import BankDetails

    method = ("paypal", "wise-email", "bank", "check")[number % 4]
    if currency in ("JPY", "HUF") and method == "bank":
        method = "wise-email" if currency == "JPY" else "bank"
    address = {"address_line1": f"{number} Example Street", "city": "Springfield", "state": "IL",
               "postcode": "62701", "country": "US"}
    bank = {
        "USD": BankDetails(ach_routing="021000021", account_number=f"{4_000_000 + number}", account_type="checking"),
        "GBP": BankDetails(sort_code="601613", account_number=f"{number:08d}"),
        "AUD": BankDetails(bsb="062000", account_number=f"{number:08d}"),
    }.get(currency, BankDetails(iban="DE89370400440532013000"))
    return method, address, bank


def build(path: Path, key: str, partners: int, history: int) -> None:
    """The data set, written through the domain (untimed); the history goes in with executemany.

    It runs in a process of its own: a child started by a process holding 100,000 partners reports
    that process's memory as its own peak (Linux keeps the larger peak across fork and exec)."""
    from domain import batches, migrations_runner
    from domain.dates import DateRange
    from domain.db import Database
    from domain.models import Entry, Partner
    from domain.secret_box import SecretBox

    box = SecretBox([key])
    db = Database(f"sqlite:///{path}")
    migrations_runner.upgrade(db.engine)
    with db.write() as session:
        for number in range(1, partners + 1):
            currency = CURRENCIES[number % len(CURRENCIES)]
            method, address, bank = _details(number, currency)
            secret = {"bank_details": box.encrypt(bank.to_json()), "bank_mask": bank.masked()} if method == "bank" else {}
            session.add(Partner(code=f"P{number:05d}", name=f"Partner {number}", email=f"p{number}@example.com",
                                currency=currency, status="active", balance=0, created_at=NOW,
                                payout_method=method, **address, **secret))
        session.flush()
        session.bulk_insert_mappings(Entry, [  # type: ignore[arg-type]
            {"partner_id": pid, "kind": "commission", "amount": 100_000, "currency": currency,
             "effective_date": date(2015, 6, 10), "reference": f"C-{pid}", "description": "",
             "recorded_at": NOW, "recorded_by": "bench"}
            for pid, currency in session.query(Partner.id, Partner.currency)
        ])
    _history(path, partners, history)
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                                   date(2015, 7, 1), batch_id=BATCH_ID)
    policy = batches.ApprovalPolicy(frozenset({"cli:bench"}), trusted_operator=True)
    with db.write() as session:
        batches.request_and_post_batch(session, options, actor="cli:bench", policy=policy, now=NOW)
    db.dispose()


def _history(path: Path, partners: int, count: int) -> None:
    """`count` commissions before 2015 on random partners, straight in (the trigger keeps balances)."""
    rng = random.Random(2015)
    connection = sqlite3.connect(path, isolation_level=None)
    currencies = dict(connection.execute("SELECT id, currency FROM partner"))
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO entry (partner_id, kind, amount, currency, effective_date, reference, description,"
        " recorded_at, recorded_by) VALUES (?, 'commission', ?, ?, ?, ?, '', ?, 'bench')",
        (
            (partner, rng.randrange(1, 50) * 100, currencies[partner],
             (date(2010, 1, 1) + timedelta(days=n * 1825 // max(count, 1))).isoformat(), f"H{n}",
             NOW.isoformat(" "))
            for n in range(count)
            for partner in [rng.randrange(1, partners + 1)]
        ),
    )
    connection.execute("COMMIT")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=0)
    parser.add_argument("--before", metavar="PAYOUTS", help="the payouts script of the code to compare with")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}; load average {os.getloadavg()[0]:.2f} at the start")
    from domain.secret_box import generate_key

    key = generate_key()
    env = {"PAYOUTS_SECRET_KEY": key}
    scripts = ([("before: ", (args.before,))] if args.before else []) + [("", PAYOUTS)]
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        database = scratch / "export.db"
        builder = multiprocessing.get_context("spawn").Process(target=build, args=(database, key, args.partners, args.history))
        builder.start()
        builder.join()
        url = f"sqlite:///{database}"
        workloads = {
            "batch export --format csv": ["batch", "export", BATCH_ID, "--format", "csv", "--output", str(scratch / "g.csv")],
            "batch export --format paypal": ["batch", "export", BATCH_ID, "--format", "paypal", "--output", str(scratch / "p.csv")],
            "batch export --format wise": ["batch", "export", BATCH_ID, "--format", "wise", "--output", str(scratch / "w.csv")],
            "batch export (provider files)": ["batch", "export", BATCH_ID, "--output", str(scratch)],
            "batch show --format json": ["batch", "show", BATCH_ID, "--format", "json"],
            "batch show --format table": ["batch", "show", BATCH_ID, "--format", "table"],
        }
        results = {(prefix, label): Result(f"{prefix}{label}") for label in workloads for prefix, _ in scripts}
        for _prefix, script in scripts:
            run_process([*script, "--database", url, *workloads["batch export (provider files)"]], env=env)
        for _ in range(args.repeat):
            for label, command in workloads.items():
                for prefix, script in scripts:
                    results[(prefix, label)].runs.append(run_process([*script, "--database", url, *command], env=env))
        listing = subprocess.run([*PAYOUTS, "--database", url, *workloads["batch export (provider files)"]],
                                 env={**os.environ, **env}, capture_output=True, text=True, check=True)
    print_table(f"SQLite: a posted batch of {args.partners:,} lines, mixed methods and currencies, "
                f"{args.history:,} entries of history (median of {args.repeat})", list(results.values()), memory=True)
    print(f"\nProvider files written: {len(listing.stdout.splitlines())}; "
          f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
