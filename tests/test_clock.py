"""The reminder clock with a controlled clock: each period reminded once, after restarts, across
daylight-saving changes, with failures, and with two clocks racing (threads and real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.cli_clock import parse_now
from bot.clock import POLL_JOB, Clock, ReminderRunner, trigger_for
from commands.chat_payout_views import START
from commands.context import Request
from commands.reply import Reply
from domain import reminders
from domain.audit import read_log
from domain.reminders import Schedule
from domain.settings import Settings
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble

NEW_YORK = "America/New_York"
CREATED = datetime(2015, 7, 15, 12, tzinfo=UTC)
AUG_1_9AM_NY = datetime(2015, 8, 1, 13, tzinfo=UTC)


@dataclass
class Outbox:
    """A send step that records what it was given, and can be told to fail."""

    messages: list[tuple[str, Reply]] = field(default_factory=list)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, channel: str, reply: Reply) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("Slack is unreachable")
            self.messages.append((channel, reply))


def context(db, timezone: str = NEW_YORK) -> Request:
    return Request(db, Settings(timezone=timezone, fixed_now=CREATED), "U_FIN")


def runner(db, outbox: Outbox, timezone: str = NEW_YORK) -> ReminderRunner:
    return ReminderRunner(context(db, timezone), outbox, log=lambda line: None)


def add(db, frequency: str = "monthly", day: int = 1, at: str = "09:00", created: datetime = CREATED) -> Schedule:
    with db.write() as session:
        return reminders.add_schedule(
            session, frequency=frequency, day=day, at_time=at, channel="C0123ABCD",
            range_expression=reminders.DEFAULT_RANGES[frequency], actor="U_FIN", now=created, today=created.date(),
        )


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


# ---- one reminder per period --------------------------------------------------------------------


def test_at_the_due_time_one_reminder_goes_to_the_schedules_channel(db, outbox):
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 5_000, "2015-07-10")
    add(db)
    [outcome] = runner(db, outbox).run_due(AUG_1_9AM_NY)
    [(channel, reply)] = outbox.messages
    assert outcome.sent and outcome.period == "2015-08-01" and channel == "C0123ABCD"
    assert reply.headline == "Payouts are due for 2015-07-01..2015-07-31: 1 partner(s) are owed"
    assert reply.buttons[0].action == START


def test_running_again_at_the_same_moment_sends_nothing(db, outbox):
    add(db)
    runner(db, outbox).run_due(AUG_1_9AM_NY)
    assert runner(db, outbox).run_due(AUG_1_9AM_NY) == []
    assert len(outbox.messages) == 1


def test_before_the_due_time_nothing_is_sent(db, outbox):
    add(db)
    assert runner(db, outbox).run_due(AUG_1_9AM_NY - timedelta(minutes=1)) == []
    assert outbox.messages == []


def test_a_reminder_missed_while_the_clock_was_down_arrives_once_after_a_restart(db, outbox):
    add(db)
    back_up = AUG_1_9AM_NY + timedelta(hours=7)
    assert [o.period for o in runner(db, outbox).run_due(back_up)] == ["2015-08-01"]
    assert runner(db, outbox).run_due(back_up + timedelta(minutes=1)) == []
    assert len(outbox.messages) == 1


def test_a_reminder_missed_for_longer_than_the_grace_period_is_skipped(db, outbox):
    add(db)
    assert runner(db, outbox).run_due(AUG_1_9AM_NY + reminders.GRACE + timedelta(seconds=1)) == []
    assert outbox.messages == []


def test_a_schedule_added_after_todays_due_time_waits_for_the_next_period(db, outbox):
    add(db, created=AUG_1_9AM_NY + timedelta(minutes=5))
    assert runner(db, outbox).run_due(AUG_1_9AM_NY + timedelta(minutes=10)) == []


def test_a_removed_schedule_stops(db, outbox):
    schedule = add(db)
    with db.write() as session:
        reminders.remove_schedule(session, schedule.id, actor="U_BOSS", now=AUG_1_9AM_NY - timedelta(days=1))
    assert runner(db, outbox).run_due(AUG_1_9AM_NY) == []
    assert outbox.messages == []


def test_a_failed_send_is_released_and_sent_once_on_the_next_poll(db, outbox):
    add(db)
    outbox.failures = 1
    [failed] = runner(db, outbox).run_due(AUG_1_9AM_NY)
    assert not failed.sent and "Slack is unreachable" in failed.error
    [retried] = runner(db, outbox).run_due(AUG_1_9AM_NY + timedelta(seconds=30))
    assert retried.sent and len(outbox.messages) == 1
    assert runner(db, outbox).run_due(AUG_1_9AM_NY + timedelta(seconds=60)) == []
    with db.read() as session:
        assert [e.action for e in read_log(session)].count("reminder.failed") == 1


def test_after_a_failed_send_the_clock_waits_a_minute_then_doubles_the_wait(db, outbox):
    add(db)
    clock = runner(db, outbox)
    outbox.failures = 2
    tries = [AUG_1_9AM_NY + timedelta(seconds=seconds) for seconds in (0, 30, 60, 90, 150, 180)]
    attempted = [bool(clock.run_due(moment)) for moment in tries]
    assert attempted == [True, False, True, False, False, True]
    assert len(outbox.messages) == 1


def test_two_clocks_at_once_send_one_reminder(db, outbox):
    add(db)
    add(db, "weekly", 5, "09:00")  # Saturday 2015-08-01 too
    start = threading.Barrier(4)
    outcomes = []

    def run() -> None:
        clock = runner(db, outbox)
        start.wait()
        outcomes.extend(clock.run_due(AUG_1_9AM_NY))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((o.schedule_id, o.period) for o in outcomes) == [(1, "2015-08-01"), (2, "2015-08-01")]
    assert len(outbox.messages) == 2


# ---- the scheduler ------------------------------------------------------------------------------


class Frozen:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    yield BackgroundScheduler(timezone=UTC)


def test_each_schedule_gets_a_job_that_fires_at_its_due_time(db, outbox, scheduler):
    monthly, weekly = add(db), add(db, "weekly", 4, "16:30")
    Clock(runner(db, outbox), scheduler, now=Frozen(CREATED)).refresh()
    for schedule in (monthly, weekly):
        job = scheduler.get_job(f"reminder-{schedule.id}")
        assert job.trigger.get_next_fire_time(None, CREATED) == reminders.next_due(schedule, CREATED, NEW_YORK).at


def test_the_poll_adds_jobs_for_new_schedules_and_drops_removed_ones(db, outbox, scheduler):
    first = add(db)
    clock = Clock(runner(db, outbox), scheduler, now=Frozen(CREATED))
    clock.refresh()
    second = add(db, "weekly", 0)
    with db.write() as session:
        reminders.remove_schedule(session, first.id, actor="U_BOSS", now=CREATED)
    clock.refresh()
    assert sorted(job.id for job in scheduler.get_jobs()) == [f"reminder-{second.id}"]


def test_starting_the_clock_catches_up_and_then_polls(db, outbox, scheduler):
    add(db)
    clock = Clock(runner(db, outbox), scheduler, poll_seconds=30, now=Frozen(AUG_1_9AM_NY + timedelta(hours=1)))
    clock.start()
    try:
        assert len(outbox.messages) == 1
        assert scheduler.get_job(POLL_JOB).trigger.interval == timedelta(seconds=30)
    finally:
        scheduler.shutdown(wait=False)


def test_a_clock_started_while_the_database_is_unreachable_keeps_running_and_polls(db, outbox, scheduler,
                                                                                  monkeypatch):
    add(db)
    clock = Clock(runner(db, outbox), scheduler, poll_seconds=30, now=Frozen(AUG_1_9AM_NY))
    real_read = db.read
    monkeypatch.setattr(db, "read", unreachable)
    clock.start()
    try:
        monkeypatch.setattr(db, "read", real_read)
        clock.poll()
        assert scheduler.get_job(POLL_JOB) is not None and len(outbox.messages) == 1
    finally:
        scheduler.shutdown(wait=False)


def test_a_poll_that_cannot_reach_the_database_logs_one_line_and_the_next_poll_works(db, outbox, scheduler,
                                                                                   monkeypatch):
    add(db)
    lines: list[str] = []
    clock = Clock(ReminderRunner(context(db), outbox, log=lines.append), scheduler, now=Frozen(AUG_1_9AM_NY))
    real_read, calls = db.read, []

    def failing_once():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("server closed the connection")
        return real_read()

    monkeypatch.setattr(db, "read", failing_once)
    clock.poll()
    clock.poll()
    assert lines[0].startswith("clock: could not read the schedules (ConnectionError: server closed the connection)")
    assert len(outbox.messages) == 1


def test_a_job_that_cannot_reach_the_database_logs_one_line_and_leaves_the_reminder_to_the_poll(
        db, outbox, scheduler, monkeypatch):
    schedule = add(db)
    lines: list[str] = []
    clock = Clock(ReminderRunner(context(db), outbox, log=lines.append), scheduler, now=Frozen(AUG_1_9AM_NY))
    real_read = db.read

    def unreachable():  # type: ignore[no-untyped-def]
        raise ConnectionError("connection refused")

    monkeypatch.setattr(db, "read", unreachable)
    assert clock.fire(schedule.id) == []
    monkeypatch.setattr(db, "read", real_read)
    clock.poll()
    assert lines[0].startswith(f"clock: reminder {schedule.id} could not be checked (ConnectionError")
    assert len(outbox.messages) == 1


def fire_times(schedule: Schedule, timezone: str, start: datetime, end: datetime) -> list[datetime]:
    """When APScheduler would fire the schedule's job between two instants."""
    trigger, times, previous, moment = trigger_for(schedule, timezone), [], None, start
    while (fire := trigger.get_next_fire_time(previous, moment)) and fire < end:
        times.append(fire)
        previous, moment = fire, fire
    return times


@pytest.mark.parametrize(
    ("timezone", "at", "sundays"),
    [
        (NEW_YORK, "02:30", ("2015-03-01", "2015-03-08", "2015-03-15")),  # 02:30 does not exist on the 8th
        (NEW_YORK, "01:30", ("2015-10-25", "2015-11-01", "2015-11-08")),  # 01:30 happens twice on the 1st
        ("Europe/Berlin", "02:30", ("2015-03-22", "2015-03-29", "2015-04-05")),
        ("Europe/Berlin", "02:30", ("2015-10-18", "2015-10-25", "2015-11-01")),
    ],
)
def test_a_dst_week_neither_skips_nor_doubles_a_reminder(sqlite_db, outbox, scheduler, timezone, at, sundays):
    db = sqlite_db
    start = datetime.combine(date.fromisoformat(sundays[0]), datetime.min.time(), UTC) - timedelta(days=1)
    end = start + timedelta(weeks=3)
    schedule = add(db, "weekly", 6, at, created=start - timedelta(days=1))
    frozen = Frozen(start)
    clock = Clock(runner(db, outbox, timezone), scheduler, now=frozen)
    polls = [start + timedelta(minutes=15 * step) for step in range(int((end - start) / timedelta(minutes=15)))]
    events = sorted([(moment, "poll") for moment in polls] + [(m, "job") for m in fire_times(schedule, timezone, start, end)])
    for moment, kind in events:
        frozen.moment = moment
        clock.refresh() if kind == "poll" else clock.fire(schedule.id)
    with db.read() as session:
        assert tuple(reminders.sent_periods(session, schedule.id)) == sundays
    assert len(outbox.messages) == 3


def test_a_reminder_in_the_spring_forward_gap_is_sent_when_the_clocks_jump(db, outbox):
    add(db, "weekly", 6, "02:30", created=datetime(2015, 3, 1, tzinfo=UTC))
    clock = runner(db, outbox)
    assert clock.run_due(datetime(2015, 3, 8, 6, 59, tzinfo=UTC)) == []  # 01:59 EST
    assert [o.period for o in clock.run_due(datetime(2015, 3, 8, 7, 0, tzinfo=UTC))] == ["2015-03-08"]  # 03:00 EDT


# ---- real processes -----------------------------------------------------------------------------


def clock_command(database_url: str, *args: str) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())",
            "--database", database_url, "clock", *args]


def clock_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env.update({"TIMEZONE": NEW_YORK, **extra})
    return env


def test_two_clock_processes_at_once_send_each_reminder_once(sqlite_db):
    for day in range(1, 4):
        add(sqlite_db, "monthly", day)
    url = sqlite_db.url
    for run in range(3):
        now = f"2015-08-0{run + 1}T09:00"
        processes = [
            subprocess.Popen(clock_command(url, "--once", "--now", now), env=clock_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=60) for process in processes]
        assert [process.returncode for process in processes] == [0, 0]
        printed = "".join(out for out, _ in outputs)
        assert printed.count("→ C0123ABCD:") == 1, outputs
    with sqlite_db.read() as session:
        assert [reminders.sent_periods(session, day) for day in range(1, 4)] == [
            ["2015-08-01"], ["2015-08-02"], ["2015-08-03"]]


def test_clock_once_prints_the_reminder_with_the_command_its_button_runs(sqlite_db):
    add(sqlite_db)
    done = subprocess.run(clock_command(sqlite_db.url, "--once", "--now", "2015-08-01T09:00"), env=clock_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "Payout reminder for 2015-07-01..2015-07-31: nobody is owed anything" in done.stdout
    assert "clock: 1 reminder(s) sent, 0 failed" in done.stderr


def test_clock_now_without_once_is_bad_input(sqlite_db):
    done = subprocess.run(clock_command(sqlite_db.url, "--now", "2015-08-01T09:00"), env=clock_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--now needs --once" in done.stderr


@pytest.mark.parametrize("seconds", ["inf", "nan"])
def test_a_poll_interval_that_is_not_a_finite_number_is_bad_input(sqlite_db, seconds):
    done = subprocess.run(clock_command(sqlite_db.url, "--poll-seconds", seconds), env=clock_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"--poll-seconds must be a number of seconds more than 0, not {seconds}" in done.stderr


def test_clock_once_with_a_bad_instant_names_it(sqlite_db):
    done = subprocess.run(clock_command(sqlite_db.url, "--once", "--now", "first of august"), env=clock_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--now 'first of august' is not an ISO date-time" in done.stderr


def shows(path: Path, text: str, timeout: float = 30.0) -> bool:
    """Wait until a process's output file contains `text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def test_the_running_clock_sends_a_missed_reminder_once_and_a_restart_sends_nothing(sqlite_db, tmp_path):
    due = datetime.now(tz=UTC) - timedelta(minutes=5)
    add(sqlite_db, "weekly", due.weekday(), f"{due:%H:%M}", created=due - timedelta(days=1))
    command = clock_command(sqlite_db.url, "--poll-seconds", "0.3")
    for run, expected in ((1, 1), (2, 0)):
        out, err = tmp_path / f"out-{run}.txt", tmp_path / f"err-{run}.txt"
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen(command, env=clock_env(TIMEZONE="UTC"), stdout=stdout, stderr=stderr)
            try:
                assert shows(err, "clock: running"), err.read_text()
                if expected:
                    assert shows(out, "→ C0123ABCD:"), err.read_text()
                time.sleep(1.5)  # several polls more
            finally:
                process.terminate()
                process.wait(timeout=30)
        assert out.read_text().count("→ C0123ABCD:") == expected
    with sqlite_db.read() as session:
        assert reminders.sent_periods(session, 1) == [due.date().isoformat()]


def test_clock_once_with_a_slack_token_posts_one_message_with_the_create_payments_button(sqlite_db):
    add(sqlite_db)
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 5_000, "2015-07-10")
    with SlackApiDouble() as slack:
        env = clock_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.base_url)
        for _ in range(2):
            done = subprocess.run(clock_command(sqlite_db.url, "--once", "--now", "2015-08-01T09:00"), env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        [post] = slack.calls("chat.postMessage")
    assert post.arg("channel") == "C0123ABCD"
    buttons = [element for block in post.arg("blocks") if block["type"] == "actions" for element in block["elements"]]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Create payments…", START, "2015-07-01..2015-07-31")]
    assert done.stdout == ""


@pytest.mark.parametrize(
    "text", ["2015-08-01T09:00", "2015-08-01 09:00:00", "2015-08-01T13:00Z", "2015-08-01T15:00+02:00"]
)
def test_now_without_an_offset_is_read_in_the_organisations_zone_and_with_one_as_given(text):
    assert parse_now(text, NEW_YORK) == AUG_1_9AM_NY


def test_a_reminder_is_never_posted_to_a_channel_outside_the_ledger_allow_list(sqlite_db):
    add(sqlite_db)
    with SlackApiDouble() as slack:
        env = clock_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.base_url, LEDGER_CHANNELS="C_LEDGER")
        done = subprocess.run(clock_command(sqlite_db.url, "--once", "--now", "2015-08-01T09:00"), env=env,
                              capture_output=True, text=True, timeout=60)
        assert slack.calls("chat.postMessage") == []
    assert done.returncode == 1 and "LEDGER_CHANNELS" in done.stderr


def unreachable():  # type: ignore[no-untyped-def]
    raise ConnectionError("server closed the connection")


def test_a_database_outage_while_a_reminder_goes_out_does_not_lose_it(db, outbox, monkeypatch):
    add(db)
    clock = runner(db, outbox)
    real_read, real_write, reads = db.read, db.write, []

    def read_then_outage():  # type: ignore[no-untyped-def]
        reads.append(1)
        if len(reads) > 1:  # the schedules were read; then the server went away
            monkeypatch.setattr(db, "write", unreachable)
            raise ConnectionError("server closed the connection")
        return real_read()

    monkeypatch.setattr(db, "read", read_then_outage)
    [failed] = clock.run_due(AUG_1_9AM_NY)
    monkeypatch.setattr(db, "read", real_read)
    monkeypatch.setattr(db, "write", real_write)
    clock.run_due(AUG_1_9AM_NY + timedelta(minutes=5))
    assert not failed.sent and len(outbox.messages) == 1


def test_a_claim_that_could_not_be_released_after_a_failed_send_is_released_on_the_next_run(
        db, outbox, monkeypatch):
    add(db)
    clock = runner(db, outbox)
    real_write = db.write

    def send_fails_with_the_database_down(channel: str, reply: Reply) -> None:
        monkeypatch.setattr(db, "write", unreachable)
        raise ConnectionError("Slack is unreachable")

    clock.send = send_fails_with_the_database_down
    clock.run_due(AUG_1_9AM_NY)
    monkeypatch.setattr(db, "write", real_write)
    clock.send = outbox
    clock.run_due(AUG_1_9AM_NY + timedelta(minutes=5))
    assert len(outbox.messages) == 1
