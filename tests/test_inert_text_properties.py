"""Whatever a stored partner name holds, every medium shows it as text and obeys none of it.

Names are drawn from all of Unicode, mixed with the pieces that forge or act: newlines, code
fences, ESC sequences, bidi overrides, Slack mentions and links. They go straight into the
database, as names written before the import rules (or by another system) would. Each example
gets its own partner with a commission on a day of its own (clawed back the next day), so one
migrated database serves every example and each report, preview and approval request holds that
partner alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.shell_render import reply_text
from bot.slack.blocks import render_message
from commands import chat_payout_views, ledger_views, use_batches
from commands.cli_batch_views import plan_text
from commands.context import Request
from commands.ledger_files import write_ledger_csv
from commands.ledger_text import partner_ledger_table, report_table
from commands.reply import Reply
from domain import batches
from domain.batches import BatchOptions
from domain.dates import DateRange
from domain.ledger import ledger_report, partner_ledger
from domain.settings import Settings
from domain.text import is_control
from tests.factories import add_entry, add_partner

FIRST_DAY = date(2001, 1, 1)
FORGING = ["\n", "\r\n", "```", "`", "<!channel>", "<!here>", "<@U123>", "<#C123>", "<https://x|y>", "\x1b[2J",
           "\x1b]0;pwned\x07", "\u202e", "\u2028", "\u2029", "\x85", "*", "_", "~", "&", ">", "\t"]

any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)  # storable text
names = (
    st.lists(st.one_of(st.sampled_from(FORGING), any_text), min_size=1, max_size=8)
    .map("".join)
    .filter(lambda name: name.strip() and len(name) <= 200)
)
examples = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_numbers = count(1)


def store(db, name: str) -> tuple[str, DateRange]:
    """One partner owed $12.34 for its own day, written without the import's checks."""
    number = next(_numbers)
    day = FIRST_DAY + timedelta(days=3 * number)
    with db.write() as session:
        partner = add_partner(session, f"P{number}", name)
        add_entry(session, partner, "commission", 1_234, day)
        add_entry(session, partner, "clawback", 1_234, day + timedelta(days=1))
    return partner.code, DateRange(day, day)


def replies(db, code: str, period: DateRange) -> tuple[list[Reply], list[str]]:
    """The report summary, partner ledger, preview and approval request; and the CLI's tables."""
    options = BatchOptions(period, "commission", "Check", period.end + timedelta(days=1), batch_id=f"B-{code}")
    with db.write() as session:
        report = ledger_report(session, period)
        ledger = partner_ledger(session, code, period)
        plan = batches.plan_batch(session, options)
    requester = Request(db, Settings(fixed_now=datetime(2020, 1, 1, tzinfo=UTC)), "U_REQ")
    asked = chat_payout_views.approval_request(use_batches.request_batch(requester, options))
    chat = [ledger_views.summary_reply(report), ledger_views.partner_reply(ledger), chat_payout_views.preview_reply(plan),
            asked]
    return chat, [report_table(report), partner_ledger_table(ledger), plan_text(plan)]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def mrkdwn_texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield value["text"]
        for item in value.values():
            yield from mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_texts(item)


def controls(text: str) -> list[str]:
    return [char for char in text if char != "\n" and is_control(char)]


def check_slack(message: dict[str, Any]) -> None:
    assert not [c for text in strings(message) for c in controls(text)]
    for text in [message["text"], *mrkdwn_texts(message["blocks"])]:
        assert "<" not in text, f"a live mention or link: {text!r}"  # none of these replies links a channel
        assert text.count("```") % 2 == 0 and "`" not in text.replace("```", ""), f"an open code fence: {text!r}"
        if text.startswith("```"):
            assert text.endswith("```") and text.count("```") == 2, f"a code block closed early: {text!r}"


@given(name=names)
@examples
def test_slack_messages_show_any_stored_name_inert(db, name):
    chat, _ = replies(db, *store(db, name))
    for reply in chat:
        check_slack(render_message(reply))


@given(name=names)
@examples
def test_the_terminal_shows_any_stored_name_inert_and_on_one_row(db, name):
    chat, tables = replies(db, *store(db, name))
    for text in [reply_text(reply, 1) for reply in chat] + tables:
        assert not controls(text), text
    report, ledger, plan = tables
    assert len(report.split("\n")) == 5  # title, header, rule, the partner, the total
    assert len(ledger.split("\n")) == 6  # title, header, rule, beginning, the commission, ending
    assert len(plan.split("\n")) == 5  # preview line, header, rule, the line, the total


@given(name=names)
@examples
def test_the_ledger_csv_carries_any_stored_name_in_one_quoted_cell(db, name):
    code, period = store(db, name)
    with db.read() as session:
        handle = io.StringIO()
        write_ledger_csv(ledger_report(session, period), handle)
    rows = list(csv.reader(io.StringIO(handle.getvalue(), newline="")))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    assert rows[1][1] in (name, "'" + name)  # a spreadsheet formula is quoted
