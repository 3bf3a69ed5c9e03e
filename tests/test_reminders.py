"""Reminder schedules in the domain: adding, removing, due times in the organisation's zone,
claiming a period once, and what is due (SPEC §4 `/payout remind`)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from domain import reminders
from domain.audit import read_log
from domain.batches import BatchOptions, plan_batch
from domain.dates import DateRange
from domain.models import Partner, ReminderSchedule
from domain.reminders import MONTHLY, WEEKLY, ReminderError, Schedule, UnknownSchedule
from tests.factories import add_entry, add_partner

CREATED = datetime(2015, 1, 1, tzinfo=UTC)
NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def schedule(frequency: str = MONTHLY, day: int = 1, at: str = "09:00", created: datetime = CREATED) -> Schedule:
    return Schedule(1, frequency, day, reminders.parse_time(at), "C0123ABCD", "last-month", "U1", created)


def add(db, **overrides) -> Schedule:
    values = dict(frequency=MONTHLY, day=1, at_time="09:00", channel="C0123ABCD", range_expression="last-month",
                  actor="U_FIN", now=datetime(2015, 7, 15, 12, tzinfo=UTC), today=date(2015, 7, 15))
    values.update(overrides)
    with db.write() as session:
        return reminders.add_schedule(session, **values)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# ---- schedules ----------------------------------------------------------------------------------


def test_an_added_schedule_is_listed_with_who_created_it(db):
    added = add(db, frequency=WEEKLY, day=0, at_time="8:30", range_expression="Last-Week")
    with db.read() as session:
        [listed] = reminders.active_schedules(session)
    assert listed == added
    assert (listed.frequency, listed.day, listed.at_time, listed.range_expression) == (WEEKLY, 0, time(8, 30), "last-week")
    assert listed.created_by == "U_FIN" and listed.created_at == utc(2015, 7, 15, 12)


def test_a_channel_mention_is_stored_as_its_channel_id(db):
    assert add(db, channel="<#C0123ABCD|finance>").channel == "C0123ABCD"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"frequency": "daily"}, "frequency 'daily'"),
        ({"day": 32}, "day 32"),
        ({"day": 0}, "day 0"),
        ({"frequency": WEEKLY, "day": 7}, "weekday 7"),
        ({"at_time": "25:00"}, "time '25:00'"),
        ({"at_time": "9am"}, "time '9am'"),
        ({"channel": "#finance"}, "channel '#finance'"),
        ({"channel": "GENERAL"}, "channel 'GENERAL' is not a Slack channel ID"),
        ({"range_expression": "last-fortnight"}, "'last-fortnight'"),
    ],
)
def test_a_bad_value_is_refused_naming_it_and_nothing_is_stored(db, overrides, named):
    with pytest.raises(ReminderError, match=named):
        add(db, **overrides)
    with db.read() as session:
        assert session.scalars(select(ReminderSchedule)).all() == []


def test_adding_a_schedule_is_audited(db):
    added = add(db)
    with db.read() as session:
        [event] = read_log(session)
    assert (event.actor, event.action, event.subject) == ("U_FIN", "reminder.add", f"reminder {added.id}")
    assert event.detail["channel"] == "C0123ABCD" and event.detail["range"] == "last-month"


def test_a_removed_schedule_is_kept_marked_with_who_removed_it_and_no_longer_listed(db):
    added = add(db)
    with db.write() as session:
        removed = reminders.remove_schedule(session, added.id, actor="U_BOSS", now=utc(2015, 7, 16))
    with db.read() as session:
        assert reminders.active_schedules(session) == []
        row = session.get(ReminderSchedule, added.id)
        assert row is not None and row.removed_by == "U_BOSS"
        assert [e.action for e in read_log(session)] == ["reminder.add", "reminder.remove"]
    assert removed.removed_at == utc(2015, 7, 16)


def test_removing_twice_says_who_removed_it_first(db):
    added = add(db)
    with db.write() as session:
        reminders.remove_schedule(session, added.id, actor="U_BOSS", now=utc(2015, 7, 16))
    with pytest.raises(ReminderError, match="already removed by U_BOSS"), db.write() as session:
        reminders.remove_schedule(session, added.id, actor="U_OTHER", now=utc(2015, 7, 17))


@pytest.mark.parametrize("schedule_id", [42, 0, 10**20])
def test_removing_an_unknown_schedule_names_its_id(db, schedule_id):
    with pytest.raises(UnknownSchedule, match=f"no reminder schedule with ID {schedule_id}"), db.write() as session:
        reminders.remove_schedule(session, schedule_id, actor="U_BOSS", now=utc(2015, 7, 16))


# ---- due times ----------------------------------------------------------------------------------


def test_a_monthly_schedule_is_due_at_its_local_time_on_its_day():
    due = reminders.next_due(schedule(MONTHLY, 1, "09:00"), utc(2015, 7, 15), NEW_YORK)
    assert (due.period, due.at) == ("2015-08-01", utc(2015, 8, 1, 13))


def test_a_weekly_schedule_is_due_on_its_weekday():
    due = reminders.next_due(schedule(WEEKLY, 0, "09:00"), utc(2015, 7, 15), "UTC")
    assert (due.period, due.at) == ("2015-07-20", utc(2015, 7, 20, 9))


def test_day_31_is_due_on_the_last_day_of_shorter_months():
    monthly_31 = schedule(MONTHLY, 31)
    periods = []
    moment = utc(2015, 1, 1)
    for _ in range(12):
        due = reminders.next_due(monthly_31, moment, "UTC")
        periods.append(due.period)
        moment = due.at
    assert periods == ["2015-01-31", "2015-02-28", "2015-03-31", "2015-04-30", "2015-05-31", "2015-06-30",
                       "2015-07-31", "2015-08-31", "2015-09-30", "2015-10-31", "2015-11-30", "2015-12-31"]


def test_day_29_is_due_on_february_29_in_a_leap_year():
    assert reminders.next_due(schedule(MONTHLY, 29), utc(2016, 2, 1), "UTC").period == "2016-02-29"


def test_the_previous_due_time_is_the_latest_at_or_before_the_moment():
    weekly = schedule(WEEKLY, 2, "09:00")
    assert reminders.previous_due(weekly, utc(2015, 7, 15, 9), "UTC").period == "2015-07-15"
    assert reminders.previous_due(weekly, utc(2015, 7, 15, 8, 59), "UTC").period == "2015-07-08"


def test_a_wall_time_in_the_spring_forward_gap_is_due_when_the_clocks_jump():
    due = reminders.previous_due(schedule(WEEKLY, 6, "02:30"), utc(2015, 3, 8, 12), NEW_YORK)
    assert (due.period, due.at) == ("2015-03-08", utc(2015, 3, 8, 7))  # 03:00 EDT


def test_a_wall_time_in_the_repeated_fall_back_hour_is_due_at_its_first_occurrence():
    due = reminders.previous_due(schedule(WEEKLY, 6, "01:30"), utc(2015, 11, 1, 12), NEW_YORK)
    assert (due.period, due.at) == ("2015-11-01", utc(2015, 11, 1, 5, 30))  # 01:30 EDT


@pytest.mark.parametrize(
    ("zone_name", "sundays"),
    [
        (NEW_YORK, ("2015-03-01", "2015-03-08", "2015-03-15")),  # spring forward on the 8th
        (NEW_YORK, ("2015-10-25", "2015-11-01", "2015-11-08")),  # fall back on the 1st
        (BERLIN, ("2015-03-22", "2015-03-29", "2015-04-05")),  # last Sunday of March
        (BERLIN, ("2015-10-18", "2015-10-25", "2015-11-01")),  # last Sunday of October
    ],
)
def test_weekly_wall_times_across_a_dst_change_are_due_once_each_week(zone_name, sundays):
    first = datetime.combine(date.fromisoformat(sundays[0]), time(12), UTC) - timedelta(days=1)
    after = first + timedelta(weeks=3)
    for at in ("00:30", "01:30", "02:00", "02:30", "03:00", "09:00"):
        weekly = schedule(WEEKLY, 6, at)
        periods, moment = [], first
        while (due := reminders.next_due(weekly, moment, zone_name)).at < after:
            assert due.at > moment
            periods.append(due.period)
            moment = due.at
        assert tuple(periods) == sundays, at


def test_a_due_time_before_the_schedule_was_created_is_not_pending():
    created_after_due = schedule(MONTHLY, 1, "09:00", created=utc(2015, 7, 1, 10))
    assert reminders.pending_due(created_after_due, utc(2015, 7, 1, 11), "UTC") is None


def test_a_due_time_older_than_the_grace_period_is_not_pending():
    monthly = schedule(MONTHLY, 1, "09:00")
    assert reminders.pending_due(monthly, utc(2015, 7, 2, 9), "UTC").period == "2015-07-01"
    assert reminders.pending_due(monthly, utc(2015, 7, 2, 9, 1), "UTC") is None


def test_the_range_is_resolved_on_the_due_date_in_the_organisations_zone():
    monthly = schedule(MONTHLY, 1, "00:30")
    due = reminders.previous_due(monthly, utc(2015, 7, 1, 5), NEW_YORK)  # 04:30 UTC = 00:30 on July 1st
    assert reminders.due_range(monthly, due) == DateRange(date(2015, 6, 1), date(2015, 6, 30))


# ---- claiming a period --------------------------------------------------------------------------


def test_a_period_is_claimed_once(db):
    added = add(db)
    due = reminders.next_due(added, utc(2015, 7, 15), "UTC")
    with db.write() as session:
        assert reminders.claim_period(session, due, now=due.at)
    with db.write() as session:
        assert not reminders.claim_period(session, due, now=due.at)
    with db.read() as session:
        assert reminders.sent_periods(session, added.id) == ["2015-08-01"]


def test_a_removed_schedule_cannot_claim(db):
    added = add(db)
    with db.write() as session:
        reminders.remove_schedule(session, added.id, actor="U_BOSS", now=utc(2015, 7, 16))
    with db.write() as session:
        assert not reminders.claim_period(session, reminders.next_due(added, utc(2015, 7, 16), "UTC"), now=utc(2015, 8, 1))


def test_a_released_claim_can_be_claimed_again_and_the_failure_is_audited(db):
    added = add(db)
    due = reminders.next_due(added, utc(2015, 7, 15), "UTC")
    with db.write() as session:
        reminders.claim_period(session, due, now=due.at)
    with db.write() as session:
        reminders.release_claim(session, due, error="channel_not_found", actor="clock")
    with db.write() as session:
        assert reminders.claim_period(session, due, now=due.at)
    with db.read() as session:
        failed = [e for e in read_log(session) if e.action == "reminder.failed"]
    assert failed[0].detail == {"error": "channel_not_found", "period": "2015-08-01"}


def test_claims_racing_from_threads_let_exactly_one_win(db):
    added = add(db)
    due = reminders.next_due(added, utc(2015, 7, 15), "UTC")
    start = threading.Barrier(8)
    wins: list[bool] = []

    def claim() -> None:
        start.wait()
        with db.write() as session:
            wins.append(reminders.claim_period(session, due, now=due.at))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]


# ---- what is due --------------------------------------------------------------------------------


JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


@pytest.fixture
def owed(db):
    with db.write() as s:
        ann, bob, cat = add_partner(s, "ANN"), add_partner(s, "BOB"), add_partner(s, "CAT", currency="EUR")
        dan, eve = add_partner(s, "DAN"), add_partner(s, "EVE")
        add_entry(s, ann, "commission", 10_000, "2015-05-10")  # owed from before the range
        add_entry(s, bob, "commission", 2_550, "2015-06-12")
        add_entry(s, cat, "commission", 7_000, "2015-06-20")
        add_entry(s, dan, "commission", 1_000, "2015-06-02")
        add_entry(s, dan, "clawback", 3_000, "2015-06-03")  # negative: nothing owed
        add_entry(s, eve, "commission", 4_000, "2015-07-02")  # after the range
        add_entry(s, ann, "payment", 10_000, "2015-07-01")  # paid after the range: still owed for June
    return db


def test_due_counts_partners_with_a_positive_ending_balance_and_totals_per_currency(owed):
    with owed.read() as session:
        summary = reminders.due_summary(session, JUNE)
    assert summary.partners == 3
    assert [(t.currency, t.amount, t.count) for t in summary.totals] == [("EUR", 7_000, 1), ("USD", 12_550, 2)]


def test_due_agrees_with_what_the_ending_balance_method_would_pay(owed):
    with owed.read() as session:
        summary = reminders.due_summary(session, JUNE)
        plan = plan_batch(session, BatchOptions(JUNE, "ending-balance", "Check", date(2015, 7, 1)))
    assert summary.totals == plan.totals


def test_an_inactive_partner_is_not_due(owed):
    with owed.write() as session:
        session.execute(update(Partner).where(Partner.code == "CAT").values(status="inactive"))
    with owed.read() as session:
        assert [t.currency for t in reminders.due_summary(session, JUNE).totals] == ["USD"]


def test_nobody_is_due_on_an_empty_ledger(db):
    with db.read() as session:
        summary = reminders.due_summary(session, JUNE)
    assert (summary.partners, summary.totals) == (0, [])


def test_an_identical_active_schedule_is_refused_naming_the_existing_one(db) -> None:
    """SPEC §8: same cadence, day, time, channel and range as an active schedule."""
    first = add(db)

    with pytest.raises(ReminderError, match=rf"reminder {first.id} already does this \(monthly on day 1 at 09:00"):
        add(db, at_time="9:00", channel="<#C0123ABCD|finance>")
    with db.read() as session:
        assert [s.id for s in reminders.active_schedules(session)] == [first.id]


def test_a_schedule_differing_in_one_thing_or_replacing_a_removed_one_is_added(db) -> None:
    first = add(db)
    add(db, range_expression="last-week")
    with db.write() as session:
        reminders.remove_schedule(session, first.id, actor="U_FIN", now=datetime(2015, 7, 16, tzinfo=UTC))

    again = add(db)

    assert again.id != first.id


def _schedule_row(**overrides) -> dict:
    values = dict(frequency=MONTHLY, day=1, at_time="09:00", channel="C0123ABCD", range_expression="last-month",
                  created_by="U_FIN", created_at=datetime(2015, 7, 15, 12, tzinfo=UTC))
    values.update(overrides)
    return values


def test_the_database_refuses_a_second_identical_active_schedule(db) -> None:
    """DESIGN's exactly-once rule: the check before inserting cannot see a schedule added at the same moment."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    with db.write() as session:
        session.execute(insert(ReminderSchedule), [_schedule_row(removed_at=datetime(2015, 7, 1, tzinfo=UTC)),
                                                   _schedule_row()])
    with pytest.raises(IntegrityError), db.write() as session:
        session.execute(insert(ReminderSchedule), [_schedule_row()])


def test_two_identical_schedules_added_at_the_same_moment_leave_one_and_refuse_the_other(db) -> None:
    outcome: list[object] = []
    values = dict(frequency=MONTHLY, day=1, at_time="09:00", channel="C0123ABCD", range_expression="last-month",
                  actor="U_FIN", now=datetime(2015, 7, 15, 12, tzinfo=UTC), today=date(2015, 7, 15))

    def second() -> None:
        try:
            outcome.append(add(db, actor="U_OTHER"))
        except ReminderError as refused:
            outcome.append(refused)

    with db.write() as session:
        first = reminders.add_schedule(session, **values)
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=0.5)
    racer.join(timeout=30)
    [refusal] = outcome
    assert isinstance(refusal, ReminderError) and f"reminder {first.id} already does this" in str(refusal)
    with db.read() as session:
        assert [s.id for s in reminders.active_schedules(session)] == [first.id]
