"""Reminders (SPEC §4 `/payout remind`, §5 `payouts clock`): schedules, and what a due one posts.

The clock claims each due period in a unit of work of its own before sending, so one reminder
goes out per period whatever runs (see bot/clock.py); these use-cases are its only way to the
schedules table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.context import Request
from domain import reminders
from domain.dates import DateRange
from domain.reminders import GRACE, MONTHLY, DueSummary, DueTime, ReminderError, Schedule

__all__ = ["GRACE", "MONTHLY", "Due", "DueTime", "ReminderError", "Schedule", "active_schedules", "add_schedule",
           "claim", "due_now", "is_claimed", "list_schedules", "release", "remove_schedule", "what_is_due"]


@dataclass(frozen=True)
class Due:
    """What a schedule's reminder reports at a due time: the range resolved on the due date, and who is owed."""

    period: DateRange
    summary: DueSummary


def add_schedule(request: Request, *, frequency: str, day: int, at_time: str, channel: str,
                 range_expression: str) -> tuple[Schedule, DueTime]:
    """Store a schedule; the schedule and its first due time. A channel that may not receive ledger
    data is refused now, rather than failing at every due time."""
    allowed = request.reminder_channels
    wanted = reminders.parse_channel(channel)
    if allowed and wanted not in allowed:
        raise ReminderError(f"channel {wanted} may not receive ledger data; reminders can go to {', '.join(allowed)}")
    now = request.settings.now()
    with request.db.write() as session:
        schedule = reminders.add_schedule(
            session, frequency=frequency, day=day, at_time=at_time, channel=channel,
            range_expression=range_expression or reminders.DEFAULT_RANGES.get(frequency, ""),
            actor=request.actor, now=now, today=request.settings.today(),
        )
    return schedule, reminders.next_due(schedule, now, request.settings.timezone)


def list_schedules(request: Request) -> list[tuple[Schedule, DueTime]]:
    """The active schedules, each with its next due time."""
    now, timezone = request.settings.now(), request.settings.timezone
    return [(schedule, reminders.next_due(schedule, now, timezone)) for schedule in active_schedules(request)]


def remove_schedule(request: Request, schedule_id: int) -> Schedule:
    with request.db.write() as session:
        return reminders.remove_schedule(session, schedule_id, actor=request.actor, now=request.settings.now())


def active_schedules(request: Request) -> list[Schedule]:
    with request.db.read() as session:
        return reminders.active_schedules(session)


def due_now(request: Request, schedule: Schedule, now: datetime, grace: timedelta = GRACE) -> DueTime | None:
    """The latest due time at or before `now` within the grace period, if any."""
    return reminders.pending_due(schedule, now, request.settings.timezone, grace)


def what_is_due(request: Request, schedule: Schedule, due: DueTime) -> Due:
    period = reminders.due_range(schedule, due)
    with request.db.read() as session:
        return Due(period, reminders.due_summary(session, period, hold_days=request.settings.hold_days))


def is_claimed(request: Request, due: DueTime) -> bool:
    with request.db.read() as session:
        return reminders.is_claimed(session, due)


def claim(request: Request, due: DueTime, now: datetime) -> bool:
    """Claim the period for this sender; False when someone else already has it."""
    with request.db.write() as session:
        return reminders.claim_period(session, due, now=now)


def release(request: Request, due: DueTime, error: str) -> None:
    """Give a claimed period back after a failed send, so a later try sends it."""
    with request.db.write() as session:
        reminders.release_claim(session, due, error=error, actor=request.actor)
