"""Hold periods (SPEC §12): a commission dated D is payable on D + hold days; clawbacks and payments
count at once. Every test here runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from commands import ledger_handlers, payout_handlers, reminder_handlers
from commands.chat_payout_views import START
from commands.cli_batch_views import plan_json, plan_text
from commands.context import Request
from commands.grammar_ledger import LedgerReportCommand as LedgerCommand
from commands.grammar_ledger import PartnerLedgerCommand
from commands.ledger_files import partner_ledger_json, write_ledger_csv
from commands.ledger_text import partner_ledger_table
from domain import batches, imports, reminders
from domain.batches import BatchOptions, StaleBatch
from domain.dates import DateRange
from domain.ledger import ledger_report, partner_ledger
from domain.models import Partner
from domain.reminders import DueTime, Schedule
from domain.settings import Settings
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)
OPERATOR = batches.ApprovalPolicy(frozenset(), trusted_operator=True)


@pytest.fixture
def ledger(db):
    """ANN: 100.00 earned 10 June (payable 10 July with 30 days), 50.00 earned 25 June (payable 25 July),
    a 5.00 clawback on 28 June; 20.00 earned 20 May (payable 19 June)."""
    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 2_000, "2015-05-20")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        add_entry(s, ann, "commission", 5_000, "2015-06-25")
        add_entry(s, ann, "clawback", 500, "2015-06-28")
    return db


def set_hold(db, code: str, days: int | None) -> None:
    with db.write() as s:
        s.execute(Partner.__table__.update().where(Partner.code == code).values(hold_days=days))


def options(method: str, paid: date, **more) -> BatchOptions:
    return BatchOptions(JUNE, method, "Check", paid, **more)


def request(db, hold_days: int) -> Request:
    return Request(db=db, settings=Settings(fixed_now=NOW, hold_days=hold_days), actor="U_REQ", channel="C_FIN",
                   approvers=frozenset({"U_BOSS"}))


# ---- settings and imports -----------------------------------------------------------------------


def test_hold_days_setting_defaults_to_no_hold_and_reads_whole_days():
    assert Settings.from_env({}).hold_days == 0
    assert Settings.from_env({"HOLD_DAYS": " 30 "}).hold_days == 30


@pytest.mark.parametrize("value", ["-1", "1e3", "30.0", "٣٠", "366", "thirty"])
def test_a_hold_days_setting_that_is_not_0_to_365_ascii_digits_is_refused_by_name(value):
    with pytest.raises(ValueError, match="HOLD_DAYS: '.*'"):
        Settings.from_env({"HOLD_DAYS": value})


def import_partners(db, body: str) -> imports.ImportResult:
    with db.write() as s:
        return imports.import_partners(s, io.StringIO(body), source="partners.csv", actor="cli:test",
                                       default_currency="USD")


def hold_of(db, code: str) -> int | None:
    with db.read() as s:
        return s.scalar(select(Partner.hold_days).where(Partner.code == code))


def test_the_partners_import_sets_a_partners_hold_days(db):
    import_partners(db, "code,name,hold_days\nANN,Ann,14\nBOB,Bob,\n")
    assert (hold_of(db, "ANN"), hold_of(db, "BOB")) == (14, None)


def test_an_empty_hold_days_cell_leaves_a_partners_hold_unchanged(db):
    import_partners(db, "code,name,hold_days\nANN,Ann,14\n")
    result = import_partners(db, "code,name,hold_days\nANN,Ann,\n")
    assert hold_of(db, "ANN") == 14 and result.unchanged == 1


def test_a_bad_hold_days_cell_refuses_the_file_naming_row_and_column(db):
    with pytest.raises(imports.ImportRefused) as refused:
        import_partners(db, "code,name,hold_days\nANN,Ann,14\nBOB,Bob,+7\n")
    assert str(refused.value.problems[0]).startswith("row 3, column hold_days: '+7' must be a whole number of days")
    assert hold_of(db, "ANN") is None


# ---- the report ---------------------------------------------------------------------------------


def test_no_hold_leaves_on_hold_at_zero_and_payable_equal_to_ending(ledger):
    with ledger.read() as s:
        report = ledger_report(s, JUNE)
    assert not report.holds and report.rows[0].on_hold == 0 and report.rows[0].payable == report.rows[0].ending_balance


def test_on_hold_is_the_commissions_dated_by_the_end_not_yet_payable_on_the_end(ledger):
    with ledger.read() as s:
        row = ledger_report(s, JUNE, hold_days=30).rows[0]
    assert (row.ending_balance, row.on_hold, row.payable) == (16_500, 15_000, 1_500)


def test_a_partners_own_hold_days_overrides_the_setting(ledger):
    set_hold(ledger, "ANN", 10)
    with ledger.read() as s:
        row = ledger_report(s, JUNE, hold_days=30).rows[0]
    assert row.on_hold == 5_000  # 10 June + 10 days = 20 June: payable by the end; 25 June is not


def test_a_partners_own_hold_applies_with_no_organisation_hold(ledger):
    set_hold(ledger, "ANN", 45)
    with ledger.read() as s:
        report = ledger_report(s, JUNE)
    assert report.holds and report.rows[0].on_hold == 17_000  # 20 May + 45 days = 4 July


def test_a_partners_hold_of_zero_pays_at_once_whatever_the_setting(ledger):
    set_hold(ledger, "ANN", 0)
    with ledger.read() as s:
        assert ledger_report(s, JUNE, hold_days=30).rows[0].on_hold == 0


def test_a_partner_whose_only_figure_is_on_hold_is_listed(db):
    """A commission clawed back before the range and still held leaves payable negative: a figure to show."""
    with db.write() as s:
        bob = add_partner(s, "BOB")
        add_entry(s, bob, "commission", 700, "2015-05-25")
        add_entry(s, bob, "clawback", 700, "2015-05-26")
    with db.read() as s:
        [row] = ledger_report(s, DateRange(date(2015, 6, 1), date(2015, 6, 1)), hold_days=30).rows
    assert (row.partner_code, row.ending_balance, row.on_hold, row.payable) == ("BOB", 0, 700, -700)


def test_the_totals_carry_on_hold_and_payable_per_currency(ledger):
    with ledger.read() as s:
        [total] = ledger_report(s, JUNE, hold_days=30).totals
    assert (total.on_hold, total.payable) == (15_000, 1_500)


def test_the_report_csv_gains_on_hold_and_payable_after_ending_balance_only_with_a_hold(ledger):
    with ledger.read() as s:
        plain, held = io.StringIO(), io.StringIO()
        write_ledger_csv(ledger_report(s, JUNE), plain)
        write_ledger_csv(ledger_report(s, JUNE, hold_days=30), held)
    assert plain.getvalue().splitlines()[0].endswith(",ending_balance")
    assert held.getvalue().splitlines()[0].endswith(",ending_balance,on_hold,payable")
    assert held.getvalue().splitlines()[1].endswith(",165.00,150.00,15.00")


def test_the_report_summary_shows_on_hold_and_payable(ledger):
    [reply] = ledger_handlers.report(request(ledger, 30), LedgerCommand(JUNE, None, False))
    assert "on hold $150.00" in reply.figures[-1].value and "payable $15.00" in reply.figures[-1].value
    assert reply.table.columns[-2:] == ("On hold", "Payable")


def entry_query_plans(db, work) -> list[str]:  # type: ignore[no-untyped-def]
    """SQLite's plan of every SELECT over `entry` that `work(session)` runs, through SQLAlchemy or on
    the driver's connection (the report's query): the driver's trace sees both, with their values."""
    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 100, "2015-06-10")
    statements: list[str] = []
    with db.read() as s:
        driver = s.connection().connection.dbapi_connection
        driver.set_trace_callback(statements.append)
        try:
            work(s)
        finally:
            driver.set_trace_callback(None)
        return [" | ".join(str(row[-1]) for row in driver.execute("EXPLAIN QUERY PLAN " + statement))
                for statement in statements
                if statement.lstrip().upper().startswith("SELECT") and " entry" in statement]


def test_the_report_with_a_hold_never_scans_the_entry_table(sqlite_db):
    """The held amount, like the loose days at the range's edges, is read from the date index over a
    bounded window of dates (SQLite's query plans), never from a scan of history."""
    plans = entry_query_plans(sqlite_db, lambda s: ledger_report(s, JUNE, hold_days=30))
    assert plans and not [plan for plan in plans if "SCAN entry" in plan], plans
    assert all("SEARCH entry USING COVERING INDEX ix_entry_date_partner (effective_date>? AND effective_date<?)"
               in plan for plan in plans), plans


def test_a_batch_with_a_hold_reads_held_commissions_from_the_date_index_over_the_window(sqlite_db):
    plans = entry_query_plans(
        sqlite_db, lambda s: batches.plan_batch(s, options("ending-balance", date(2015, 7, 15)), hold_days=30))
    assert not [plan for plan in plans if "SCAN entry" in plan], plans
    assert any("ix_entry_date_partner (effective_date>? AND effective_date<?)" in plan for plan in plans), plans


# ---- a partner's ledger -------------------------------------------------------------------------


def test_a_partners_ledger_marks_each_held_commission_with_the_day_it_becomes_payable(ledger):
    with ledger.read() as s:
        found = partner_ledger(s, "ANN", JUNE, hold_days=30)
    assert [(line.reference and line.kind, line.payable_on) for line in found.lines] == [
        ("commission", date(2015, 7, 10)), ("commission", date(2015, 7, 25)), ("clawback", None),
    ]
    assert (found.on_hold, found.payable) == (15_000, 1_500)


def test_a_partners_ledger_agrees_with_the_report_row_on_hold(ledger):
    with ledger.read() as s:
        row = ledger_report(s, JUNE, hold_days=30).rows[0]
        found = partner_ledger(s, "ANN", JUNE, hold_days=30)
    assert (found.ending_balance, found.on_hold, found.payable) == (row.ending_balance, row.on_hold, row.payable)


def test_a_partners_ledger_json_and_table_show_payable_on_only_with_a_hold(ledger):
    with ledger.read() as s:
        plain = partner_ledger(s, "ANN", JUNE)
        held = partner_ledger(s, "ANN", JUNE, hold_days=30)
    assert "payable_on" not in partner_ledger_json(plain)["entries"][0] and "on_hold" not in partner_ledger_json(plain)
    body = partner_ledger_json(held)
    assert body["entries"][0]["payable_on"] == "2015-07-10" and body["entries"][2]["payable_on"] is None
    assert (body["on_hold"], body["payable"]) == ("150.00", "15.00")
    assert "Payable on" not in partner_ledger_table(plain) and "2015-07-25" in partner_ledger_table(held)


def test_a_partners_ledger_in_chat_says_when_a_held_commission_becomes_payable(ledger):
    [reply] = ledger_handlers.partner(request(ledger, 30), PartnerLedgerCommand(JUNE, "ANN", None))
    assert any("on hold, payable 2015-07-25" in row[3] for row in reply.table.rows)
    assert {"On hold", "Payable"} <= {figure.label for figure in reply.figures}


def test_printed_ledgers_mark_held_commissions_and_show_on_hold_and_payable(ledger):
    from pypdf import PdfReader

    from commands.printing import report_ledgers_pdf

    out = io.BytesIO()
    with ledger.read() as s:
        ids = [row.partner_id for row in ledger_report(s, JUNE, hold_days=30).rows]
        report_ledgers_pdf(s, JUNE, ids, out, organisation="Org", paper="letter", hold_days=30)
    printed = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)
    assert "payable 2015-07-10" in printed
    assert "payable 2015-07-25" in printed
    assert "On hold (not yet payable) (2015-06-30)" in printed and "Payable (2015-06-30)" in printed


# ---- batches ------------------------------------------------------------------------------------


def plan(db, method: str, paid: date, hold_days: int = 30) -> batches.Plan:
    with db.read() as s:
        return batches.plan_batch(s, options(method, paid), hold_days=hold_days)


def test_the_commission_method_pays_the_ranges_commissions_payable_on_the_payment_date(ledger):
    [line] = plan(ledger, "commission", date(2015, 7, 15)).lines
    assert (line.amount, line.held, line.held_until) == (10_000, 5_000, date(2015, 7, 25))


def test_beginning_plus_commission_adds_only_the_commissions_payable_on_the_payment_date(ledger):
    [line] = plan(ledger, "beginning-plus-commission", date(2015, 7, 15)).lines
    assert (line.amount, line.held) == (2_000 + 10_000, 5_000)


def test_ending_balance_less_every_commission_by_the_end_not_payable_on_the_payment_date(ledger):
    [line] = plan(ledger, "ending-balance", date(2015, 6, 30)).lines
    assert (line.amount, line.held, line.held_until) == (16_500 - 15_000, 15_000, date(2015, 7, 25))


def test_a_line_a_hold_brings_to_nothing_is_skipped_saying_what_is_held_and_until_when(ledger):
    [skipped] = plan(ledger, "commission", date(2015, 6, 30)).skipped
    assert skipped.skip_reason == "nothing owed ($0.00; $150.00 on hold until 2015-07-25)"


def test_a_payment_date_after_every_hold_pays_what_no_hold_would(ledger):
    assert plan(ledger, "ending-balance", date(2015, 7, 25)).lines[0].amount == 16_500


def test_a_preview_json_and_text_say_how_much_a_line_holds_and_until_when(ledger):
    found = plan(ledger, "ending-balance", date(2015, 7, 15))
    assert plan_json(found)["lines"] == [
        {"partner_code": "ANN", "amount": "115.00", "currency": "USD", "on_hold": "50.00", "held_until": "2015-07-25"}
    ]
    assert "$50.00 on hold until 2015-07-25" in plan_text(found)


def test_a_batch_keeps_what_was_held_and_approval_posts_the_reduced_amount(ledger):
    with ledger.write() as s:
        batches.request_batch(s, options("ending-balance", date(2015, 7, 15), batch_id="B1"), actor="cli:a",
                              now=NOW, hold_days=30)
    with ledger.write() as s:
        approval = batches.approve_batch(s, "B1", actor="cli:b", policy=OPERATOR, now=NOW, hold_days=30)
        [line] = approval.lines
    assert (line.amount, line.held, line.held_until) == (11_500, 5_000, date(2015, 7, 25))


def test_approval_under_another_hold_than_the_request_is_refused_as_stale(ledger):
    with ledger.write() as s:
        batches.request_batch(s, options("ending-balance", date(2015, 7, 15), batch_id="B1"), actor="cli:a",
                              now=NOW, hold_days=30)
    with ledger.write() as s:
        approval = batches.approve_batch(s, "B1", actor="cli:b", policy=OPERATOR, now=NOW, hold_days=0)
    assert not approval.posted
    with pytest.raises(StaleBatch, match="on hold \\$50.00 → \\$0.00"):
        raise approval.stale()


def test_the_preview_shows_what_is_held(ledger):
    [reply] = payout_handlers.preview(request(ledger, 30), options("ending-balance", date(2015, 7, 15)))
    [held] = [section for section in reply.sections if section.title.startswith("On hold")]
    assert "$50.00 held until 2015-07-25" in held.text


def test_the_form_shows_what_is_held_on_the_default_payment_date(ledger):
    [reply] = payout_handlers.handle_action(START, str(JUNE), request(ledger, 30))
    date_field = next(field for field in reply.form.fields if field.name == "date")
    assert "on hold on 2015-07-15: $50.00 from 1 partner(s)" in date_field.hint
    assert any(section.title == "On hold" for section in reply.sections)


def test_without_a_hold_the_form_and_preview_show_nothing_held(ledger):
    [form] = payout_handlers.handle_action(START, str(JUNE), request(ledger, 0))
    [preview] = payout_handlers.preview(request(ledger, 0), options("ending-balance", date(2015, 7, 15)))
    assert not form.sections and not any(s.title.startswith("On hold") for s in preview.sections)


# ---- reminders ----------------------------------------------------------------------------------


def test_what_is_due_is_the_payable_amount(ledger):
    with ledger.read() as s:
        summary = reminders.due_summary(s, JUNE, hold_days=30)
    assert [(t.currency, t.amount, t.count) for t in summary.totals] == [("USD", 1_500, 1)]


def test_nothing_is_due_when_every_commission_is_on_hold(ledger):
    with ledger.write() as s:
        add_entry(s, s.scalar(select(Partner).where(Partner.code == "ANN")), "payment", 3_500, "2015-06-29")
    with ledger.read() as s:
        summary = reminders.due_summary(s, JUNE, hold_days=30)
    assert summary.partners == 0 and summary.totals == []


def test_the_reminder_says_due_is_the_payable_amount_with_a_hold(ledger):
    schedule = Schedule(1, "monthly", 1, datetime(2015, 7, 1, 9).time(), "C_FIN", "last-month", "U", NOW)
    due = DueTime(1, "2015-07-01", datetime(2015, 7, 1, 9, tzinfo=UTC), date(2015, 7, 1))
    reply = reminder_handlers.reminder_for(request(ledger, 30), schedule, due)
    assert "$15.00" in reply.figures[-1].value and "payable amount" in reply.sections[0].text


def test_the_migrated_schema_is_at_the_hold_days_revision(db):
    """0005 (hold days) is below the head, so a migrated database is at the head and has its column."""
    from domain.schema_version import HEAD_REVISION

    with db.read() as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        assert s.execute(text("SELECT count(hold_days) FROM partner")).scalar() == 0


def test_the_cli_refuses_a_bad_hold_days_setting_with_exit_2(sqlite_db, capsys, monkeypatch):
    from bot import cli

    monkeypatch.setenv("HOLD_DAYS", "-3")
    assert cli.main(["--database", sqlite_db.url, "ledger", "2015-06"]) == 2
    assert capsys.readouterr().err.startswith("payouts: HOLD_DAYS: '-3' must be a whole number of days")


def test_the_cli_ledger_json_carries_on_hold_and_payable_with_a_hold(ledger, capsys, monkeypatch):
    from bot import cli

    monkeypatch.setenv("HOLD_DAYS", "30")
    assert cli.main(["--database", ledger.url, "ledger", "2015-06-01..2015-06-30", "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert list(row)[-3:] == ["ending_balance", "on_hold", "payable"] and row["payable"] == "15.00"
