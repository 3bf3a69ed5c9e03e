"""`/ledger` through the chat door, with no Slack and no terminal: summary, partner ledger, files, buttons."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from commands.chat import run_action, run_command
from commands.chat_payout_views import START
from commands.context import Request
from commands.ledger_views import CHART_ACTION, CSV_ACTION, LATEST_ENTRIES, PDF_ACTION, TOP_PARTNERS
from domain.models import Entry, Partner
from domain.roles import Access, Member, Roles
from tests.factories import add_entry, add_partner


@pytest.fixture
def ledger(db):
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        cy = add_partner(s, "CY", "=Cy", email="=HYPERLINK()")
        add_entry(s, ann, "commission", 10_000, "2015-05-20")
        add_entry(s, ann, "commission", 5_000, "2015-06-10")
        add_entry(s, ann, "payment", 10_000, "2015-06-15")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
        add_entry(s, cy, "commission", 700, "2015-06-12")
        add_entry(s, cy, "clawback", 200, "2015-06-20")
    return db


def req(db, settings) -> Request:
    return Request(db=db, settings=settings, actor="U_FIN", channel="C_FIN",
                   access=Access(Roles(requesters=("U_FIN",)), Member("U_FIN")))


def test_summary_shows_range_partner_count_and_totals_per_currency(ledger, settings):
    [reply] = run_command("/ledger", "2015-06", req(ledger, settings))
    assert reply.headline == "Referral partner ledger 2015-06-01..2015-06-30: 3 partner(s)"
    figures = {f.label: f.value for f in reply.figures}
    assert figures["Range"] == "2015-06-01..2015-06-30" and figures["Partners"] == "3"
    assert figures["Total USD (2 partner(s))"].startswith("ending $55.00 = beginning $100.00 + commissions $57.00")
    assert figures["Total EUR (1 partner(s))"].startswith("ending €20.00")


def test_summary_ranks_partners_by_ending_balance_within_each_currency(ledger, settings):
    [reply] = run_command("ledger", "2015-06", req(ledger, settings))
    assert [row[0] for row in reply.table.rows] == ["BOB", "ANN", "CY"]
    assert reply.table.rows[1][-1] == "$50.00" and reply.table.right_aligned[-1]
    assert reply.table.caption == "Top 3 of 3 partner(s) by ending balance in each currency"


def test_summary_offers_csv_pdf_chart_and_create_payments_for_its_range(ledger, settings):
    [reply] = run_command("ledger", "2015-06", req(ledger, settings))
    assert [(b.label, b.action, b.value) for b in reply.buttons] == [
        ("CSV", CSV_ACTION, "2015-06-01..2015-06-30"),
        ("PDF", PDF_ACTION, "2015-06-01..2015-06-30"),
        ("Create payments…", START, "2015-06-01..2015-06-30"),
        ("Chart", CHART_ACTION, "2015-06-01..2015-06-30"),
    ]


def test_an_empty_range_says_so_without_buttons(ledger, settings):
    [reply] = run_command("ledger", "2014", req(ledger, settings))
    assert reply.headline == "No partner has any activity or balance in 2014-01-01..2014-12-31."
    assert not reply.buttons and reply.table is None


def test_csv_attaches_the_whole_report_with_formula_cells_defused(ledger, settings):
    [reply] = run_command("ledger", "2015-06 csv", req(ledger, settings))
    [file] = reply.files
    assert file.filename == "referral-ledger-2015-06-01-to-2015-06-30.csv"
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8"))))
    assert rows[0][0] == "partner_code" and len(rows) == 4
    assert rows[3][:3] == ["CY", "'=Cy", "'=HYPERLINK()"]


def test_the_csv_button_attaches_the_same_file(ledger, settings):
    [typed] = run_command("ledger", "2015-06 csv", req(ledger, settings))
    [clicked] = run_action(CSV_ACTION, "2015-06-01..2015-06-30", req(ledger, settings))
    assert clicked.files[0].content == typed.files[0].content


def test_the_csv_button_of_a_summary_of_all_partners_lists_all_partners_too(ledger, settings):
    with ledger.write() as s:
        add_partner(s, "IDLE", "Idle")
    [summary] = run_command("ledger", "2015-06 all", req(ledger, settings))
    csv_button = next(button for button in summary.buttons if button.action == CSV_ACTION)
    [clicked] = run_action(csv_button.action, csv_button.value, req(ledger, settings))
    codes = [row[0] for row in csv.reader(io.StringIO(clicked.files[0].content.decode("utf-8")))][1:]
    assert summary.headline.endswith("4 partner(s)") and codes == ["ANN", "BOB", "CY", "IDLE"]


def test_a_button_with_a_broken_range_is_an_error_not_a_crash(ledger, settings):
    [reply] = run_action(CSV_ACTION, "someday", req(ledger, settings))
    assert reply.is_error and "no valid range" in reply.headline


def test_partner_ledger_lists_entries_with_running_balance(ledger, settings):
    [reply] = run_command("ledger", "2015-06 partner ANN", req(ledger, settings))
    assert reply.headline == "Ann (ANN): ledger 2015-06-01..2015-06-30, USD"
    figures = {f.label: f.value for f in reply.figures}
    assert figures["Beginning balance"] == "$100.00" and figures["Ending balance"] == "$50.00"
    assert [row[-1] for row in reply.table.rows] == ["$150.00", "$50.00"]
    assert not reply.files


def test_partner_ledger_agrees_with_the_report_row(ledger, settings):
    [summary] = run_command("ledger", "2015-06", req(ledger, settings))
    [own] = run_command("ledger", "2015-06 partner CY", req(ledger, settings))
    row = next(r for r in summary.table.rows if r[0] == "CY")
    assert {f.label: f.value for f in own.figures}["Ending balance"] == row[-1] == "$5.00"


def test_a_long_partner_ledger_shows_the_latest_lines_and_attaches_all(db, settings):
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        for day in range(1, 31):
            add_entry(s, ann, "commission", 100 * day, date(2015, 6, day))
    [reply] = run_command("ledger", "2015-06 partner ANN", req(db, settings))
    assert len(reply.table.rows) == LATEST_ENTRIES and reply.table.rows[-1][0] == "2015-06-30"
    assert reply.table.caption == f"Latest {LATEST_ENTRIES} of 30 entries; the attached CSV has them all"
    lines = reply.files[0].content.decode("utf-8").splitlines()
    assert len(lines) == 1 + 30 + 2 and lines[-1] == "2015-06-30,ending balance,,,,465.00,"


def test_partner_csv_attaches_the_ledger_even_when_short(ledger, settings):
    [reply] = run_command("ledger", "2015-06 partner BOB csv", req(ledger, settings))
    assert reply.files[0].filename == "ledger-BOB-2015-06-01-to-2015-06-30.csv"


def test_an_unknown_partner_is_a_private_error_naming_the_code(ledger, settings):
    [reply] = run_command("ledger", "2015-06 partner ZED", req(ledger, settings))
    assert reply.is_error and reply.private and reply.headline == "no partner with code 'ZED'"
    assert reply.sections[0].text.startswith("Example: /ledger")


def test_a_partner_code_in_the_wrong_case_suggests_the_right_one(ledger, settings):
    [reply] = run_command("ledger", "2015-06 partner ann", req(ledger, settings))
    assert reply.is_error and reply.headline == "no partner with code 'ann' (did you mean ANN?)"
    assert reply.sections[0].text == "Example: /ledger 2015-06-01..2015-06-30 partner ANN"


def test_a_malformed_date_is_a_private_usage_error_with_an_example(ledger, settings):
    [reply] = run_command("ledger", "2015-06-31..2015-07-02", req(ledger, settings))
    assert reply.is_error and reply.private and "'2015-06-31' is not a real date" in reply.headline
    assert reply.sections[0].text == "Example: /ledger 2015-06"


def test_help_lists_every_form_with_an_example(ledger, settings):
    [reply] = run_command("ledger", "help", req(ledger, settings))
    forms = reply.sections[0].text
    for form in ("/ledger RANGE", "partner CODE", "csv", "pdf", "/ledger help"):
        assert form in forms
    assert forms.count("e.g. /ledger") == forms.count(" — ")


def test_pdf_attaches_printed_ledgers(ledger, settings):
    pytest.importorskip("commands.pdf_ledgers")
    [reply] = run_command("ledger", "2015-06 pdf", req(ledger, settings))
    [file] = reply.files
    assert file.mimetype == "application/pdf" and file.content.startswith(b"%PDF")
    assert reply.headline.startswith("Printed ledgers 2015-06-01..2015-06-30: 3 partner(s)")


def _many_partners(db, count: int) -> None:
    with db.write() as s:
        s.execute(insert(Partner), [
            {"code": f"P{n:05d}", "name": f"Partner {n}", "email": None, "payout_email": None, "currency": "USD",
             "status": "active", "balance": 0, "created_at": datetime(2015, 1, 1, tzinfo=UTC)}
            for n in range(count)
        ])
        ids = s.scalars(select(Partner.id).order_by(Partner.code)).all()
        s.execute(insert(Entry), [
            {"partner_id": pid, "kind": "commission", "amount": 100 + n, "currency": "USD",
             "effective_date": date(2015, 6, 10), "reference": f"R{n}", "description": "",
             "recorded_at": datetime(2015, 6, 10, tzinfo=UTC), "recorded_by": "test"}
            for n, pid in enumerate(ids)
        ])


def test_a_ten_thousand_partner_report_is_a_short_message_with_the_full_csv(sqlite_db, settings):
    _many_partners(sqlite_db, 10_000)
    [reply] = run_command("ledger", "2015-06", req(sqlite_db, settings))
    assert len(reply.table.rows) == TOP_PARTNERS and reply.table.rows[0][0] == "P09999"
    assert reply.table.caption == "Top 10 of 10000 partner(s) by ending balance; the CSV lists them all"
    assert len(reply.figures) == 3 and "$509,950.00" in reply.figures[2].value
    assert len(reply.files[0].content.decode("utf-8").splitlines()) == 10_001
