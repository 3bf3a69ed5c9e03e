"""CSV imports (SPEC §5): all or nothing, idempotent by reference, every bad row named."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import SessionTransaction

from bot import cli
from domain import batches, imports
from domain.dates import DateRange
from domain.imports import ImportRefused, RowProblem
from domain.models import AuditEvent, Entry, Partner
from tests.factories import add_partner

HEADER = "date,partner_code,kind,amount,reference,description"
GOOD_ROWS = (
    "2015-06-01,ANN,commission,120.50,ORD-1,Annual plan",
    "2015-06-02,YUKI,commission,1500,ORD-2,",
    "2015-06-03,KAL,commission,1.250,ORD-3,",
)


def _partners(db) -> None:
    with db.write() as s:
        add_partner(s, "ANN", "Ann")
        add_partner(s, "YUKI", "Yuki", currency="JPY")
        add_partner(s, "KAL", "Kal", currency="KWD")


def import_entries(db, text: str) -> imports.ImportResult:
    with db.write() as s:
        return imports.import_entries(s, io.StringIO(text), source="entries.csv", actor="cli:test")


def import_partners(db, text: str) -> imports.ImportResult:
    with db.write() as s:
        return imports.import_partners(s, io.StringIO(text), source="partners.csv", actor="cli:test",
                                       default_currency="USD")


def refusal(db, text: str, *, partners: bool = False) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        (import_partners if partners else import_entries)(db, text)
    return caught.value


def stored_entries(db) -> list[tuple]:
    with db.read() as s:
        return s.execute(
            select(Entry.reference, Entry.kind, Entry.amount, Entry.effective_date, Entry.description).order_by(Entry.id)
        ).all()


def balances(db) -> dict[str, int]:
    with db.read() as s:
        return dict(s.execute(select(Partner.code, Partner.balance)).all())


def import_events(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("import.%")))


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


# ---- good files ------------------------------------------------------------------------------


def test_a_good_file_adds_every_entry_in_minor_units_of_each_currency(db):
    _partners(db)
    result = import_entries(db, csv_text(*GOOD_ROWS))
    assert (result.rows, result.added, result.unchanged) == (3, 3, 0)
    assert balances(db) == {"ANN": 12_050, "YUKI": 1_500, "KAL": 1_250}


def test_reimporting_the_same_file_changes_nothing(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    before = (stored_entries(db), balances(db))
    result = import_entries(db, csv_text(*GOOD_ROWS))
    assert (result.added, result.unchanged) == (0, 3)
    assert (stored_entries(db), balances(db)) == before


def test_imported_entries_store_their_dates_and_times_as_every_other_write_does(db):
    """The import writes through the driver, not the ORM: its rows must read back (and sort, and compare in
    SQL) exactly as rows the ORM wrote."""
    _partners(db)
    moment = datetime(2015, 7, 1, 9, 30, 15, 250_000, tzinfo=UTC)
    with db.write() as s:
        imports.import_entries(s, io.StringIO(csv_text(GOOD_ROWS[0])), source="entries.csv", actor="cli:test", now=moment)
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
        s.add(Entry(partner_id=ann.id, kind="commission", amount=1, currency="USD", effective_date=date(2015, 6, 1),
                    reference="ORM-1", description="", recorded_at=moment, recorded_by="cli:test"))
    with db.read() as s:
        raw = s.execute(select(func.cast(Entry.recorded_at, Entry.reference.type), func.cast(Entry.effective_date, Entry.reference.type))
                        .order_by(Entry.id)).all()
        read_back = s.execute(select(Entry.recorded_at, Entry.effective_date).order_by(Entry.id)).all()
    assert raw[0] == raw[1]
    assert read_back[0] == read_back[1]
    assert read_back[0][1] == date(2015, 6, 1)


def test_a_byte_order_mark_columns_in_any_order_and_extra_columns_are_fine(db, tmp_path):
    _partners(db)
    path = tmp_path / "entries.csv"
    path.write_bytes(
        "\ufeffReference,note,Amount,Kind,Partner_Code,Date\nORD-9,from the shop,99.90,commission,ANN,2015-06-05\n"
        .encode("utf-8")
    )
    with db.write() as s:
        result = imports.import_entries_file(s, path, actor="cli:test")
    assert result.added == 1
    assert stored_entries(db) == [("ORD-9", "commission", 9_990, date(2015, 6, 5), "")]


def test_thousands_separators_between_groups_of_three_digits_are_fine(db):
    _partners(db)
    import_entries(db, csv_text('2015-06-01,ANN,commission,"1,234.50",ORD-1,', '2015-06-01,YUKI,commission,"1,500",ORD-2,'))
    assert balances(db) == {"ANN": 123_450, "YUKI": 1_500, "KAL": 0}


def test_the_same_reference_is_fine_for_another_kind_or_another_partner(db):
    _partners(db)
    result = import_entries(db, csv_text(
        "2015-06-01,ANN,commission,10.00,ORD-1,", "2015-06-20,ANN,clawback,10.00,ORD-1,",
        "2015-06-01,YUKI,commission,10,ORD-1,",
    ))
    assert result.added == 3


def test_every_import_is_written_to_the_audit_log(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    with db.read() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "import.entries"))
    assert (event.actor, event.subject) == ("cli:test", "entries.csv")


# ---- bad rows --------------------------------------------------------------------------------


BAD_ROWS = [
    pytest.param("2015-02-30,ANN,commission,1.00,R-1,", "date", "not a real date", id="impossible date"),
    pytest.param("06/24/2015,ANN,commission,1.00,R-1,", "date", "not a date", id="date in another format"),
    pytest.param(",ANN,commission,1.00,R-1,", "date", "required", id="empty date"),
    pytest.param("2015-06-24,ANN,commission,-5.00,R-1,", "amount", "negative", id="negative amount"),
    pytest.param("2015-06-24,ANN,commission,0.00,R-1,", "amount", "more than zero", id="zero amount"),
    pytest.param("2015-06-24,ANN,commission,1.005,R-1,", "amount", "more decimals than USD allows (2)",
                 id="over-precise USD"),
    pytest.param("2015-06-24,YUKI,commission,1.5,R-1,", "amount", "more decimals than JPY allows (0)",
                 id="over-precise JPY"),
    pytest.param("2015-06-24,KAL,commission,1.0005,R-1,", "amount", "more decimals than KWD allows (3)",
                 id="over-precise KWD"),
    pytest.param("2015-06-24,ANN,commission,99999999999999999999,R-1,", "amount",
                 "is too large (at most 10000000000000.00 USD)", id="amount beyond what a balance can hold"),
    pytest.param("2015-06-24,ANN,commission,ten,R-1,", "amount", "'ten' is not a number", id="non-numeric amount"),
    pytest.param("2015-06-24,ANN,commission,1e3,R-1,", "amount", "not a number", id="exponent notation"),
    pytest.param("2015-06-24,ANN,commission,,R-1,", "amount", "empty", id="empty amount"),
    pytest.param("2015-06-24,ANN,commission,١٢٣,R-1,", "amount", "'١٢٣' is not a number", id="Arabic-Indic digits"),
    pytest.param("2015-06-24,ANN,commission,+1.00,R-1,", "amount", "'+1.00' is not a number", id="plus sign"),
    pytest.param('2015-06-24,ANN,commission,"1,000_000",R-1,', "amount", "'1,000_000' is not a number",
                 id="mixed separators"),
    pytest.param("２０１５-06-24,ANN,commission,1.00,R-1,", "date", "'２０１５-06-24' is not a date (use YYYY-MM-DD",
                 id="fullwidth digits in the date"),
    pytest.param('2015-06-24,ANN,commission,"1,50",R-1,', "amount", "'1,50' is not a number", id="decimal comma"),
    pytest.param('2015-06-24,YUKI,commission,"15,00",R-1,', "amount", "'15,00' is not a number",
                 id="decimal comma in JPY"),
    pytest.param("2015-06-24,NOBODY,commission,1.00,R-1,", "partner_code", "no partner with code 'NOBODY'",
                 id="unknown partner"),
    pytest.param("2015-06-24,,commission,1.00,R-1,", "partner_code", "required", id="empty partner"),
    pytest.param("2015-06-24,ANN,bonus,1.00,R-1,", "kind", "'bonus' is not one of commission, clawback, payment",
                 id="unknown kind"),
    pytest.param("2015-06-24,ANN,commission,1.00,,", "reference", "required", id="empty reference"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_a_bad_row_refuses_the_whole_file_naming_row_column_and_reason(db, row, column, reason):
    _partners(db)
    refused = refusal(db, csv_text(GOOD_ROWS[0], row, GOOD_ROWS[1]))
    assert refused.count == 1
    [problem] = refused.problems
    assert (problem.row, problem.column) == (3, column)
    assert reason in problem.reason
    assert f"row 3, column {column}: " in str(refused)
    assert stored_entries(db) == [] and set(balances(db).values()) == {0} and import_events(db) == 0


@pytest.mark.parametrize("missing", ["date", "partner_code", "kind", "amount", "reference"])
def test_a_file_missing_a_required_column_is_refused_naming_the_column(db, missing):
    _partners(db)
    columns = [name for name in HEADER.split(",") if name != missing]
    refused = refusal(db, ",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n")
    assert refused.problems == [RowProblem(1, "(header)", f"missing column(s): {missing}")]
    assert stored_entries(db) == []


def test_a_header_that_repeats_a_column_refuses_the_file_naming_the_column(db):
    """Read as a mapping, a repeated column's last value would silently win: 1.00,5.00 would record $5.00."""
    _partners(db)
    header = "date,partner_code,kind,amount,Amount ,reference,description"
    refused = refusal(db, csv_text("2015-06-01,ANN,commission,1.00,5.00,R-1,", header=header))
    assert refused.problems == [RowProblem(1, "(header)", "column 'amount' appears more than once (columns 4 and 5)")]
    assert stored_entries(db) == []


def test_a_partners_header_that_repeats_a_column_refuses_the_file_naming_the_column(db):
    refused = refusal(db, "code,name,code\nANN,Ann,BOB\n", partners=True)
    assert refused.problems == [RowProblem(1, "(header)", "column 'code' appears more than once (columns 1 and 3)")]
    assert balances(db) == {}


def test_the_description_column_may_be_left_out(db):
    _partners(db)
    result = import_entries(db, "date,partner_code,kind,amount,reference\n2015-06-01,ANN,commission,1.00,R-1\n")
    assert result.added == 1


def test_a_cell_with_a_nul_character_refuses_the_file_naming_row_and_column(db):
    _partners(db)
    refused = refusal(db, csv_text(GOOD_ROWS[0], "2015-06-02,ANN,commission,1.00,R-9,a\x00b"))
    assert [(p.row, p.column) for p in refused.problems] == [(3, "description")]
    assert "NUL character" in refused.problems[0].reason
    assert stored_entries(db) == []


def test_an_unquoted_comma_in_an_amount_refuses_the_file_instead_of_shifting_the_row(db):
    _partners(db)
    refused = refusal(db, csv_text(GOOD_ROWS[0], "2015-06-02,ANN,commission,1,234.50,R-9,Bonus"))
    assert [(p.row, p.column) for p in refused.problems] == [(3, "(row)")]
    assert '"1,234.50"' in refused.problems[0].reason
    assert stored_entries(db) == []


def test_empty_trailing_cells_beyond_the_header_are_ignored(db):
    _partners(db)
    assert import_entries(db, csv_text("2015-06-01,ANN,commission,1.00,R-1,Plan,,")).added == 1


def test_an_empty_file_is_refused(db):
    assert refusal(db, "").problems == [RowProblem(1, "(header)", "the file is empty")]


def test_a_reused_reference_with_new_values_in_the_same_file_is_refused(db):
    _partners(db)
    refused = refusal(db, csv_text("2015-06-01,ANN,commission,10.00,ORD-1,", "2015-06-01,ANN,commission,12.00,ORD-1,"))
    assert [(p.row, p.column) for p in refused.problems] == [(3, "reference")]
    assert "'ORD-1' is already recorded for this partner and kind with other values" in refused.problems[0].reason
    assert stored_entries(db) == []


def test_a_reused_reference_with_new_values_against_the_stored_entry_is_refused(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    before = stored_entries(db)
    for changed in ("2015-06-01,ANN,commission,120.51,ORD-1,Annual plan",
                    "2015-06-09,ANN,commission,120.50,ORD-1,Annual plan",
                    "2015-06-01,ANN,commission,120.50,ORD-1,Monthly plan"):
        refused = refusal(db, csv_text("2015-06-07,ANN,commission,5.00,ORD-7,", changed))
        assert [(p.row, p.column) for p in refused.problems] == [(3, "reference")]
    assert stored_entries(db) == before


def test_a_payment_under_the_id_of_a_pending_batch_that_pays_the_partner_is_refused(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    period = DateRange(date(2015, 6, 1), date(2015, 6, 30))
    with db.write() as s:
        batches.request_batch(s, batches.BatchOptions(period, "commission", "Check", date(2015, 7, 1)),
                              actor="cli:test", now=datetime(2015, 7, 1, tzinfo=UTC))
    refused = refusal(db, csv_text("2015-07-20,ANN,payment,120.50,Batch-20150701,paid by hand"))
    assert [(p.row, p.column) for p in refused.problems] == [(2, "reference")]
    assert "'Batch-20150701' is the ID of a pending batch that pays this partner" in refused.problems[0].reason


def test_a_payment_under_the_void_reference_of_a_posted_batch_that_pays_the_partner_is_refused(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    period = DateRange(date(2015, 6, 1), date(2015, 6, 30))
    operator = batches.ApprovalPolicy(frozenset(), trusted_operator=True)
    with db.write() as s:
        batches.request_batch(s, batches.BatchOptions(period, "commission", "Check", date(2015, 7, 1)),
                              actor="cli:test", now=datetime(2015, 7, 1, tzinfo=UTC))
    with db.write() as s:
        batches.approve_batch(s, "Batch-20150701", actor="cli:test", policy=operator, now=datetime(2015, 7, 1, tzinfo=UTC))
    refused = refusal(db, csv_text("2015-07-20,ANN,payment,1.00,Batch-20150701:void,"))
    assert [(p.row, p.column) for p in refused.problems] == [(2, "reference")]
    assert "is kept for the void of the batch that pays this partner" in refused.problems[0].reason


def test_a_payment_under_the_failure_reference_of_a_posted_batch_that_pays_the_partner_is_refused(db):
    """SPEC §10: recording that line's failure writes `ID:failed` for the partner; an import must not take it first."""
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    period = DateRange(date(2015, 6, 1), date(2015, 6, 30))
    operator = batches.ApprovalPolicy(frozenset(), trusted_operator=True)
    with db.write() as s:
        batches.request_and_post_batch(s, batches.BatchOptions(period, "commission", "Check", date(2015, 7, 1)),
                                       actor="cli:test", policy=operator, now=datetime(2015, 7, 1, tzinfo=UTC))
    refused = refusal(db, csv_text("2015-07-20,ANN,payment,1.00,Batch-20150701:failed,"))
    assert [(p.row, p.column) for p in refused.problems] == [(2, "reference")]
    assert "is kept for a failed payment of the batch that pays this partner" in refused.problems[0].reason


def test_a_file_whose_name_is_too_long_for_the_audit_subject_is_imported_and_logged_under_its_full_name(db):
    _partners(db)
    source = "e" * 250 + ".csv"
    with db.write() as s:
        imports.import_entries(s, io.StringIO(csv_text(*GOOD_ROWS)), source=source, actor="cli:test")
    with db.read() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "import.entries"))
    assert len(stored_entries(db)) == 3
    assert event.subject.endswith("…") and json.loads(event.detail)["subject"] == source


def test_a_repeated_identical_row_is_recorded_once(db):
    _partners(db)
    result = import_entries(db, csv_text(GOOD_ROWS[0], GOOD_ROWS[0]))
    assert (result.rows, result.added, result.unchanged) == (2, 1, 1)
    assert balances(db)["ANN"] == 12_050


def test_every_problem_is_counted_even_after_the_first(db):
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    refused = refusal(db, csv_text("2015-02-30,ANN,commission,1.00,R-1,", "2015-06-01,ANN,commission,99.00,ORD-1,Annual plan"))
    assert [(p.row, p.column) for p in refused.problems] == [(2, "date"), (3, "reference")]


def test_only_the_first_20_problems_are_listed_with_a_count_of_all(db):
    _partners(db)
    refused = refusal(db, csv_text(*(f"2015-06-01,ANN,commission,oops,R-{n}," for n in range(30))))
    assert refused.count == 30
    assert [p.row for p in refused.problems] == list(range(2, 22))
    assert "30 problem(s)" in str(refused) and "and 10 more" in str(refused)


def test_problems_across_chunks_are_all_found_and_nothing_is_written(db, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    _partners(db)
    import_entries(db, csv_text(*GOOD_ROWS))
    rows = [f"2015-06-10,ANN,commission,1.00,NEW-{n}," for n in range(5)]
    rows.insert(3, "2015-06-01,ANN,commission,1.00,ORD-1,")
    rows.append("2015-06-10,ANN,commission,2.00,NEW-0,")
    refused = refusal(db, csv_text(*rows))
    assert [(p.row, p.column) for p in refused.problems] == [(5, "reference"), (8, "reference")]
    assert len(stored_entries(db)) == 3 and balances(db)["ANN"] == 12_050


def test_reimporting_across_chunks_changes_nothing(db, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    _partners(db)
    rows = [f"2015-06-{day:02d},ANN,commission,{day}.25,R-{day}," for day in range(1, 8)]
    assert import_entries(db, csv_text(*rows)).added == 7
    assert import_entries(db, csv_text(*rows)).added == 0
    assert balances(db)["ANN"] == sum(day * 100 + 25 for day in range(1, 8))


# ---- partners --------------------------------------------------------------------------------


def test_partners_are_created_then_updated_by_code(db):
    import_partners(db, "code,name,email,currency\nANN,Ann,ann@example.com,EUR\nBOB,Bob,,\n")
    result = import_partners(db, "name,code\nAnn Lee,ANN\nBob,BOB\n")
    assert (result.added, result.updated, result.unchanged) == (0, 1, 1)
    with db.read() as s:
        partners = {p.code: (p.name, p.currency) for p in s.scalars(select(Partner))}
    assert partners == {"ANN": ("Ann Lee", "EUR"), "BOB": ("Bob", "USD")}


def test_a_partner_update_leaves_values_the_file_does_not_give_unchanged(db):
    import_partners(db, "code,name,email,payout_email,currency,status\n"
                        "ANN,Ann,ann@example.com,pay@example.com,EUR,inactive\n")
    import_partners(db, "code,name,currency,status\nANN,Ann Lee,,\n")
    with db.read() as s:
        ann = s.scalar(select(Partner).where(Partner.code == "ANN"))
    assert (ann.name, ann.email, ann.payout_email, ann.currency, ann.status) == (
        "Ann Lee", "ann@example.com", "pay@example.com", "EUR", "inactive")


def test_a_partner_currency_cannot_change_once_it_has_entries(db):
    _partners(db)
    import_entries(db, csv_text(GOOD_ROWS[0]))
    refused = refusal(db, "code,name,currency\nANN,Ann,EUR\n", partners=True)
    assert [(p.row, p.column) for p in refused.problems] == [(2, "currency")]
    assert "has entries in USD" in refused.problems[0].reason


BAD_PARTNER_ROWS = [
    pytest.param("NEW,,,USD,", "name", "required", id="missing name"),
    pytest.param(",New,,USD,", "code", "required", id="missing code"),
    pytest.param("NE W,New,,USD,", "code", "no spaces", id="code with a space"),
    pytest.param("NEW,New,not-an-address,USD,", "email", "is not an e-mail address", id="bad email"),
    pytest.param("NEW,New," + "a" * 250 + "@example.com,USD,", "email", "longer than 254 characters",
                 id="email too long to store"),
    pytest.param("NEW,New,,DOLLARS,", "currency", "not a currency code", id="bad currency"),
    pytest.param("NEW,New,,QQQ,", "currency", "'QQQ' is not an ISO 4217 currency code",
                 id="currency ISO 4217 does not list"),
    pytest.param("NEW,New,,xau,", "currency", "'XAU' is not a currency of money (precious metal)",
                 id="precious metal as currency"),
    pytest.param("NEW,New,,CLF,", "currency", "'CLF' is not a currency of money (ISO 4217 fund code",
                 id="ISO 4217 fund code as currency"),
    pytest.param("NEW,New,,USD,sleeping", "status", "not one of active, inactive", id="bad status"),
    pytest.param("ANN,Ann again,,USD,", "code", "appears again (first on row 2)", id="code twice in the file"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_PARTNER_ROWS)
def test_a_bad_partner_row_refuses_the_whole_file(db, row, column, reason):
    refused = refusal(db, f"code,name,email,currency,status\nANN,Ann,,USD,\n{row}\n", partners=True)
    [problem] = refused.problems
    assert (problem.row, problem.column) == (3, column) and reason in problem.reason
    assert balances(db) == {}


def test_partners_in_real_currencies_whose_codes_start_with_x_are_imported(db):
    import_partners(db, "code,name,currency\nAF,Af,XAF\nOF,Of,xof\nPF,Pf,XPF\nCD,Cd,XCD\n")
    with db.read() as s:
        assert sorted(s.scalars(select(Partner.currency))) == ["XAF", "XCD", "XOF", "XPF"]


# ---- text that would steer its own display ------------------------------------------------------
# A name holding a newline draws a made-up table row for an approver; ESC sequences and bidi
# overrides act on the terminal or reorder what is read. Stored text may hold none of them.

# A quoted newline moves the reader on a line, and rows are numbered by the line they end on.
CONTROL_TEXTS = [
    pytest.param("Big Payee\nA     Alice          $1.00", "a newline (U+000A)", id="newline"),
    pytest.param("Ann\x1b]0;pwned\x07", "an escape (ESC) (U+001B)", id="escape sequence"),
    pytest.param("Ann\tCo", "a tab (U+0009)", id="tab"),
    pytest.param("\u202e00.1$ nnA", "right-to-left override (U+202E)", id="bidi override"),
    pytest.param("Ann\u2028Co", "line separator (U+2028)", id="line separator"),
    pytest.param("Ann\x85Co", "a control character (U+0085)", id="C1 control"),
]


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.mark.parametrize(("text", "named"), CONTROL_TEXTS)
def test_a_partner_name_with_a_control_character_refuses_the_file_naming_row_column_and_character(db, text, named):
    refused = refusal(db, f"code,name\nANN,Ann\nBIG,{quoted(text)}\n", partners=True)
    [problem] = refused.problems
    assert (problem.row, problem.column) == (3 + text.count("\n"), "name") and named in problem.reason
    assert balances(db) == {}


@pytest.mark.parametrize(("text", "named"), CONTROL_TEXTS[1:])
def test_a_partner_code_with_a_control_character_is_refused_naming_the_character(db, text, named):
    refused = refusal(db, f"code,name\n{quoted(text.replace(' ', ''))},Ann\n", partners=True)
    [problem] = refused.problems
    assert (problem.row, problem.column) == (2, "code") and named in problem.reason
    assert balances(db) == {}


def test_a_partner_email_with_an_escape_sequence_is_refused(db):
    refused = refusal(db, 'code,name,email\nANN,Ann,"ann\x1b[2J@example.com"\n', partners=True)
    assert [(p.row, p.column) for p in refused.problems] == [(2, "email")]


@pytest.mark.parametrize("column", ["reference", "description"])
@pytest.mark.parametrize(("text", "named"), CONTROL_TEXTS)
def test_an_entry_reference_or_description_with_a_control_character_refuses_the_file(db, column, text, named):
    _partners(db)
    cells = {"reference": "R-9", "description": "Bonus", column: quoted(text)}
    refused = refusal(db, csv_text(GOOD_ROWS[0], f"2015-06-02,ANN,commission,1.00,{cells['reference']},{cells['description']}"))
    [problem] = refused.problems
    assert (problem.row, problem.column) == (3 + text.count("\n"), column) and named in problem.reason
    assert stored_entries(db) == []


def test_a_refused_control_character_is_quoted_as_a_visible_escape_in_the_reason(db):
    refused = refusal(db, 'code,name\nANN,"Ann\x1b[2J"\n', partners=True)
    assert "'Ann\\x1b[2J'" in refused.problems[0].reason
    assert "\x1b" not in str(refused)


def test_names_in_any_script_with_joiners_and_marks_are_still_imported(db):
    """Zero-width joiners (Persian, emoji), right-to-left marks and accents are text, not controls."""
    names = ["می\u200cخواهم", "שלום\u200f", "Zoë", "👩\u200d💻 Dev", "佐藤花子"]
    rows = "".join(f"P{i},{name}\n" for i, name in enumerate(names))
    assert import_partners(db, "code,name\n" + rows).added == len(names)


# ---- the command line ------------------------------------------------------------------------


def _cli(database_url: str, *args: str) -> int:
    return cli.main(["--database", database_url, *args])


def test_cli_imports_partners_and_entries_and_reports_counts(sqlite_db, tmp_path: Path, capsys):
    (tmp_path / "partners.csv").write_text("code,name,currency\nANN,Ann,USD\nYUKI,Yuki,JPY\nKAL,Kal,KWD\n")
    (tmp_path / "entries.csv").write_text(csv_text(*GOOD_ROWS))
    assert _cli(sqlite_db.url, "import", "partners", str(tmp_path / "partners.csv")) == 0
    assert _cli(sqlite_db.url, "import", "entries", str(tmp_path / "entries.csv")) == 0
    assert _cli(sqlite_db.url, "import", "entries", str(tmp_path / "entries.csv")) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "partners.csv: 3 partner(s): 3 added, 0 updated, 0 unchanged",
        "entries.csv: 3 entries: 3 added, 0 already recorded",
        "entries.csv: 3 entries: 0 added, 3 already recorded",
    ]


def test_cli_announces_nothing_added_when_the_import_fails_to_commit(sqlite_db, tmp_path: Path, capsys, monkeypatch):
    _partners(sqlite_db)
    (tmp_path / "entries.csv").write_text(csv_text(*GOOD_ROWS))

    def failing_commit(self) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(SessionTransaction, "commit", failing_commit)
    assert _cli(sqlite_db.url, "import", "entries", str(tmp_path / "entries.csv")) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "disk I/O error" in captured.err


def test_cli_refuses_a_bad_file_with_exit_2_and_a_one_line_reason(sqlite_db, tmp_path: Path, capsys):
    _partners(sqlite_db)
    (tmp_path / "entries.csv").write_text(csv_text(GOOD_ROWS[0], "2015-06-24,ANN,commission,1.005,R-1,"))
    assert _cli(sqlite_db.url, "import", "entries", str(tmp_path / "entries.csv")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("payouts: entries.csv: 1 problem(s), nothing was imported")
    assert "row 3, column amount: '1.005' has more decimals than USD allows (2)" in line
    assert stored_entries(sqlite_db) == []


def test_cli_refuses_a_file_that_does_not_exist_with_exit_2(sqlite_db, tmp_path: Path, capsys):
    assert _cli(sqlite_db.url, "import", "entries", str(tmp_path / "missing.csv")) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"payouts: no such file: {tmp_path / 'missing.csv'}"


@pytest.mark.parametrize(("make", "reason"), [
    pytest.param(lambda tmp: tmp / "dir.csv", "is a directory", id="directory"),
    pytest.param(lambda tmp: tmp / "pipe.csv", "is not a regular file (a named pipe)", id="FIFO"),
    pytest.param(lambda tmp: Path(os.devnull), "is not a regular file (a character device)", id="/dev/null"),
])
def test_cli_refuses_an_import_path_that_is_not_a_regular_file_saying_what_it_is(
    sqlite_db, tmp_path: Path, capsys, make, reason
):
    """Checked with os.stat before opening: opening a FIFO to read blocks until something writes to it."""
    (tmp_path / "dir.csv").mkdir()
    os.mkfifo(tmp_path / "pipe.csv")
    path = make(tmp_path)
    assert _cli(sqlite_db.url, "import", "entries", str(path)) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"payouts: cannot import {path}: it {reason}"


def _import_entries_bytes(db, tmp_path: Path, content: bytes) -> imports.ImportResult:
    path = tmp_path / "entries.csv"
    path.write_bytes(content)
    with db.write() as s:
        return imports.import_entries_file(s, path, actor="cli:test")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_without_a_byte_order_mark_is_refused_as_not_utf8(db, tmp_path: Path, encoding):
    """UTF-16 text of ASCII letters is valid UTF-8 with a NUL byte beside every letter."""
    _partners(db)
    with pytest.raises(ImportRefused) as caught:
        _import_entries_bytes(db, tmp_path, csv_text(GOOD_ROWS[0]).encode(encoding))
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (1, "(file)")
    assert problem.reason.startswith("not UTF-8 text: it looks like UTF-16")
    assert stored_entries(db) == []


def test_a_utf16_file_with_a_byte_order_mark_is_refused_as_utf16(db, tmp_path: Path):
    _partners(db)
    with pytest.raises(ImportRefused) as caught:
        _import_entries_bytes(db, tmp_path, csv_text(GOOD_ROWS[0]).encode("utf-16"))
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (1, "(file)")
    assert problem.reason.startswith("not UTF-8 text: it is UTF-16 (it starts with a UTF-16 byte-order mark)")


def test_a_line_longer_than_the_bound_refuses_the_file_naming_its_row_without_reading_it_whole(db, monkeypatch):
    """Read whole, one 200 MB line would take 462 MB of memory before anything looked at it."""
    monkeypatch.setattr(imports, "MAX_ROW_CHARACTERS", 1_000)
    _partners(db)
    handle = io.StringIO(csv_text(GOOD_ROWS[0], "2015-06-02,ANN,commission,1.00,R-9," + "x" * 100_000, GOOD_ROWS[1]))
    with db.write() as s, pytest.raises(ImportRefused) as caught:
        imports.import_entries(s, handle, source="entries.csv", actor="cli:test")
    assert caught.value.problems == [RowProblem(3, "(row)", "longer than 1,000 characters")]
    assert handle.tell() < 2_000
    assert stored_entries(db) == []


def test_a_row_of_many_short_lines_longer_than_the_bound_refuses_the_file_naming_its_row(db, monkeypatch):
    """A quoted cell may hold line breaks; the bound is on the whole row, not on one line of it."""
    monkeypatch.setattr(imports, "MAX_ROW_CHARACTERS", 1_000)
    _partners(db)
    description = '"' + "a line\n" * 500 + '"'
    refused = refusal(db, csv_text(GOOD_ROWS[0], f"2015-06-02,ANN,commission,1.00,R-9,{description}"))
    assert [(p.row, p.column, p.reason) for p in refused.problems] == [(3, "(row)", "longer than 1,000 characters")]


def test_the_bound_is_on_each_row_so_a_file_longer_than_it_imports(db, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROW_CHARACTERS", 1_000)
    _partners(db)
    rows = [f"2015-06-0{n},ANN,commission,1.00,R-{n}," + "x" * 400 for n in range(1, 5)]
    assert import_entries(db, csv_text(*rows, header=HEADER + " " * 500)).added == 4


def test_a_header_cell_too_large_for_the_csv_reader_refuses_the_file_as_unreadable(db):
    """A csv.Error in the header is bad input, named like one in a row, not a failure."""
    refused = refusal(db, csv_text(GOOD_ROWS[0], header=HEADER + ',"' + "x" * 200_000 + '"'))
    [problem] = refused.problems
    assert (problem.row, problem.column) == (1, "(file)")
    assert problem.reason.startswith("unreadable CSV: field larger than field limit")


class _CountingLines(io.StringIO):
    """A file that counts the lines read from it."""

    lines_read = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        line = super().readline(size)
        self.lines_read += bool(line)
        return line


def test_a_file_of_many_bad_rows_stops_being_read_after_1000_problems_and_says_so(db):
    """Reading on through 200 MB of bad rows would take minutes, to count problems no one reads past the first 20."""
    _partners(db)
    handle = _CountingLines(csv_text(*(f"2015-06-01,ANN,commission,oops,R-{n}," for n in range(5_000))))
    with db.write() as s, pytest.raises(ImportRefused) as caught:
        imports.import_entries(s, handle, source="entries.csv", actor="cli:test")
    refused = caught.value
    assert (refused.count, len(refused.problems), handle.lines_read) == (1_000, 20, 1_001)
    assert str(refused).startswith(
        "entries.csv: at least 1000 problem(s), stopped reading at row 1001; nothing was imported: "
    )
    assert str(refused).endswith("; … and 980 more")
    assert stored_entries(db) == []


def _keap_row(code: str, amount: str, reference: str) -> dict[str, str]:
    return {"date": "2015-06-01", "partner_code": code, "kind": "commission", "amount": amount,
            "reference": reference, "description": ""}


def test_entry_records_for_some_partners_still_count_the_others_toward_the_currency_limit(db):
    """Reading only the partners a sync writes must not loosen the currency's bound (domain.limits)."""
    from sqlalchemy import update

    from domain.limits import CURRENCY_IMPORT_LIMIT

    with db.write() as s:
        add_partner(s, "ANN")
        add_partner(s, "BOB")
        s.execute(update(Partner).where(Partner.code == "BOB").values(turnover=CURRENCY_IMPORT_LIMIT - 100))
    with pytest.raises(ImportRefused, match="take the USD entries of all partners past"):
        with db.write() as s:
            imports.import_entry_records(s, [(1, _keap_row("ANN", "2.00", "K-1"))], source="keap", actor="t",
                                         partner_codes=["ANN"])


def test_entry_records_limited_to_some_partners_refuse_a_row_naming_another(db):
    with db.write() as s:
        add_partner(s, "ANN")
        add_partner(s, "BOB")
    with pytest.raises(ImportRefused, match="no partner with code 'BOB'"):
        with db.write() as s:
            imports.import_entry_records(s, [(1, _keap_row("BOB", "2.00", "K-1"))], source="keap", actor="t",
                                         partner_codes=["ANN"])


def test_entry_records_imported_unaudited_leave_the_audit_log_to_the_caller(db):
    with db.write() as s:
        add_partner(s, "ANN")
    with db.write() as s:
        result = imports.import_entry_records(s, [(1, _keap_row("ANN", "2.00", "K-1"))], source="keap", actor="t",
                                              partner_codes=["ANN"], audited=False)
    with db.read() as s:
        assert result.added == 1 and s.scalar(select(func.count()).select_from(AuditEvent)) == 0
