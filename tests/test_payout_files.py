"""Payout files for a posted batch, checked line by line (SPEC §7), through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import cli
from commands.payout_files import ExportError, PayoutFile, file_name, payout_files
from domain import batches
from domain.batches import PlannedLine
from domain.ledger import partners_by_ids
from domain.models import Batch, Partner
from tests.factories import add_entry, add_partner, post_june_batch

NOW = datetime(2015, 7, 1, tzinfo=UTC)
OPERATOR = batches.ApprovalPolicy(frozenset(), trusted_operator=True)


def _post(db, *, with_emails: bool = True) -> str:
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann Lee", email="ann@example.com", payout_email="pay-ann@example.com")
        evil = add_partner(s, "EVIL", "=HYPERLINK(\"http://x\")", email="-evil@example.com")
        bob = add_partner(s, "BOB", "Bob Müller", currency="EUR", email="bob@example.com" if with_emails else None)
        yen = add_partner(s, "YEN", "山田太郎", currency="JPY", email="yamada@example.jp")
        add_entry(s, ann, "commission", 12_345, "2015-06-10")
        add_entry(s, evil, "commission", 100, "2015-06-11")
        add_entry(s, bob, "commission", 2_050, "2015-06-12")
        add_entry(s, yen, "commission", 1_500, "2015-06-13")
    batch_id = post_june_batch(db, NOW)
    return batch_id


def _files(db, batch_id: str, fmt: str, currency: str | None = None) -> list[PayoutFile]:
    with db.read() as s:
        batch = batches.get_batch(s, batch_id)
        lines, _ = batches.frozen_lines(batch)
        return payout_files(batch, lines, partners_by_ids(s, (line.partner_id for line in lines)), fmt, currency)


def test_paypal_files_have_no_header_and_one_currency_each(sqlite_db):
    batch_id = _post(sqlite_db)
    files = {f.currency: f.text.splitlines() for f in _files(sqlite_db, batch_id, "paypal")}
    note = "Referral commission payout Batch-20150624"
    assert files["USD"] == [
        f"pay-ann@example.com,123.45,USD,ANN,{note},PAYPAL",
        f"-evil@example.com,1.00,USD,EVIL,{note},PAYPAL",
    ]
    assert files["EUR"] == [f'bob@example.com,"20,50",EUR,BOB,{note},PAYPAL']
    assert files["JPY"] == [f"yamada@example.jp,1500,JPY,YEN,{note},PAYPAL"]


def test_wise_file_has_wises_header_and_names_as_given(sqlite_db):
    batch_id = _post(sqlite_db)
    usd = next(f for f in _files(sqlite_db, batch_id, "wise") if f.currency == "USD").text.splitlines()
    assert usd[0] == "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency"
    assert usd[1] == "Ann Lee,pay-ann@example.com,Batch-20150624,PERSON,target,123.45,USD,USD"
    assert usd[2] == "\"=HYPERLINK(\"\"http://x\"\")\",-evil@example.com,Batch-20150624,PERSON,target,1.00,USD,USD"


def test_generic_csv_of_a_batch_in_several_currencies_is_one_file_per_currency(sqlite_db):
    batch_id = _post(sqlite_db)
    files = {f.currency: f.text.splitlines() for f in _files(sqlite_db, batch_id, "csv")}
    assert sorted(files) == ["EUR", "JPY", "USD"]
    assert files["EUR"] == [
        "batch_id,partner_code,partner_name,email,amount,currency,payment_type,payment_date",
        "Batch-20150624,BOB,Bob Müller,bob@example.com,20.50,EUR,PayPal,2015-06-24",
    ]
    assert files["JPY"][1:] == ["Batch-20150624,YEN,山田太郎,yamada@example.jp,1500,JPY,PayPal,2015-06-24"]
    assert len(files["USD"]) == 3


def test_a_partner_without_an_email_stops_the_export_by_name(sqlite_db):
    batch_id = _post(sqlite_db, with_emails=False)
    with pytest.raises(ExportError, match=r"BOB \(Bob Müller\)"):
        _files(sqlite_db, batch_id, "paypal")


def test_only_a_posted_batch_exports(sqlite_db):
    batch_id = _post(sqlite_db)
    with sqlite_db.write() as s:
        batches.void_batch(s, batch_id, actor="cli:test", reason="wrong", now=NOW)
    with pytest.raises(ExportError, match="voided"):
        _files(sqlite_db, batch_id, "csv")


def test_one_currency_can_be_exported_alone(sqlite_db):
    batch_id = _post(sqlite_db)
    [eur] = _files(sqlite_db, batch_id, "paypal", "EUR")
    assert eur.text.count("\n") == 1


def _posted_batch_paying(currency: str) -> tuple[Batch, list[PlannedLine], dict[int, Partner]]:
    """A posted batch as stored before currency codes were checked: one line in `currency`."""
    batch = Batch(batch_id="B-OLD", status="posted", payment_type="PayPal", payment_date=date(2015, 6, 24))
    partner = Partner(id=1, code="ODD", name="Odd Partner", email="odd@example.com", currency=currency)
    line = PlannedLine(1, "ODD", "Odd Partner", currency, 1_000, 0, 1_000, 0, 0, 1_000, None)
    return batch, [line], {1: partner}


@pytest.mark.parametrize("fmt", ["paypal", "wise", "csv"])
def test_a_line_in_a_code_that_is_no_money_stops_the_export_naming_the_partner(fmt):
    batch, lines, partners = _posted_batch_paying("QQQ")
    with pytest.raises(ExportError, match=r"^'QQQ' is not an ISO 4217 currency code: .*ODD \(Odd Partner\)"):
        payout_files(batch, lines, partners, fmt)


def test_the_export_currency_option_refuses_a_code_that_is_no_money(sqlite_db, capsys):
    batch_id = _post(sqlite_db)
    assert cli.main(["--database", sqlite_db.url, "batch", "export", batch_id, "--format", "csv",
                     "--currency", "XAU"]) == 2
    assert capsys.readouterr().err == "payouts: 'XAU' is not a currency of money (precious metal)\n"


def test_file_names_carry_the_currency_when_split():
    usd = PayoutFile("USD", 1, "")
    assert file_name("payouts.csv", usd, several=True) == "payouts-USD.csv"
    assert file_name("payouts.csv", usd, several=False) == "payouts.csv"
    assert file_name("out/payouts.csv", PayoutFile("EUR", 2, ""), several=True) == "out/payouts-EUR-2.csv"


def test_batch_export_from_the_cli_writes_one_file_per_currency(sqlite_db, tmp_path):
    batch_id = _post(sqlite_db)
    url = sqlite_db.engine.url.render_as_string(hide_password=False)
    run = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "--database", url,
         "batch", "export", batch_id, "--format", "paypal", "--output", str(tmp_path / "payouts.csv")],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in Path(tmp_path).glob("payouts-*.csv")) == [
        "payouts-EUR.csv", "payouts-JPY.csv", "payouts-USD.csv"]
