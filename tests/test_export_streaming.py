"""Exports and `batch show` of a posted batch, written row by row, pinned byte for byte.

`tests/fixtures/batch_outputs.json` holds what `payouts batch export` (every format, and the
provider files) and `payouts batch show` printed and wrote for the batch built here: six
currencies, every payout method, a PayPal customer ID that differs from its partner code, Wise files
split into parts, a skipped line and a failed one. The exports are written as the rows come from
the database; these tests hold them to the bytes the files had when they were built whole.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from commands import payout_files
from domain import batches
from domain.batches import PlannedLine
from domain.db import Database
from domain.models import Batch, Partner
from domain.payout_details import BankDetails
from domain.secret_box import SecretBox, generate_key
from tests.factories import add_entry, add_partner, post_june_batch

FIXTURE = Path(__file__).parent / "fixtures" / "batch_outputs.json"
NOW = datetime(2015, 7, 1, 9, 30, tzinfo=UTC)
OPERATOR = batches.ApprovalPolicy(frozenset(), trusted_operator=True)
LONG_CODE = "PARTNER WITH A CODE LONGER THAN THIRTY CHARACTERS"
US_ADDRESS = {"address_line1": "1 Main St", "city": "Springfield", "state": "IL", "postcode": "62701", "country": "US"}
AU_ADDRESS = {"address_line1": "2 George St", "city": "Sydney", "state": "NSW", "postcode": "2000", "country": "AU"}
FR_ADDRESS = {"address_line1": "3 Rue X", "city": "Paris", "state": None, "postcode": "75001", "country": "FR"}
# code, name, currency, method, amount, address, bank details
PARTNERS: tuple[tuple[str, str, str, str | None, int, dict | None, BankDetails | None], ...] = (
    ("ANN", "Ann Lee", "USD", None, 12_345, None, None),
    ("EVIL", '=HYPERLINK("http://x")', "USD", "paypal", 100, None, None),
    (LONG_CODE, "Long Code", "USD", "paypal", 2_500, None, None),
    ("BOB", "Bob Müller", "EUR", "paypal", 2_050, None, None),
    ("YEN", "山田太郎", "JPY", "paypal", 1_500, None, None),
    ("HUF1", "Hu One", "HUF", "wise-email", 500_000, None, None),
    ("W1", "Wise One", "USD", "wise-email", 1_000, None, None),
    ("W2", "Wise Two", "USD", "wise-email", 2_000, None, None),
    ("W3", "+Wise Three", "USD", "wise-email", 3_000, None, None),
    ("GB1", "Gail Brit", "GBP", "bank", 4_200, None, BankDetails(sort_code="601613", account_number="31926819")),
    ("AU1", "Aussie", "AUD", "bank", 7_700, AU_ADDRESS, BankDetails(bsb="062000", account_number="12345678")),
    ("US1", "Us Bank", "USD", "bank", 8_800, US_ADDRESS,
     BankDetails(ach_routing="021000021", account_number="4000123", account_type="checking")),
    ("EU1", "Eu Bank", "EUR", "bank", 9_900, None, BankDetails(iban="DE89370400440532013000")),
    ("CHK", "Check Person", "USD", "check", 5_000, US_ADDRESS, None),
    ("CHE", "Chèque Personne", "EUR", "check", 6_000, FR_ADDRESS, None),
    ("FAIL", "Failed Payee", "USD", "paypal", 7_000, None, None),
)


def _build(db: Database, box: SecretBox) -> str:
    """The batch above, posted, with FAIL's payment recorded as failed and SKIP skipped (owes money)."""
    with db.write() as s:
        for number, (code, name, currency, method, amount, address, bank) in enumerate(PARTNERS, start=1):
            partner = add_partner(s, code, name, currency=currency, email=f"p{number}@example.com")
            partner.payout_method = method
            for field, value in (address or {}).items():
                setattr(partner, field, value)
            if bank is not None:
                partner.bank_details, partner.bank_mask = box.encrypt(bank.to_json()), bank.masked()
            add_entry(s, partner, "commission", amount, "2015-06-10")
        skip = add_partner(s, "SKIP", "Owes Money", email="skip@example.com")
        add_entry(s, skip, "clawback", 300, "2015-06-11")
    batch_id = post_june_batch(db, NOW)
    with db.write() as s:
        batches.fail_batch_line(s, batch_id, "FAIL", actor="cli:test", reason="returned", now=NOW)
    return batch_id


def _run(capsys, db: Database, *args: str) -> str:
    status = main(["--database", db.url, *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def outputs(capsys, db: Database, folder: Path, monkeypatch) -> dict[str, str]:
    """What every export and show printed and wrote, by a name that says which command and file."""
    monkeypatch.setattr(payout_files, "WISE_ROWS_PER_FILE", 2)
    key = generate_key()
    monkeypatch.setenv("PAYOUTS_SECRET_KEY", key)
    batch_id = _build(db, SecretBox([key]))
    found: dict[str, str] = {}
    for fmt in ("csv", "paypal", "wise"):
        target = folder / fmt
        target.mkdir()
        found[f"export {fmt} stdout"] = _run(capsys, db, "batch", "export", batch_id, "--format", fmt,
                                             "--output", str(target / "out.csv")).replace(str(target), "DIR")
        found.update({f"export {fmt} {path.name}": path.read_bytes().decode("utf-8")
                      for path in sorted(target.iterdir())})
    found["export csv EUR to stdout"] = _run(capsys, db, "batch", "export", batch_id, "--format", "csv",
                                             "--currency", "EUR")
    providers = folder / "providers"
    providers.mkdir()
    found["export providers stdout"] = _run(capsys, db, "batch", "export", batch_id,
                                            "--output", str(providers)).replace(str(providers), "DIR")
    found.update({f"export providers {path.name}": path.read_bytes().decode("utf-8")
                  for path in sorted(providers.iterdir())})
    found["show json"] = _run(capsys, db, "batch", "show", batch_id, "--format", "json")
    found["show table"] = _run(capsys, db, "batch", "show", batch_id, "--format", "table")
    return found


@pytest.fixture
def pinned() -> dict[str, str]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _only(found: dict[str, str], prefix: str) -> dict[str, str]:
    return {name: text for name, text in found.items() if name.startswith(prefix)}


def test_every_export_writes_the_bytes_the_whole_files_had(capsys, db, tmp_path, monkeypatch, pinned):
    found = outputs(capsys, db, tmp_path, monkeypatch)
    assert _only(found, "export") == _only(pinned, "export")


def _as_sqlite_gives_it(text: str) -> str:
    """SQLite hands `failed_at` back without its time zone and PostgreSQL with it; the pinned JSON is SQLite's."""
    return text.replace('"failed_at": "2015-07-01T09:30:00+00:00"', '"failed_at": "2015-07-01T09:30:00"')


def test_batch_show_prints_what_it_printed_when_it_held_every_line(capsys, db, tmp_path, monkeypatch, pinned):
    found = outputs(capsys, db, tmp_path, monkeypatch)
    assert {name: _as_sqlite_gives_it(text) for name, text in _only(found, "show").items()} == _only(pinned, "show")


class _Recording:
    """A sink noting each write among the reads of the lines, in the order they happen."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def plan(self, batch_id: str, files: list[payout_files.PayoutFile]) -> None:
        self.events.append(f"plan {len(files)} file(s)")

    def open(self, payout: payout_files.PayoutFile) -> io.StringIO:
        events = self.events

        class Handle(io.StringIO):
            def write(self, text: str) -> int:
                events.append("write " + text.split(",")[1] if text.startswith("B1,") else "write header")
                return len(text)

        return Handle()

    def close(self, payout: payout_files.PayoutFile, handle: io.StringIO) -> None:
        self.events.append("close")


def test_each_row_is_written_as_its_line_is_read_after_a_first_pass_checks_them_all():
    """Issue 21: an export at 100,000 partners never holds the batch's lines nor a file's text."""
    batch = Batch(batch_id="B1", status="posted", payment_type="PayPal", payment_date=date(2015, 6, 24))
    partners = [Partner(id=n, code=f"P{n}", name=f"Partner {n}", currency="USD", email=f"p{n}@example.com")
                for n in (1, 2, 3)]
    events: list[str] = []

    def pairs():  # type: ignore[no-untyped-def]
        for partner in partners:
            events.append(f"read {partner.code}")
            yield PlannedLine(partner.id, partner.code, partner.name, "USD", 100, 0, 100, 0, 0, 100), partner

    payout_files.write_payout_files(batch, payout_files.format_source(pairs, "csv"), "csv", _Recording(events))
    assert events == ["read P1", "read P2", "read P3", "plan 1 file(s)",
                      "read P1", "write header", "write P1", "read P2", "write P2", "read P3", "write P3", "close"]
