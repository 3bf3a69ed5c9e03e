"""`/payout remind add | list | remove` in chat, and the reminder a due schedule posts."""

from __future__ import annotations

from commands import reminder_views as views
from commands import use_reminders
from commands.context import Request
from commands.grammar_remind import MONTHLY_EXAMPLE, REMOVE_EXAMPLE, WEEKLY_EXAMPLE
from commands.reply import Reply
from commands.use_reminders import DueTime, ReminderError, Schedule
from domain.reminders import WEEKLY

EXAMPLES = {WEEKLY: WEEKLY_EXAMPLE}


def add_schedule(
    request: Request, *, frequency: str, day: int, at_time: str, channel: str, range_expression: str
) -> list[Reply]:
    """Store a schedule and say when its first reminder comes."""
    try:
        schedule, first = use_reminders.add_schedule(request, frequency=frequency, day=day, at_time=at_time,
                                                     channel=channel, range_expression=range_expression)
    except ReminderError as exc:
        return [Reply.error(f"Reminder not added: {exc}", EXAMPLES.get(frequency, MONTHLY_EXAMPLE))]
    return [views.schedule_added(schedule, first, request.settings.timezone)]


def list_schedules(request: Request) -> list[Reply]:
    listed = use_reminders.list_schedules(request)
    upcoming = {schedule.id: due for schedule, due in listed}
    return [views.schedule_list([schedule for schedule, _ in listed], upcoming, request.settings.timezone)]


def remove_schedule(request: Request, schedule_id: int) -> list[Reply]:
    try:
        schedule = use_reminders.remove_schedule(request, schedule_id)
    except ReminderError as exc:
        return [Reply.error(f"Reminder not removed: {exc}", REMOVE_EXAMPLE)]
    return [views.schedule_removed(schedule)]


def reminder_for(request: Request, schedule: Schedule, due: DueTime) -> Reply:
    """What the schedule posts at `due`: the range resolved on the due date, and who is owed."""
    found = use_reminders.what_is_due(request, schedule, due)
    return views.reminder(schedule, due, found.summary, request.settings.timezone)
