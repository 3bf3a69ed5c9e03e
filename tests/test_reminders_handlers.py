"""`/payout remind add | list | remove` and the reminder message, without any transport."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from commands import payout_handlers, reminder_handlers
from commands.chat_payout_views import START
from commands.context import Request
from commands.reply import Target
from domain import reminders
from domain.audit import read_log
from tests.factories import add_entry, add_partner


@pytest.fixture
def request_(db, settings) -> Request:
    return Request(db=db, settings=replace(settings, timezone="America/New_York"), actor="U_FIN", channel="C_ASK")


def add_monthly(request: Request, **overrides) -> list:
    values = dict(frequency="monthly", day=1, at_time="09:00", channel="C0123ABCD", range_expression="last-month")
    values.update(overrides)
    return reminder_handlers.add_schedule(request, **values)


def test_adding_a_schedule_confirms_it_with_its_first_reminder_in_the_organisations_zone(request_):
    [reply] = add_monthly(request_)
    assert reply.headline == "Reminder 1 added: monthly on day 1 at 09:00 in C0123ABCD"
    figures = {f.label: f.value for f in reply.figures}
    assert figures["First reminder"] == "2015-08-01 09:00 America/New_York"
    assert figures["Range"] == "last-month" and not reply.is_error


def test_a_day_past_28_says_shorter_months_are_reminded_on_their_last_day(request_):
    [reply] = add_monthly(request_, day=31)
    assert reply.headline == "Reminder 1 added: monthly on day 31 (or last) at 09:00 in C0123ABCD"
    assert "In a month without day 31, the reminder comes on the month's last day." in reply.sections[0].text
    assert {f.label: f.value for f in reply.figures}["First reminder"] == "2015-07-31 09:00 America/New_York"


def test_a_schedule_without_a_range_takes_the_frequencys_default(request_):
    add_monthly(request_, frequency="weekly", day=0, range_expression="")
    with request_.db.read() as session:
        [schedule] = reminders.active_schedules(session)
    assert schedule.range_expression == "last-week"


@pytest.mark.parametrize(
    ("overrides", "message", "example"),
    [
        ({"day": 40}, "Reminder not added: day 40 is not a day of the month", "monthly 1 09:00"),
        ({"frequency": "weekly", "day": 8}, "Reminder not added: weekday 8 is not a weekday", "weekly monday"),
        ({"at_time": "9.30"}, "Reminder not added: time '9.30' is not a time of day", "monthly 1 09:00"),
        ({"channel": "finance"}, "Reminder not added: channel 'finance' is not a Slack channel ID", "C0123ABCD"),
        ({"range_expression": "soon"}, "Reminder not added: range: 'soon' is not a date range", "range=last-month"),
    ],
)
def test_a_bad_value_gets_an_error_naming_it_with_an_example(request_, overrides, message, example):
    [reply] = add_monthly(request_, **overrides)
    assert reply.is_error and reply.private
    assert reply.headline.startswith(message)
    assert example in reply.sections[0].text


def test_listing_shows_each_schedule_with_its_next_reminder(request_):
    add_monthly(request_)
    add_monthly(request_, frequency="weekly", day=4, at_time="16:30", range_expression="last-week")
    [reply] = reminder_handlers.list_schedules(request_)
    assert reply.headline == "2 reminder schedule(s), times in America/New_York"
    assert [row[:2] for row in reply.table.rows] == [("1", "monthly on day 1 at 09:00"), ("2", "weekly on Friday at 16:30")]
    assert [row[4] for row in reply.table.rows] == ["2015-08-01 09:00 America/New_York",
                                                    "2015-07-17 16:30 America/New_York"]


def test_listing_with_no_schedules_says_how_to_add_one(request_):
    [reply] = reminder_handlers.list_schedules(request_)
    assert reply.headline.startswith("No reminder schedules. Try /payout remind add monthly")


def test_removing_a_schedule_says_who_removed_it_and_it_leaves_the_list(request_):
    add_monthly(request_)
    [reply] = reminder_handlers.remove_schedule(replace(request_, actor="U_BOSS"), 1)
    assert reply.headline == "Reminder 1 removed by U_BOSS: no more reminders monthly on day 1 at 09:00 in C0123ABCD"
    assert reminder_handlers.list_schedules(request_)[0].table is None


def test_removing_an_unknown_schedule_is_an_error_naming_its_id(request_):
    [reply] = reminder_handlers.remove_schedule(request_, 9)
    assert reply.is_error and reply.headline == "Reminder not removed: no reminder schedule with ID 9"


def test_schedule_changes_are_audited_with_who_made_them(request_):
    add_monthly(request_)
    reminder_handlers.remove_schedule(replace(request_, actor="U_BOSS"), 1)
    with request_.db.read() as session:
        events = [(e.actor, e.action, e.subject) for e in read_log(session)]
    assert events == [("U_FIN", "reminder.add", "reminder 1"), ("U_BOSS", "reminder.remove", "reminder 1")]


def test_an_unknown_button_is_an_error_not_a_traceback(request_):
    [reply] = payout_handlers.handle_action("remind.unknown", "", request_)
    assert reply.is_error and "remind.unknown" in reply.headline


# ---- the reminder itself -----------------------------------------------------------------------


def due_reminder(request: Request):
    with request.db.read() as session:
        [schedule] = reminders.active_schedules(session)
    due = reminders.next_due(schedule, datetime(2015, 7, 15, tzinfo=UTC), request.settings.timezone)
    return reminder_handlers.reminder_for(request, schedule, due)


def test_the_reminder_goes_to_the_schedules_channel_with_who_is_owed_and_totals_per_currency(request_):
    with request_.db.write() as s:
        ann, bob = add_partner(s, "ANN"), add_partner(s, "BOB", currency="EUR")
        add_entry(s, ann, "commission", 123_450, "2015-07-03")
        add_entry(s, bob, "commission", 5_000, "2015-07-20")
    add_monthly(request_)
    reply = due_reminder(request_)
    assert (reply.target, reply.channel) == (Target.CHANNEL, "C0123ABCD")
    assert reply.headline == "Payouts are due for 2015-07-01..2015-07-31: 2 partner(s) are owed"
    figures = {f.label: f.value for f in reply.figures}
    assert figures["Total USD"] == "$1,234.50 to 1 partner(s)" and figures["Total EUR"] == "€50.00 to 1 partner(s)"


def test_the_reminders_button_starts_the_payout_flow_for_its_range(request_):
    with request_.db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 1_000, "2015-07-03")
    add_monthly(request_)
    [button] = due_reminder(request_).buttons
    assert (button.label, button.action, button.value) == ("Create payments…", START, "2015-07-01..2015-07-31")
    [form] = payout_handlers.handle_action(button.action, button.value, request_)
    assert {f.name: f.default for f in form.form.fields}["range"] == "2015-07-01..2015-07-31"


def test_a_reminder_when_nobody_is_owed_says_so_and_offers_no_button(request_):
    add_monthly(request_)
    reply = due_reminder(request_)
    assert reply.headline == "Payout reminder for 2015-07-01..2015-07-31: nobody is owed anything"
    assert reply.buttons == []


def test_a_schedule_for_a_channel_reminders_may_not_go_to_is_refused_and_nothing_is_stored(request_):
    limited = replace(request_, reminder_channels=("C_FIN",))
    [reply] = add_monthly(limited, channel="<#C0123ABCD|general>")
    assert reply.is_error and "C0123ABCD may not receive ledger data" in reply.headline
    assert "C_FIN" in reply.headline
    with request_.db.read() as session:
        assert reminders.active_schedules(session) == []
