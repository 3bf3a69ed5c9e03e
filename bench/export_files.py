"""Exporting a 10,000-partner posted batch as provider-ready files (SPEC §9), on SQLite.

    python bench/export_files.py [--repeat 5]

Builds its own data (untimed): 10,000 partners paid in USD, EUR, GBP, JPY, HUF, AUD and KWD by a
mix of methods (PayPal, Wise by e-mail, bank with encrypted details, check), one commission each
in June 2015, and a posted batch paying them all. Rows, in the same run:

- `payouts batch export ID --format csv --output FILE`: one generic file per currency, no bank
  details read: the baseline;
- `payouts batch export ID --output DIR`: one file per payout method and currency, every line
  checked against its provider's rules and every bank detail decrypted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from _measure import PAYOUTS, ROOT, Result, machine, print_table, run_process

sys.path.insert(0, str(ROOT))

PARTNERS = 10_000
BATCH_ID = "Batch-Bench"
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "HUF", "AUD", "KWD")
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)


def _details(number: int, currency: str) -> tuple[str, dict[str, str], object]:
    """A payout method each partner's currency can be paid by, with fake but valid details."""
    from domain.payout_details import BankDetails

    method = ("paypal", "wise-email", "bank", "check")[number % 4]
    if currency == "KWD" and method in ("paypal", "bank"):
        method = "check"
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


def build(path: Path, key: str) -> None:
    """The data set, written through the domain (untimed)."""
    from domain import batches, migrations_runner
    from domain.dates import DateRange
    from domain.db import Database
    from domain.models import Entry, Partner
    from domain.secret_box import SecretBox

    box = SecretBox([key])
    db = Database(f"sqlite:///{path}")
    migrations_runner.upgrade(db.engine)
    with db.write() as session:
        for number in range(1, PARTNERS + 1):
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
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                                   date(2015, 7, 1), batch_id=BATCH_ID)
    policy = batches.ApprovalPolicy(frozenset({"cli:bench"}), trusted_operator=True)
    with db.write() as session:
        batches.request_and_post_batch(session, options, actor="cli:bench", policy=policy, now=NOW)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Machine: {machine()}; {date.today()}")
    from domain.secret_box import generate_key

    key = generate_key()
    env = {"PAYOUTS_SECRET_KEY": key}
    generic, provider = Result("batch export --format csv (baseline)"), Result("batch export (provider files)")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        database = scratch / "export.db"
        build(database, key)
        url = f"sqlite:///{database}"
        out = scratch / "out"
        out.mkdir()
        baseline = [*PAYOUTS, "--database", url, "batch", "export", BATCH_ID, "--format", "csv",
                    "--output", str(scratch / "generic.csv")]
        command = [*PAYOUTS, "--database", url, "batch", "export", BATCH_ID, "--output", str(out)]
        run_process(command, env=env)
        for _ in range(args.repeat):
            generic.runs.append(run_process(baseline, env=env))
            provider.runs.append(run_process(command, env=env))
        listing = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    print_table(f"SQLite: exporting a posted batch of {PARTNERS:,} lines, mixed methods and currencies "
                f"(median of {args.repeat})", [generic, provider], baseline=generic)
    print(f"\nFiles written: {len(listing.stdout.splitlines())}")
    print(f"- provider files under 3 seconds: {provider.median:.3f} s, {'met' if provider.median < 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
