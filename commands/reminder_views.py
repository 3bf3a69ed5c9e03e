"""Replies about reminders: schedules added, listed and removed, and the reminder itself."""

from __future__ import annotations

from commands.chat_payout_views import START
from commands.reply import Button, Figure, Reply, Section, Style, Table, Target
from domain.dates import zone
from domain.money import format_display
from domain.reminders import MONTHLY, DueSummary, DueTime, Schedule


def local_time(due: DueTime, timezone: str) -> str:
    """'2015-08-01 09:00 America/New_York': due times are read in the organisation's zone."""
    return f"{due.at.astimezone(zone(timezone)):%Y-%m-%d %H:%M} {timezone}"


def _schedule_figures(schedule: Schedule) -> list[Figure]:
    return [
        Figure("When", schedule.describe()), Figure("Channel", schedule.channel),
        Figure("Range", schedule.range_expression),
    ]


def schedule_added(schedule: Schedule, first: DueTime, timezone: str) -> Reply:
    explained = ("At each due time the channel hears what is due for the range: the partners with a positive "
                 "ending balance and the total per currency, with a button to create payments.")
    if schedule.day > 28 and schedule.frequency == MONTHLY:
        explained += f" In a month without day {schedule.day}, the reminder comes on the month's last day."
    return Reply(
        f"Reminder {schedule.id} added: {schedule.describe()} in {schedule.channel}",
        figures=_schedule_figures(schedule) + [Figure("First reminder", local_time(first, timezone))],
        sections=[Section(explained)],
    )


def schedule_list(schedules: list[Schedule], upcoming: dict[int, DueTime], timezone: str) -> Reply:
    if not schedules:
        return Reply("No reminder schedules. Try /payout remind add monthly 1 09:00 C0123ABCD range=last-month",
                     private=True)
    rows = tuple(
        (str(s.id), s.describe(), s.channel, s.range_expression, local_time(upcoming[s.id], timezone), s.created_by)
        for s in schedules
    )
    table = Table(("ID", "When", "Channel", "Range", "Next reminder", "Added by"), rows)
    return Reply(f"{len(schedules)} reminder schedule(s), times in {timezone}", table=table, private=True)


def schedule_removed(schedule: Schedule) -> Reply:
    return Reply(
        f"Reminder {schedule.id} removed by {schedule.removed_by}: no more reminders {schedule.describe()} "
        f"in {schedule.channel}",
        figures=_schedule_figures(schedule),
    )


def reminder(schedule: Schedule, due: DueTime, summary: DueSummary, timezone: str) -> Reply:
    """The message a schedule posts to its channel when payouts are due."""
    period = str(summary.range)
    due_is = ("the payable amount: the ending balance less the commissions still on hold" if summary.holds
              else "what the ending-balance method would pay")
    note = Section(f"Reminder {schedule.id}: {schedule.describe()}, {timezone} time. Due is {due_is}.")
    if not summary.partners:
        return Reply(f"Payout reminder for {period}: nobody is owed anything", figures=[Figure("Range", period)],
                     sections=[note], target=Target.CHANNEL, channel=schedule.channel)
    totals = [
        Figure(f"Total {total.currency}", f"{format_display(total.amount, total.currency)} to {total.count} partner(s)")
        for total in summary.totals
    ]
    return Reply(
        f"Payouts are due for {period}: {summary.partners} partner(s) are owed",
        figures=[Figure("Range", period), Figure("Partners owed", str(summary.partners))] + totals,
        sections=[note],
        buttons=[Button("Create payments…", START, f"{summary.range.start}..{summary.range.end}", Style.PRIMARY)],
        target=Target.CHANNEL, channel=schedule.channel,
    )
