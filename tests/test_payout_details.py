"""Payout details on partners (SPEC §9): checked on import, encrypted at rest, masked when shown."""

from __future__ import annotations

import io
import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import cli
from domain import batches, imports
from domain.dates import DateRange
from domain.models import AuditEvent, Partner
from domain.payout_details import BankDetails, aba_checksum_ok, mask, read_bank_details
from domain.secret_box import SecretBox, SecretKeyError, generate_key
from tests.factories import add_entry

IBAN = "DE89370400440532013000"
US_ACCOUNT = "987654321012"
UK_ACCOUNT = "31926819"
HEADER = "code,name,email,currency,payout_method,entity,iban,sort_code,account_number,ach_routing,account_type,address_line1,city,state,postcode,country"
ROWS = (
    f"EU1,Eva,eva@example.com,EUR,bank,person,{IBAN},,,,,,,,,DE",
    f"UK1,Olly,,GBP,bank,business,,60-16-13,{UK_ACCOUNT},,,,,,,GB",
    f"US1,Sam,,USD,bank,person,,,{US_ACCOUNT},021000021,checking,1 Main St,Springfield,IL,62701,us",
)
PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
NOW = datetime(2015, 7, 1, tzinfo=UTC)


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([generate_key()])


def _import(db, rows: tuple[str, ...] | list[str], box: SecretBox | None, header: str = HEADER) -> imports.ImportResult:
    with db.write() as s:
        return imports.import_partners(s, io.StringIO("\n".join([header, *rows]) + "\n"), source="partners.csv",
                                       actor="cli:test", default_currency="USD", secrets=box)


def _refused(db, rows, box, header: str = HEADER) -> list[str]:
    with pytest.raises(imports.ImportRefused) as refused:
        _import(db, rows, box, header)
    with db.read() as s:
        assert s.scalars(select(Partner)).all() == []
    return [str(problem) for problem in refused.value.problems]


def _stored(db, box: SecretBox) -> dict[str, BankDetails]:
    with db.read() as s:
        partners = s.scalars(select(Partner)).all()
        bank = read_bank_details(partners, box)
        return {p.code: bank[p.id] for p in partners if p.id in bank}


def test_payout_details_are_imported_checked_and_normalised(db, box):
    _import(db, ROWS, box)
    with db.read() as s:
        sam = s.scalars(select(Partner).where(Partner.code == "US1")).one()
        assert (sam.payout_method, sam.entity, sam.country, sam.bank_mask) == ("bank", "person", "US", "account ••••1012")
    assert _stored(db, box)["UK1"] == BankDetails(sort_code="601613", account_number=UK_ACCOUNT)
    assert _stored(db, box)["EU1"].iban == IBAN


def test_an_iban_with_a_bad_checksum_is_refused_with_row_and_column(db, box):
    """ISO 13616: the two check digits make the IBAN's mod-97 remainder 1."""
    rows = [ROWS[0].replace(IBAN, "DE89370400440532013001")]
    assert _refused(db, rows, box) == ["row 2, column iban: ••••3001 is not a valid IBAN: invalid checksum digits"]


def test_an_iban_of_the_wrong_length_for_its_country_is_refused(db, box):
    """ISO 13616 registry: a German IBAN has 22 characters."""
    rows = [ROWS[0].replace(IBAN, IBAN[:-1])]
    assert _refused(db, rows, box) == ["row 2, column iban: ••••1300 is not a valid IBAN: invalid iban length"]


def test_a_routing_number_with_a_wrong_check_digit_is_refused(db, box):
    """ABA routing numbers: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10)."""
    rows = [ROWS[2].replace("021000021", "021000022")]
    assert _refused(db, rows, box) == [
        "row 2, column ach_routing: ••••0022 is not an ABA routing number: its check digit is wrong"]


def test_an_unknown_country_is_refused(db, box):
    """ISO 3166-1 alpha-2: XK is no assigned code."""
    rows = [ROWS[0].removesuffix(",DE") + ",XK"]
    assert _refused(db, rows, box) == [
        "row 2, column country: 'XK' is not an ISO 3166-1 alpha-2 country code (like US, GB, DE)"]


@pytest.mark.parametrize(("column_value", "column"), [("12-34-5", "sort_code"), ("1234567", "account_number")])
def test_a_uk_sort_code_and_account_number_need_6_and_8_digits(db, box, column_value, column):
    row = ROWS[1].replace("60-16-13", column_value) if column == "sort_code" else ROWS[1].replace(UK_ACCOUNT, column_value)
    [problem] = _refused(db, [row], box)
    assert problem.startswith(f"row 2, column {column}: ")


def test_a_bsb_needs_6_digits(db, box):
    header = "code,name,currency,payout_method,bsb,account_number"
    assert _refused(db, ["AU1,Ann,AUD,bank,06200,12345678"], box, header) == [
        "row 2, column bsb: ••••6200 is not a BSB (6 digits)"]


def test_an_unknown_payout_method_is_refused(db, box):
    assert _refused(db, [ROWS[0].replace(",bank,", ",venmo,")], box) == [
        "row 2, column payout_method: 'venmo' is not one of paypal, wise-email, bank, check"]


def test_bank_details_without_a_secret_key_are_refused(db):
    problems = _refused(db, ROWS[:1], None)
    assert problems == ["row 2, column iban: bank details are stored encrypted: set PAYOUTS_SECRET_KEY "
                        "(create one with `payouts secret-key`) and import again"]


def test_a_partner_file_without_bank_details_needs_no_key(db):
    _import(db, ["ANN,Ann,ann@example.com,USD,paypal,,,,,,,,,,,"], None)
    with db.read() as s:
        assert s.scalars(select(Partner.payout_method)).one() == "paypal"


def test_a_bank_column_left_empty_keeps_what_is_stored(db, box):
    _import(db, ROWS, box)
    _import(db, ["US1,Sam,,USD,,,,,,,savings,,,,,"], box)
    assert _stored(db, box)["US1"] == BankDetails(account_number=US_ACCOUNT, ach_routing="021000021", account_type="savings")


def test_mask_shows_only_the_last_four_characters():
    assert mask(US_ACCOUNT) == "••••1012"


def test_the_aba_checksum_accepts_real_routing_numbers():
    assert aba_checksum_ok("021000021") and aba_checksum_ok("011000015") and not aba_checksum_ok("021000022")


def test_a_key_that_is_no_fernet_key_is_refused_without_showing_it():
    with pytest.raises(SecretKeyError, match="key 2 is not a key made by `payouts secret-key`") as refused:
        SecretBox.from_env({"PAYOUTS_SECRET_KEY": f"{generate_key()},not-a-key"})
    assert "not-a-key" not in str(refused.value)


# ---- nothing in clear at rest ---------------------------------------------------------------------


def _secrets_in(blob: bytes) -> list[str]:
    return [secret for secret in (IBAN, US_ACCOUNT, UK_ACCOUNT) if secret.encode() in blob]


def test_the_sqlite_file_holds_no_iban_or_account_number_in_clear(sqlite_db, box):
    _import(sqlite_db, ROWS, box)
    path = Path(make_url(sqlite_db.url).database or "")
    sqlite_db.dispose()
    blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert blob and _secrets_in(blob) == []


@pytest.mark.postgres
def test_a_postgresql_dump_holds_no_iban_or_account_number_in_clear(postgres_db, box):
    if not os.path.exists(PG_DUMP):
        pytest.skip(f"no {PG_DUMP}")
    _import(postgres_db, ROWS, box)
    url = make_url(postgres_db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run([PG_DUMP, "--data-only", url], capture_output=True, check=True, timeout=60).stdout
    assert b"bank_details" not in dump or b"gAAAA" in dump
    assert _secrets_in(dump) == []


# ---- rotation -------------------------------------------------------------------------------------


def test_rotate_secrets_leaves_every_value_readable_with_the_new_key_and_not_with_the_old_alone(db, monkeypatch, capsys):
    old, new = generate_key(), generate_key()
    _import(db, ROWS, SecretBox([old]))
    monkeypatch.setenv("PAYOUTS_SECRET_KEY", f"{new},{old}")
    assert cli.main(["--database", db.url, "rotate-secrets"]) == 0
    assert "3 partner(s)" in capsys.readouterr().out
    assert _stored(db, SecretBox([new]))["US1"].account_number == US_ACCOUNT
    with pytest.raises(SecretKeyError):
        _stored(db, SecretBox([old]))


def test_rotate_secrets_without_the_old_key_changes_nothing(db, monkeypatch, capsys):
    old = generate_key()
    _import(db, ROWS, SecretBox([old]))
    monkeypatch.setenv("PAYOUTS_SECRET_KEY", generate_key())
    assert cli.main(["--database", db.url, "rotate-secrets"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert _stored(db, SecretBox([old]))["EU1"].iban == IBAN


# ---- masked everywhere but a payout file ----------------------------------------------------------


def _posted_batch(db, box) -> str:
    _import(db, ROWS, box)
    with db.write() as s:
        for partner in s.scalars(select(Partner)):
            add_entry(s, partner, "commission", 10_000, "2015-06-10")
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance",
                                   "Bank transfer", date(2015, 6, 24))
    with db.write() as s:
        batch_id = batches.request_batch(s, options, actor="cli:test", now=NOW).batch_id
    with db.write() as s:
        batches.approve_batch(s, batch_id, actor="cli:test", now=NOW,
                              policy=batches.ApprovalPolicy(frozenset(), trusted_operator=True))
    return batch_id


def test_the_bank_file_holds_the_details_in_full(db, keyed_box, monkeypatch, tmp_path, capsys):
    batch_id = _posted_batch(db, keyed_box)
    monkeypatch.setenv("PAYOUTS_SECRET_KEY", _key_of(keyed_box))
    folder = tmp_path / "files"
    folder.mkdir()
    assert cli.main(["--database", db.url, "batch", "export", batch_id, "--output", str(folder)]) == 0
    written = {p.name: p.read_text() for p in folder.glob("*.csv")}
    assert sorted(written) == [f"{batch_id}-bank-EUR.csv", f"{batch_id}-bank-GBP.csv", f"{batch_id}-bank-USD.csv"]
    assert IBAN in written[f"{batch_id}-bank-EUR.csv"] and US_ACCOUNT in written[f"{batch_id}-bank-USD.csv"]
    assert _secrets_in(capsys.readouterr().out.encode()) == []


def test_exporting_bank_payouts_without_the_key_is_refused_and_writes_nothing(db, box, monkeypatch, tmp_path, capsys):
    batch_id = _posted_batch(db, box)
    monkeypatch.delenv("PAYOUTS_SECRET_KEY", raising=False)
    folder = tmp_path / "files"
    folder.mkdir()
    assert cli.main(["--database", db.url, "batch", "export", batch_id, "--output", str(folder)]) == 2
    assert "needs PAYOUTS_SECRET_KEY" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


_KEYS: dict[int, str] = {}


def _key_of(box: SecretBox) -> str:
    return _KEYS[id(box)]


@pytest.fixture
def keyed_box() -> SecretBox:
    key = generate_key()
    made = SecretBox([key])
    _KEYS[id(made)] = key
    return made


@pytest.mark.parametrize("output", [
    ["ledger", "2015-06", "--format", "json"],
    ["ledger", "2015-06", "--format", "csv"],
    ["ledger", "2015-06", "--partner", "US1", "--format", "json"],
    ["batch", "show", "Batch-20150624", "--format", "json"],
    ["batch", "list", "--format", "json"],
    ["audit", "--format", "json"],
])
def test_cli_outputs_show_no_bank_detail_in_clear(db, keyed_box, capsys, output):
    _posted_batch(db, keyed_box)
    assert cli.main(["--database", db.url, *output]) == 0
    assert _secrets_in(capsys.readouterr().out.encode()) == []


def test_the_printed_ledgers_show_no_bank_detail_in_clear(db, keyed_box, tmp_path):
    from pypdf import PdfReader

    batch_id = _posted_batch(db, keyed_box)
    target = tmp_path / "ledgers.pdf"
    assert cli.main(["--database", db.url, "batch", "print", batch_id, "--output", str(target)]) == 0
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert _secrets_in(text.encode() + target.read_bytes()) == []


def test_the_chat_replies_about_a_batch_show_no_bank_detail_in_clear(db, keyed_box, settings):
    from commands import chat
    from commands.context import Request

    batch_id = _posted_batch(db, keyed_box)
    request = Request(db=db, settings=settings, actor="U1", approvers=frozenset({"U1"}), trusted_operator=True)
    replies = chat.run_command("payout", f"status {batch_id}", request) + chat.run_command("ledger", "2015-06", request)
    shown = json.dumps([repr(reply) for reply in replies])
    assert _secrets_in(shown.encode()) == []


def test_the_audit_log_of_an_import_counts_bank_details_without_showing_them(db, box):
    _import(db, ROWS, box)
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import.partners")).one()
    assert json.loads(event.detail)["bank_details_changed"] == 3
    assert _secrets_in(event.detail.encode()) == []


# ---- the demo -------------------------------------------------------------------------------------


def _demo_export(tmp_path, monkeypatch, key: str | None) -> list[str]:
    from datetime import timedelta

    if key is None:
        monkeypatch.delenv("PAYOUTS_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("PAYOUTS_SECRET_KEY", key)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli.main(["--database", url, "demo", "--no-shell", "--partners", "60"]) == 0
    paid = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    assert cli.main(["--database", url, "pay", f"{paid:%Y-%m}", "--method", "ending-balance", "--yes",
                     "--batch-id", "DEMO"]) == 0
    folder = tmp_path / "files"
    folder.mkdir()
    assert cli.main(["--database", url, "batch", "export", "DEMO", "--output", str(folder)]) == 0
    return sorted({p.name.split("-")[1] if not p.name.startswith("DEMO-wise") else "wise-email" for p in folder.iterdir()})


def test_the_demo_with_a_key_gives_every_kind_of_payout_file(tmp_path, monkeypatch):
    assert _demo_export(tmp_path, monkeypatch, generate_key()) == ["bank", "check", "paypal", "wise-email"]


def test_the_demo_without_a_key_stores_no_bank_details_and_still_exports(tmp_path, monkeypatch, capsys):
    assert _demo_export(tmp_path, monkeypatch, None) == ["check", "paypal", "wise-email"]
    assert "no demo partner has bank details" in capsys.readouterr().out
