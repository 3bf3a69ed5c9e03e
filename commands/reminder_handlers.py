"""`/payout remind add | list | remove`, and the reminder a due schedule posts."""

from __future__ import annotations

from commands import reminder_views as views
from commands.context import Request
from commands.reply import Reply
from domain import reminders
from domain.reminders import MONTHLY, WEEKLY, DueTime, ReminderError, Schedule

EXAMPLES = {
    MONTHLY: "/payout remind add monthly 1 09:00 C0123ABCD range=last-month",
    WEEKLY: "/payout remind add weekly monday 09:00 C0123ABCD range=last-week",
}
REMOVE_EXAMPLE = "/payout remind remove 3"


def add_schedule(
    request: Request, *, frequency: str, day: int, at_time: str, channel: str, range_expression: str
) -> list[Reply]:
    """Store a schedule and say when its first reminder comes."""
    example = EXAMPLES.get(frequency, EXAMPLES[MONTHLY])
    now = request.settings.now()
    try:
        _check_allowed(request, reminders.parse_channel(channel))
        with request.db.write() as session:
            schedule = reminders.add_schedule(
                session, frequency=frequency, day=day, at_time=at_time, channel=channel,
                range_expression=range_expression or reminders.DEFAULT_RANGES.get(frequency, ""),
                actor=request.actor, now=now, today=request.settings.today(),
            )
    except ReminderError as exc:
        return [Reply.error(f"Reminder not added: {exc}", example)]
    timezone = request.settings.timezone
    return [views.schedule_added(schedule, reminders.next_due(schedule, now, timezone), timezone)]


def _check_allowed(request: Request, channel: str) -> None:
    """A schedule whose reminders could never be posted (ledger data stays in its channels) is refused
    now, rather than accepted and then failing at every due time."""
    if request.reminder_channels and channel not in request.reminder_channels:
        raise ReminderError(f"channel {channel} may not receive ledger data; reminders can go to "
                            f"{', '.join(request.reminder_channels)}")


def list_schedules(request: Request) -> list[Reply]:
    now, timezone = request.settings.now(), request.settings.timezone
    with request.db.read() as session:
        schedules = reminders.active_schedules(session)
    upcoming = {schedule.id: reminders.next_due(schedule, now, timezone) for schedule in schedules}
    return [views.schedule_list(schedules, upcoming, timezone)]


def remove_schedule(request: Request, schedule_id: int) -> list[Reply]:
    try:
        with request.db.write() as session:
            schedule = reminders.remove_schedule(session, schedule_id, actor=request.actor,
                                                 now=request.settings.now())
    except ReminderError as exc:
        return [Reply.error(f"Reminder not removed: {exc}", REMOVE_EXAMPLE)]
    return [views.schedule_removed(schedule)]


def reminder_for(request: Request, schedule: Schedule, due: DueTime) -> Reply:
    """What the schedule posts at `due`: the range resolved on the due date, and who is owed."""
    period = reminders.due_range(schedule, due)
    with request.db.read() as session:
        summary = reminders.due_summary(session, period, hold_days=request.settings.hold_days)
    return views.reminder(schedule, due, summary, request.settings.timezone)

