"""The chat grammar (SPEC §4): every form parses to its command; anything else is a usage error with an example."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from commands.grammar import UsageError, parse_command
from commands.grammar_ledger import LedgerHelp, LedgerReportCommand, PartnerLedgerCommand
from commands.grammar_payout import PayoutHelp, PayoutList, PayoutRange, PayoutStatus, PayoutVoid
from commands.grammar_remind import RemindAdd, RemindList, RemindRemove
from domain.dates import DateRange
from domain.settings import Settings
from tests.conftest import FIXED_NOW

SETTINGS = Settings(fixed_now=FIXED_NOW)  # today is 2015-07-15
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def parse(command: str, text: str):
    return parse_command(command, text, SETTINGS)


def usage(command: str, text: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse(command, text)
    return caught.value


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2015-06-01..2015-06-30", "2015-06-01", "2015-06-30"),
    ("2015-06", "2015-06-01", "2015-06-30"),
    ("2015-Q2", "2015-04-01", "2015-06-30"),
    ("2015", "2015-01-01", "2015-12-31"),
    ("last-month", "2015-06-01", "2015-06-30"),
    ("this-month", "2015-07-01", "2015-07-31"),
    ("last-week", "2015-07-06", "2015-07-12"),
    ("last-quarter", "2015-04-01", "2015-06-30"),
    ("ytd", "2015-01-01", "2015-07-15"),
])
def test_every_range_form_resolves_against_today(text, start, end):
    assert parse("ledger", text) == LedgerReportCommand(DateRange(date.fromisoformat(start), date.fromisoformat(end)))


def test_ledger_range_is_the_report_summary():
    assert parse("/ledger", "2015-06") == LedgerReportCommand(JUNE)


def test_ledger_partner_names_one_partner():
    assert parse("ledger", "2015-06 partner ANN-7") == PartnerLedgerCommand(JUNE, "ANN-7")


@pytest.mark.parametrize("file", ["csv", "pdf", "CSV"])
def test_ledger_csv_or_pdf_attaches_the_report(file):
    assert parse("ledger", f"2015-06 {file}") == LedgerReportCommand(JUNE, file=file.lower())


def test_ledger_all_lists_every_partner_and_paper_picks_the_page_size():
    assert parse("ledger", "2015-06 pdf all paper=A4") == LedgerReportCommand(JUNE, "pdf", include_all=True, paper="a4")


def test_ledger_help():
    assert parse("ledger", "help") == LedgerHelp()


def test_payout_with_every_option_is_complete():
    command = parse("payout", '2015-06 method=commission type="bank transfer" batch=B-1 date=2015-07-01 min=25')
    assert command == PayoutRange(JUNE, "commission", "Bank transfer", "B-1", date(2015, 7, 1), "25")
    assert command.complete


def test_payout_with_some_options_is_incomplete_and_keeps_them():
    command = parse("payout", "last-month type=paypal overlap=allow")
    assert command == PayoutRange(JUNE, payment_type="PayPal", allow_overlap=True)
    assert not command.complete


def test_curly_quotes_from_chat_apps_group_a_value():
    assert parse("payout", "2015-06 type=“Money order”").payment_type == "Money order"


def test_slack_entities_in_the_text_are_read_as_the_characters_typed():
    assert parse("payout", "void B-1 R&amp;D &lt;pilot&gt; paid twice") == PayoutVoid("B-1", "R&D <pilot> paid twice")
    assert parse("ledger", "2015-06 partner A&amp;B") == PartnerLedgerCommand(JUNE, "A&B")


@pytest.mark.parametrize(("text", "expected"), [
    ("list", PayoutList()),
    ("help", PayoutHelp()),
    ("status Batch-20150701", PayoutStatus("Batch-20150701")),
    ("void Batch-20150701 the checks were never sent", PayoutVoid("Batch-20150701", "the checks were never sent")),
])
def test_payout_list_status_void_and_help(text, expected):
    assert parse("payout", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("remind add monthly 1 09:00 C0123ABCD", RemindAdd("monthly", 1, "09:00", "C0123ABCD", "last-month")),
    ("remind add monthly 31 23:59 <#C0123ABCD|finance> range=last-quarter",
     RemindAdd("monthly", 31, "23:59", "C0123ABCD", "last-quarter")),
    ("remind add weekly Mon 7:30 C0123ABCD", RemindAdd("weekly", 0, "07:30", "C0123ABCD", "last-week")),
    ("remind add weekly SUNDAY 00:00 <#C0123ABCD>", RemindAdd("weekly", 6, "00:00", "C0123ABCD", "last-week")),
    ("remind list", RemindList()),
    ("remind remove 12", RemindRemove(12)),
])
def test_reminder_schedules(text, expected):
    assert parse("payout", text) == expected


@pytest.mark.parametrize(("command", "text", "named"), [
    ("ledger", "", "range"),
    ("ledger", "2015-13", "no month 13"),
    ("ledger", "2015-02-30..2015-03-01", "not a real date"),
    ("ledger", "2015-06 partner", "partner code"),
    ("ledger", "2015-06 xls", "'xls'"),
    ("ledger", "2015-06 paper=a3", "a3"),
    ("payout", "2015-06 method=everything", "method 'everything'"),
    ("payout", "2015-06 type=Bitcoin", "Bitcoin"),
    ("payout", "2015-06 date=2015-07-32", "payment date"),
    ("payout", "2015-06 min=-5", "minimum '-5'"),
    ("payout", "2015-06 min=1e3", "minimum '1e3' is not a number"),
    ("ledger", "２０１５-06", "'２０１５-06' is not a date range"),
    ("payout", "2015-06 batch=no/slashes", "batch ID"),
    ("payout", "2015-06 colour=red", "colour="),
    ("payout", "2015-06 min=1 min=2", "twice"),
    ("payout", "void Batch-1", "reason"),
    ("payout", "remind add monthly 32 09:00 C0123ABCD", "'32'"),
    ("payout", "remind add weekly funday 09:00 C0123ABCD", "'funday'"),
    ("payout", "remind add monthly 1 24:00 C0123ABCD", "'24:00'"),
    ("payout", "remind add monthly 1 09:00 #finance", "channel"),
    ("payout", "remind add monthly 1 09:00 C0123ABCD range=someday", "someday"),
    ("payout", "remind remove x", "number"),
    ("payout", 'void "Batch-1', "quote"),
    ("refund", "2015-06", "no command"),
])
def test_malformed_commands_name_the_problem_and_give_an_example(command, text, named):
    error = usage(command, text)
    assert named in error.message
    assert error.example.startswith("/")


@pytest.mark.parametrize("name", ["general", "GENERAL", "greetings"])
def test_a_channel_name_is_refused_with_the_channel_id_form_as_the_example(name):
    error = usage("payout", f"remind add monthly 1 09:00 {name}")
    assert f"'{name}' is not a Slack channel ID (like C0123ABCD) or a channel mention (like <#C0123ABCD|finance>)" in error.message
    assert "C0123ABCD" in error.example


def test_a_help_with_trailing_words_is_a_usage_error():
    assert usage("ledger", "help me").example == "/ledger help"


ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
VALID = [
    ("ledger", "2015-06-01..2015-06-30 partner ANN pdf paper=a4"),
    ("ledger", "last-quarter csv all"),
    ("payout", "2015-Q2 method=ending-balance type=Check batch=Batch-1 date=2015-07-01 min=25 overlap=allow"),
    ("payout", "void Batch-20150701 lost in the mail"),
    ("payout", "remind add weekly wed 09:00 <#C0123ABCD|finance> range=last-week"),
    ("payout", "remind add monthly 5 12:30 C0123ABCD range=2015-06"),
    ("payout", "remind remove 4"),
    ("payout", "status Batch-20150701"),
]
NEAR_MISS_PIECES = st.sampled_from([
    "", " ", "=", "..", "-", ":", "\"", "'", "<#", ">", "|", "0", "9", "99", "-13", "Q5", "q0", "2015", "9999-12",
    "0000", "method=", "type=", "batch=", "date=", "min=", "overlap=", "range=", "partner", "csv", "pdf", "all",
    "help", "list", "void", "status", "remind", "add", "monthly", "weekly", "remove", "NaN", "1e999", "Infinity",
    "٣", "²", "\x00", "\n", "📄", "ｌｅｄｇｅｒ",
])


@st.composite
def near_miss(draw):
    """A valid command with a piece cut out, a piece spliced in, or two words swapped."""
    command, text = draw(st.sampled_from(VALID))
    cut = draw(st.integers(0, len(text)))
    span = draw(st.integers(0, 6))
    mutated = text[:cut] + draw(NEAR_MISS_PIECES) + text[cut + span:]
    tokens = mutated.split(" ")
    if draw(st.booleans()) and len(tokens) > 1:
        i, j = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return command, " ".join(tokens)


def assert_parses_or_explains(command: str, text: str) -> None:
    try:
        parse(command, text)
    except UsageError as error:
        assert error.message.strip()
        assert error.example.startswith(f"/{command}")


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.sampled_from(["ledger", "payout"]), ANY_TEXT)
def test_arbitrary_text_parses_or_is_a_usage_error_with_an_example(command, text):
    assert_parses_or_explains(command, text)


@hypothesis_settings(max_examples=600, deadline=None)
@given(near_miss())
def test_near_miss_commands_parse_or_are_a_usage_error_with_an_example(case):
    assert_parses_or_explains(*case)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.sampled_from(["ledger", "payout"]),
       st.lists(st.sampled_from(["2015-06", "last-month", "partner", "X", "csv", "pdf", "all", "method=commission",
                                 "type=check", "batch=B", "date=2015-07-01", "min=0", "remind", "add", "weekly",
                                 "monthly", "1", "09:00", "C0123ABCD", "help", "list", "status", "void"]),
                max_size=8))
def test_any_sequence_of_grammar_words_parses_or_is_a_usage_error(command, tokens):
    assert_parses_or_explains(command, " ".join(tokens))
