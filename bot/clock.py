"""The reminder clock: APScheduler jobs built from the schedules table, and the send step.

How a reminder goes out exactly once, whatever runs:
1. A job (a CronTrigger per schedule, in the organisation's time zone) or the poll wakes up and
   asks the domain for the latest due time at or before now that is after the schedule's
   creation and within the grace period (`GRACE`, 24 hours).
2. The clock claims that period by inserting its `reminder_sent` row in a write transaction.
   The unique (schedule, period) constraint lets one claimant win: a second clock, a restart or a
   job and a poll firing together find the row and send nothing.
3. Only the winner builds the message and sends it. If sending fails, the claim is released in a
   compensating transaction and a later poll tries again, after a pause that doubles from one
   minute to an hour (at-least-once when delivery fails, exactly once when it succeeds); each
   failure is kept in the audit log.

The poll (every 30 seconds by default) rebuilds the jobs when the set of schedules changes, and
sends whatever is due but unsent: a reminder missed while the clock was down arrives once when it
comes back, and a daylight-saving gap or repeated hour can neither skip nor double a period,
because periods are dates and the database holds the claims.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock_views import reminder_text
from commands import reminder_handlers, use_reminders
from commands.context import Request
from commands.reply import Reply
from commands.use_reminders import GRACE, MONTHLY, DueTime, Schedule
from domain.dates import zone

CLOCK_ACTOR = "clock"
POLL_JOB = "reminders-poll"
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
_CRON_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Send = Callable[[str, Reply], object]
"""Deliver one reply to a channel ID; raising means it was not delivered."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one due reminder that this clock claimed."""

    schedule_id: int
    period: str
    channel: str
    headline: str
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


def utcnow() -> datetime:
    return datetime.now(tz=UTC)


@dataclass
class ReminderRunner:
    """Claims and sends what is due at a given instant; knows nothing of schedulers or Slack."""

    request: Request  # acting as the clock
    send: Send
    grace: timedelta = GRACE
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    _retries: dict[tuple[int, str], tuple[int, datetime]] = field(default_factory=dict)
    _stranded: dict[DueTime, str] = field(default_factory=dict)  # claims a failed send could not release yet

    def __post_init__(self) -> None:
        self.request = self.request.acting_as(CLOCK_ACTOR)

    def run_due(self, now: datetime, only: int | None = None) -> list[Outcome]:
        """Send every reminder due at `now` (or only schedule `only`'s) that no one has sent."""
        schedules = use_reminders.active_schedules(self.request)
        self._release_stranded()
        outcomes = []
        for schedule in schedules:
            if only is not None and schedule.id != only:
                continue
            due = use_reminders.due_now(self.request, schedule, now, self.grace)
            if due is not None and not self._backing_off(due, now):
                outcome = self._deliver(schedule, due, now)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def _backing_off(self, due: DueTime, now: datetime) -> bool:
        """After a failed send, wait before the next try (1 minute, doubling up to an hour), so a
        channel that is gone for good costs a few dozen tries within the grace period, not thousands."""
        attempts_and_time = self._retries.get((due.schedule_id, due.period))
        return attempts_and_time is not None and now < attempts_and_time[1]

    def _note_failure(self, due: DueTime, now: datetime) -> None:
        attempts = self._retries.get((due.schedule_id, due.period), (0, now))[0] + 1
        wait = min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)
        self._retries[(due.schedule_id, due.period)] = (attempts, now + wait)

    def _deliver(self, schedule: Schedule, due: DueTime, now: datetime) -> Outcome | None:
        """Read what is due before claiming the period, so a database that fails while the message is
        built leaves no claim behind; None when the period is someone else's (or already sent)."""
        claimed = False
        try:
            if use_reminders.is_claimed(self.request, due):
                return None
            reply = reminder_handlers.reminder_for(self.request, schedule, due)
            claimed = use_reminders.claim(self.request, due, now)
            if not claimed:
                return None
            self.send(schedule.channel, reply)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._note_failure(due, now)
            self.log(f"clock: reminder {schedule.id} for {due.period} was not delivered to {schedule.channel} "
                     f"({error}); it will be retried")
            if claimed:
                self._release(due, error)
            return Outcome(schedule.id, due.period, schedule.channel, "", error)
        self._retries.pop((due.schedule_id, due.period), None)
        self.log(f"clock: reminder {schedule.id} for {due.period} sent to {schedule.channel}: {reply.headline}")
        return Outcome(schedule.id, due.period, schedule.channel, reply.headline)

    def _release(self, due: DueTime, error: str) -> None:
        """Give the period back for a retry; with the database unreachable too, remember to do it later
        rather than leave a claim that would keep the reminder from ever going out."""
        try:
            use_reminders.release(self.request, due, error)
        except Exception as exc:
            self._stranded[due] = error
            self.log(f"clock: the claim on reminder {due.schedule_id} for {due.period} could not be released "
                     f"({type(exc).__name__}: {exc}); trying again on the next run")
            return
        self._stranded.pop(due, None)

    def _release_stranded(self) -> None:
        for due, error in list(self._stranded.items()):
            self._release(due, error)


def trigger_for(schedule: Schedule, timezone: str) -> CronTrigger:
    """The schedule as a cron rule in the organisation's zone. Day 29-31 also fires on the last
    day of the month, which is the due date when the month is shorter (and a harmless wake-up
    otherwise: that period is already claimed)."""
    at = schedule.at_time
    if schedule.frequency == MONTHLY:
        day = str(schedule.day) if schedule.day <= 28 else f"{schedule.day},last"
        return CronTrigger(day=day, hour=at.hour, minute=at.minute, timezone=zone(timezone))
    return CronTrigger(day_of_week=_CRON_WEEKDAYS[schedule.day], hour=at.hour, minute=at.minute,
                       timezone=zone(timezone))


def _job_id(schedule_id: int) -> str:
    return f"reminder-{schedule_id}"


@dataclass
class Clock:
    """The long-running clock: one scheduler, a job per schedule, and the poll that keeps them in
    step with the table and catches up on missed reminders."""

    runner: ReminderRunner
    scheduler: BaseScheduler
    poll_seconds: float = 30.0
    now: Callable[[], datetime] = utcnow
    _known: dict[int, Schedule] = field(default_factory=dict)

    def start(self) -> None:
        """Catch up, build the jobs, start polling; blocks with a BlockingScheduler. A database that is
        unreachable at start-up is waited for by the poll, not a reason to stop."""
        self.poll()
        self.scheduler.add_job(self.poll, IntervalTrigger(seconds=self.poll_seconds), id=POLL_JOB,
                               coalesce=True, max_instances=1, replace_existing=True)
        self.scheduler.start()

    def poll(self) -> None:
        """The periodic refresh; a database that is briefly unreachable costs one poll, not the clock."""
        try:
            self.refresh()
        except Exception as exc:
            self.runner.log(f"clock: could not read the schedules ({type(exc).__name__}: {exc}); "
                            f"trying again in {self.poll_seconds:g} s")

    def refresh(self) -> list[Outcome]:
        """Rebuild the jobs if the schedules changed, then send whatever is due and unsent."""
        current = {schedule.id: schedule for schedule in use_reminders.active_schedules(self.runner.request)}
        if current != self._known:
            self._sync_jobs(current)
        return self.runner.run_due(self.now())

    def _sync_jobs(self, current: dict[int, Schedule]) -> None:
        for schedule_id in self._known.keys() - current.keys():
            if self.scheduler.get_job(_job_id(schedule_id)):
                self.scheduler.remove_job(_job_id(schedule_id))
        timezone = self.runner.request.settings.timezone
        for schedule_id, schedule in current.items():
            if schedule_id in self._known:
                continue
            self.scheduler.add_job(
                self.fire, trigger_for(schedule, timezone), args=(schedule_id,), id=_job_id(schedule_id),
                coalesce=True, max_instances=1, replace_existing=True,
                misfire_grace_time=int(self.runner.grace.total_seconds()),
            )
        self._known = current

    def fire(self, schedule_id: int) -> list[Outcome]:
        """A schedule's job: send its reminder if it is due now and unsent (the poll retries on failure)."""
        try:
            return self.runner.run_due(self.now(), only=schedule_id)
        except Exception as exc:
            self.runner.log(f"clock: reminder {schedule_id} could not be checked ({type(exc).__name__}: {exc}); "
                            "the next poll tries again")
            return []


# ---- sending ----------------------------------------------------------------------------------


def print_sender(stream=None) -> Send:  # type: ignore[no-untyped-def]
    """Without a Slack token the clock prints its reminders, so it can be tried in a terminal."""

    def send(channel: str, reply: Reply) -> None:
        print(reminder_text(reply) + "\n", file=stream or sys.stdout, flush=True)

    return send


def slack_sender() -> Send:
    """Post through the Slack Web API with the bot token from the environment."""
    from bot.slack.client import web_client
    from bot.slack.delivery import post_reply
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    client = web_client(settings)

    def send(channel: str, reply: Reply) -> None:
        if not settings.may_post_to(channel):
            raise PermissionError(f"channel {channel} is not in LEDGER_CHANNELS; a reminder carries ledger totals")
        post_reply(client, channel, reply)

    return send
