"""The `payouts` command line for the ledger (SPEC §5, §7): the shapes and exit codes scripts rely on."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from domain.db import Database
from tests.factories import add_entry, add_partner

PAYOUTS = str(Path(sys.executable).with_name("payouts"))
FIGURES = ("beginning_balance", "commissions", "clawbacks", "payments", "ending_balance")


def run(db: Database, *args: str) -> int:
    return cli.main(["--database", db.url, *args])


def _ledger(db: Database) -> None:
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann Lee", email="ann@example.com")
        yuki = add_partner(s, "YUKI", "山田太郎", currency="JPY", email=None)
        kal = add_partner(s, "KAL", "Kal", currency="KWD")
        add_partner(s, "IDLE", "Idle")
        add_entry(s, ann, "commission", 123_450, "2015-05-10", reference="ORD-1", description="Annual plan")
        add_entry(s, ann, "commission", 5_000, "2015-06-01", reference="ORD-2", description="Monthly plan")
        add_entry(s, ann, "clawback", 1_250, "2015-06-15", reference="ORD-2", description="Refund")
        add_entry(s, ann, "payment", 123_450, "2015-06-30", reference="Batch-20150630", description="Check")
        add_entry(s, yuki, "commission", 1_500, "2015-06-02", reference="ORD-3")
        add_entry(s, kal, "clawback", 1_250, "2015-06-03", reference="ORD-4")


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert "Traceback" not in captured.err
    return line


# ---- init --------------------------------------------------------------------------------------


def test_init_creates_the_schema_and_running_it_again_is_harmless(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert cli.main(["--database", url, "init"]) == 0
    assert cli.main(["--database", url, "init"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"Database ready: {url}"] * 2
    assert cli.main(["--database", url, "ledger", "2015-06", "--format", "json"]) == 0


def test_a_database_that_was_never_initialised_fails_with_exit_1_and_says_to_run_init(tmp_path, capsys):
    (tmp_path / "empty.db").touch()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert cli.main(["--database", url, "ledger", "2015-06"]) == 1
    line = one_line_error(capsys)
    assert line == f"payouts: the database {url} has no schema yet: run `payouts init` first"


# ---- the report as JSON ------------------------------------------------------------------------


def test_ledger_json_has_the_shape_of_spec_5_with_amounts_in_each_currencys_decimals(sqlite_db, capsys):
    _ledger(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06-01..2015-06-30", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "start": "2015-06-01",
        "end": "2015-06-30",
        "rows": [
            {"partner_code": "ANN", "partner_name": "Ann Lee", "currency": "USD", "beginning_balance": "1234.50",
             "commissions": "50.00", "clawbacks": "12.50", "payments": "1234.50", "ending_balance": "37.50"},
            {"partner_code": "KAL", "partner_name": "Kal", "currency": "KWD", "beginning_balance": "0.000",
             "commissions": "0.000", "clawbacks": "1.250", "payments": "0.000", "ending_balance": "-1.250"},
            {"partner_code": "YUKI", "partner_name": "山田太郎", "currency": "JPY", "beginning_balance": "0",
             "commissions": "1500", "clawbacks": "0", "payments": "0", "ending_balance": "1500"},
        ],
        "totals": [
            {"currency": "JPY", "beginning_balance": "0", "commissions": "1500", "clawbacks": "0",
             "payments": "0", "ending_balance": "1500"},
            {"currency": "KWD", "beginning_balance": "0.000", "commissions": "0.000", "clawbacks": "1.250",
             "payments": "0.000", "ending_balance": "-1.250"},
            {"currency": "USD", "beginning_balance": "1234.50", "commissions": "50.00", "clawbacks": "12.50",
             "payments": "1234.50", "ending_balance": "37.50"},
        ],
    }


def test_ledger_all_lists_partners_with_nothing_to_show(sqlite_db, capsys):
    _ledger(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06", "--all", "--format", "json") == 0
    assert [row["partner_code"] for row in json.loads(capsys.readouterr().out)["rows"]] == ["ANN", "IDLE", "KAL", "YUKI"]


def test_ledger_output_writes_the_file_and_nothing_to_standard_output(sqlite_db, tmp_path, capsys):
    _ledger(sqlite_db)
    target = tmp_path / "report.json"
    assert run(sqlite_db, "ledger", "2015-06", "--format", "json", "--output", str(target)) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["start"] == "2015-06-01"


# ---- the report as CSV -------------------------------------------------------------------------


def test_ledger_csv_has_the_header_of_spec_7_and_plain_amounts(sqlite_db, capsys):
    _ledger(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06", "--format", "csv") == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["partner_code", "partner_name", "email", "currency", *FIGURES]
    assert rows[1:] == [
        ["ANN", "Ann Lee", "ann@example.com", "USD", "1234.50", "50.00", "12.50", "1234.50", "37.50"],
        ["KAL", "Kal", "partner@example.com", "KWD", "0.000", "0.000", "1.250", "0.000", "-1.250"],
        ["YUKI", "山田太郎", "", "JPY", "0", "1500", "0", "0", "1500"],
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_ledger_csv_text_cells_that_a_spreadsheet_would_run_are_prefixed_with_a_quote(sqlite_db, capsys, start):
    with sqlite_db.write() as s:
        partner = add_partner(s, f"{start.strip() or 'X'}CODE", f"{start}SUM(A1:A9)", email=f"{start}1@example.com")
        add_entry(s, partner, "clawback", 1_250, "2015-06-03")
    assert run(sqlite_db, "ledger", "2015-06", "--format", "csv") == 0
    [row] = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    assert row[1] == f"'{start}SUM(A1:A9)" and row[2] == f"'{start}1@example.com"
    assert row[0] == (f"'{start}CODE" if start.strip() else "XCODE")
    assert row[8] == "-12.50"


# ---- one partner -------------------------------------------------------------------------------


def test_partner_ledger_json_has_the_shape_of_spec_5_with_a_running_balance(sqlite_db, capsys):
    _ledger(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06", "--partner", "ANN", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "partner_code": "ANN",
        "partner_name": "Ann Lee",
        "currency": "USD",
        "start": "2015-06-01",
        "end": "2015-06-30",
        "beginning_balance": "1234.50",
        "entries": [
            {"date": "2015-06-01", "kind": "commission", "reference": "ORD-2", "description": "Monthly plan",
             "amount": "50.00", "balance": "1284.50"},
            {"date": "2015-06-15", "kind": "clawback", "reference": "ORD-2", "description": "Refund",
             "amount": "-12.50", "balance": "1272.00"},
            {"date": "2015-06-30", "kind": "payment", "reference": "Batch-20150630", "description": "Check",
             "amount": "-1234.50", "balance": "37.50"},
        ],
        "ending_balance": "37.50",
    }


def test_partner_ledger_of_a_range_without_entries_carries_the_balance_through(sqlite_db, capsys):
    _ledger(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-07", "--partner", "ANN", "--format", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["beginning_balance"], shown["entries"], shown["ending_balance"]) == ("37.50", [], "37.50")


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["ledger", "2015-13"], "'2015-13' has no month 13"),
        (["ledger", "June"], "'June' is not a date range"),
        (["ledger", "２０１５-06"], "'２０１５-06' is not a date range"),
        (["ledger", "2015-06-30..2015-06-01"], "the range ends (2015-06-01) before it starts (2015-06-30)"),
        (["ledger", "2015-02-30..2015-03-01"], "'2015-02-30' is not a real date"),
        (["ledger", "2015-06", "--partner", "NOPE"], "no partner with code 'NOPE'"),
        (["ledger", "2015-06", "--format", "xml"], "invalid choice: 'xml'"),
        (["ledger"], "the following arguments are required: range"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_reason_and_no_output(sqlite_db, capsys, args, reason):
    _ledger(sqlite_db)
    assert run(sqlite_db, *args) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("payouts: ") and reason in line
    assert captured.out == ""


# ---- as a user runs it -------------------------------------------------------------------------


def test_demo_then_last_month_has_rows_in_a_real_payouts_process(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}

    def payouts(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PAYOUTS, *args], cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)

    demo = payouts("demo", "--no-shell", "--partners", "12")
    assert demo.returncode == 0, demo.stderr
    assert "Loaded 12 demo partners" in demo.stdout
    assert (tmp_path / "payouts.db").is_file()
    report = payouts("ledger", "last-month", "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["rows"]
    assert len(rows) >= 1
    assert all(row["partner_code"].startswith("P") for row in rows)
    bad = payouts("ledger", "last-month", "--partner", "NOPE")
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "payouts: no partner with code 'NOPE'\n")


def test_database_url_comes_from_the_environment_when_not_given(sqlite_db, tmp_path):
    _ledger(sqlite_db)
    finished = subprocess.run(
        [PAYOUTS, "ledger", "2015-06", "--format", "json"], cwd=tmp_path, stdin=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": sqlite_db.url}, capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert [row["partner_code"] for row in json.loads(finished.stdout)["rows"]] == ["ANN", "KAL", "YUKI"]


def test_an_unreachable_database_server_fails_with_exit_1_and_a_one_line_message(capsys):
    assert cli.main(["--database", "postgresql://payouts@127.0.0.1:1/payouts", "ledger", "2015-06"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("payouts: database error: ") and "127.0.0.1" in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and captured.out == ""


def test_demo_loads_only_into_an_empty_database(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli.main(["--database", url, "demo", "--no-shell", "--partners", "4"]) == 0
    assert cli.main(["--database", url, "demo", "--no-shell", "--partners", "4"]) == 0
    out = capsys.readouterr().out
    assert "already holds 4 partner(s)" in out
    assert cli.main(["--database", url, "ledger", "2015", "--all", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 4


@pytest.mark.parametrize("count", ["0", "-3"])
def test_demo_with_fewer_than_one_partner_is_bad_input_and_creates_nothing(tmp_path, capsys, count):
    target = tmp_path / "demo.db"
    assert cli.main(["--database", f"sqlite:///{target}", "demo", "--no-shell", "--partners", count]) == 2
    assert f"'{count}' must be 1 or more" in capsys.readouterr().err
    assert not target.exists()


def test_a_report_on_a_database_that_does_not_exist_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "typo" / "payouts.db"
    assert cli.main(["--database", f"sqlite:///{missing}", "ledger", "2015-06"]) == 1
    err = capsys.readouterr().err
    assert "payouts init" in err and len(err.strip().splitlines()) == 1
    assert not missing.parent.exists()


def test_init_creates_the_database_folder(tmp_path, capsys):
    target = tmp_path / "new" / "folder" / "payouts.db"
    assert cli.main(["--database", f"sqlite:///{target}", "init"]) == 0
    assert target.exists()



# ---- stored text is shown, never obeyed ---------------------------------------------------------


def _forged(db: Database) -> None:
    """A name and a reference written before the import rules, holding a newline and ESC sequences."""
    with db.write() as s:
        big = add_partner(s, "BIG", "Big Payee\nA     Alice          $1.00", email="big\x1b[2J@example.com")
        add_entry(s, big, "commission", 999_900, "2015-06-10", reference="R\x1b]0;pwned\x07")


def test_a_stored_name_with_a_newline_is_one_row_of_the_ledger_table(sqlite_db, capsys):
    _forged(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06") == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 5  # title, header, rule, BIG, total
    assert rows[3].startswith("BIG ") and "Big Payee\\nA     Alice          $1.00  USD" in rows[3]


def test_a_partner_ledger_shows_escape_sequences_in_its_title_and_rows_as_escapes(sqlite_db, capsys):
    _forged(sqlite_db)
    assert run(sqlite_db, "ledger", "2015-06", "--partner", "BIG") == 0
    out = capsys.readouterr().out
    assert out.startswith("Big Payee\\nA     Alice          $1.00 (BIG), 2015-06-01..2015-06-30, USD, big\\x1b[2J@")
    assert "R\\x1b]0;pwned\\x07" in out and "\x1b" not in out


def test_a_reason_quoting_what_was_typed_shows_its_control_characters_as_escapes(sqlite_db, capsys):
    assert run(sqlite_db, "ledger", "2015-06", "--partner", "X\x1b[2J") == 2
    assert "X\\x1b[2J" in one_line_error(capsys)
