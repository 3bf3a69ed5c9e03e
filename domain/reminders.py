"""Reminder schedules (SPEC §4 `/payout remind`): when payouts are due, and what is due then.

A schedule is monthly (a day of the month, 1-31) or weekly (a weekday, 0=Monday..6=Sunday), at a
wall-clock time in the organisation's time zone. Each due time is a *period*, named by the local
date it falls on; a period is reminded at most once per schedule because the clock claims it by
inserting a `reminder_sent` row, and the (schedule, period) unique constraint lets exactly one
claimant win, however many clocks run.

Calendar rules, so that no period is skipped or doubled:
- Monthly day 29, 30 or 31 in a month without that day: the reminder comes on the month's last day.
- A wall time that does not exist (the spring-forward gap, e.g. 02:30 on 2015-03-08 in New York)
  is due at the instant the clocks jump (03:00 local); a wall time that occurs twice (the
  fall-back hour) is due at its first occurrence.
- A schedule reminds only for due times after it was created, and a clock that was down sends a
  missed reminder only within the grace period (`GRACE`): a reminder a day late is still useful,
  one a week late is noise, and the next period will come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import audit
from domain.batches import CurrencyTotal
from domain.channels import CHANNEL_FORMS, channel_id
from domain.dates import DateError, DateRange, month_range, parse_range, zone
from domain.holds import held_commissions, holds_configured
from domain.ledger import signed_amount
from domain.models import Entry, Partner, ReminderSchedule, ReminderSent

MONTHLY, WEEKLY = "monthly", "weekly"
FREQUENCIES = (MONTHLY, WEEKLY)
DEFAULT_RANGES = {MONTHLY: "last-month", WEEKLY: "last-week"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GRACE = timedelta(hours=24)

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ReminderError(ValueError):
    """A schedule that cannot be added or removed; the message names the value and what is wrong."""


class UnknownSchedule(ReminderError, LookupError):
    pass


@dataclass(frozen=True)
class Schedule:
    """A reminder schedule as read from the database, detached from any session."""

    id: int
    frequency: str
    day: int
    at_time: time
    channel: str
    range_expression: str
    created_by: str
    created_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None

    @classmethod
    def from_row(cls, row: ReminderSchedule) -> Schedule:
        return cls(
            row.id, row.frequency, row.day, parse_time(row.at_time), row.channel, row.range_expression,
            row.created_by, _as_utc(row.created_at), _as_utc(row.removed_at) if row.removed_at else None,
            row.removed_by,
        )

    def describe(self) -> str:
        """'monthly on day 1 at 09:00', 'monthly on day 31 (or last) at 09:00', 'weekly on Monday at 09:00'."""
        at = self.at_time.strftime("%H:%M")
        if self.frequency == WEEKLY:
            return f"weekly on {WEEKDAYS[self.day]} at {at}"
        shorter = " (or last)" if self.day > 28 else ""
        return f"monthly on day {self.day}{shorter} at {at}"


@dataclass(frozen=True)
class DueTime:
    """One due time of a schedule: the period it names (the local date) and the instant, in UTC."""

    schedule_id: int
    period: str
    at: datetime
    local_date: date


@dataclass(frozen=True)
class DueSummary:
    """What is payable for a range (SPEC §4, §12): who is owed, and how much per currency."""

    range: DateRange
    partners: int
    totals: list[CurrencyTotal]
    holds: bool = False  # a hold is configured: due is the ending balance less what is on hold


# ---- validation -------------------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything this module stores is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(text: str) -> time:
    """A strict 24-hour HH:MM."""
    match = _TIME.match((text or "").strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ReminderError(f"time '{text}' is not a time of day (use 24-hour HH:MM, like 09:00)")
    return time(int(match[1]), int(match[2]))


def parse_channel(text: str) -> str:
    """A channel ID (C0123ABCD) or a Slack channel mention (<#C0123ABCD|finance>) -> the ID."""
    channel = channel_id(text)
    if channel is None:
        raise ReminderError(f"channel '{text}' is not {CHANNEL_FORMS}")
    return channel


def _check_day(frequency: str, day: int) -> None:
    if frequency == MONTHLY and not 1 <= day <= 31:
        raise ReminderError(f"day {day} is not a day of the month (1-31; 29-31 mean the last day in shorter months)")
    if frequency == WEEKLY and not 0 <= day <= 6:
        raise ReminderError(f"weekday {day} is not a weekday (0=Monday .. 6=Sunday)")


def _check_range(expression: str, today: date) -> str:
    value = (expression or "").strip().lower()
    try:
        parse_range(value, today)
    except DateError as exc:
        raise ReminderError(f"range: {exc}") from None
    return value


# ---- schedules --------------------------------------------------------------------------------


def add_schedule(
    session: Session, *, frequency: str, day: int, at_time: str, channel: str, range_expression: str,
    actor: str, now: datetime, today: date,
) -> Schedule:
    """Store a new schedule; it reminds for due times after `now`."""
    if frequency not in FREQUENCIES:
        raise ReminderError(f"frequency '{frequency}' is not one of: {', '.join(FREQUENCIES)}")
    _check_day(frequency, day)
    at = parse_time(at_time)
    row = ReminderSchedule(
        frequency=frequency, day=day, at_time=at.strftime("%H:%M"), channel=parse_channel(channel),
        range_expression=_check_range(range_expression, today), created_by=actor, created_at=_as_utc(now),
    )
    _refuse_identical(session, row)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        _refuse_identical(session, row)
        raise
    schedule = Schedule.from_row(row)
    audit.record(
        session, actor, "reminder.add", f"reminder {schedule.id}", frequency=frequency, day=day,
        at_time=row.at_time, channel=row.channel, range=row.range_expression,
    )
    return schedule


def _refuse_identical(session: Session, new: ReminderSchedule) -> None:
    """Two identical active schedules would post every reminder twice (SPEC §8, retries and repeats)."""
    same = session.scalars(select(ReminderSchedule).where(
        ReminderSchedule.removed_at.is_(None), ReminderSchedule.frequency == new.frequency,
        ReminderSchedule.day == new.day, ReminderSchedule.at_time == new.at_time,
        ReminderSchedule.channel == new.channel, ReminderSchedule.range_expression == new.range_expression,
    ).order_by(ReminderSchedule.id).limit(1)).first()
    if same is not None:
        existing = Schedule.from_row(same)
        raise ReminderError(f"reminder {existing.id} already does this ({existing.describe()} in {existing.channel}, "
                            f"range={existing.range_expression}); nothing was added")


def active_schedules(session: Session) -> list[Schedule]:
    """Every schedule not removed, oldest first."""
    rows = session.scalars(
        select(ReminderSchedule).where(ReminderSchedule.removed_at.is_(None)).order_by(ReminderSchedule.id)
    )
    return [Schedule.from_row(row) for row in rows]


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    row = session.get(ReminderSchedule, schedule_id) if 0 < schedule_id < 2**63 else None
    if row is None:
        raise UnknownSchedule(f"no reminder schedule with ID {schedule_id}")
    return Schedule.from_row(row)


def remove_schedule(session: Session, schedule_id: int, *, actor: str, now: datetime) -> Schedule:
    """Stop a schedule. The row stays, marked removed (who and when), with the reminders it sent."""
    existing = get_schedule(session, schedule_id)
    if existing.removed_at is not None:
        raise ReminderError(
            f"reminder {schedule_id} was already removed by {existing.removed_by} "
            f"on {existing.removed_at:%Y-%m-%d %H:%M} UTC"
        )
    moved = session.execute(
        update(ReminderSchedule)
        .where(ReminderSchedule.id == schedule_id, ReminderSchedule.removed_at.is_(None))
        .values(removed_at=_as_utc(now), removed_by=actor)
    ).rowcount
    if moved != 1:
        raise ReminderError(f"reminder {schedule_id} was removed by someone else at the same moment")
    audit.record(session, actor, "reminder.remove", f"reminder {schedule_id}", schedule=existing.describe(),
                 channel=existing.channel)
    return get_schedule(session, schedule_id)


# ---- due times --------------------------------------------------------------------------------


def _monthly_date(year: int, month: int, day: int) -> date:
    last = month_range(year, month).end
    return last if day > last.day else date(year, month, day)


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _local_due_dates(schedule: Schedule, around: date) -> list[date]:
    """The due dates of the periods just before, at and after `around`, in date order."""
    if schedule.frequency == MONTHLY:
        months = [_shift_month(around.year, around.month, shift) for shift in (-1, 0, 1)]
        return [_monthly_date(year, month, schedule.day) for year, month in months]
    this_week = around + timedelta(days=schedule.day - around.weekday())
    return [this_week + timedelta(days=7 * shift) for shift in (-1, 0, 1)]


def wall_time_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant a local wall time names: the first occurrence when the hour repeats, the
    moment the clocks jump when it falls in a gap."""
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = instant
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


def _due_times(schedule: Schedule, around: date, tz: ZoneInfo) -> list[DueTime]:
    return [
        DueTime(schedule.id, local.isoformat(), wall_time_instant(local, schedule.at_time, tz), local)
        for local in _local_due_dates(schedule, around)
    ]


def previous_due(schedule: Schedule, moment: datetime, timezone: str) -> DueTime:
    """The latest due time at or before `moment`."""
    tz, moment = zone(timezone), _as_utc(moment)
    local = moment.astimezone(tz).date()
    return max((due for due in _due_times(schedule, local, tz) if due.at <= moment), key=lambda due: due.at)


def next_due(schedule: Schedule, moment: datetime, timezone: str) -> DueTime:
    """The earliest due time strictly after `moment`."""
    tz, moment = zone(timezone), _as_utc(moment)
    local = moment.astimezone(tz).date()
    return min((due for due in _due_times(schedule, local, tz) if due.at > moment), key=lambda due: due.at)


def pending_due(schedule: Schedule, now: datetime, timezone: str, grace: timedelta = GRACE) -> DueTime | None:
    """The due time a clock should send at `now`: the latest one at or before `now`, if it is after
    the schedule's creation and no older than the grace period. Whether it was already sent is
    for `claim_period` to decide."""
    if schedule.removed_at is not None:
        return None
    now = _as_utc(now)
    due = previous_due(schedule, now, timezone)
    if due.at <= schedule.created_at or now - due.at > grace:
        return None
    return due


def due_range(schedule: Schedule, due: DueTime) -> DateRange:
    """The schedule's range expression resolved on the due date, in the organisation's zone."""
    return parse_range(schedule.range_expression, due.local_date)


# ---- claiming a period ------------------------------------------------------------------------


def claim_period(session: Session, due: DueTime, *, now: datetime) -> bool:
    """Record that this period's reminder is going out; False when a claim already exists (another
    clock, or an earlier run) or the schedule was removed. Call it in a write transaction, before
    sending: the unique (schedule, period) constraint makes the database the one who decides."""
    removed = session.scalar(select(ReminderSchedule.removed_at).where(ReminderSchedule.id == due.schedule_id))
    if removed is not None:
        return False
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(ReminderSent)
        .values(schedule_id=due.schedule_id, period=due.period, sent_at=_as_utc(now))
        .on_conflict_do_nothing(index_elements=["schedule_id", "period"])
        .returning(ReminderSent.id)
    )
    return session.execute(statement).first() is not None


def is_claimed(session: Session, due: DueTime) -> bool:
    """Whether this period's reminder was sent (or is being sent), so a clock can skip building it."""
    query = select(ReminderSent.id).where(ReminderSent.schedule_id == due.schedule_id,
                                          ReminderSent.period == due.period)
    return session.scalar(query) is not None


def release_claim(session: Session, due: DueTime, *, error: str, actor: str) -> None:
    """Undo a claim whose reminder could not be delivered, so the next poll tries again.

    The compensating transaction makes delivery at-least-once when sending fails: a finance team
    would rather see a reminder twice after an outage than miss a payout. The failure stays in the
    audit log."""
    session.execute(
        delete(ReminderSent).where(ReminderSent.schedule_id == due.schedule_id, ReminderSent.period == due.period)
    )
    audit.record(session, actor, "reminder.failed", f"reminder {due.schedule_id}", period=due.period, error=error)


def sent_periods(session: Session, schedule_id: int) -> list[str]:
    """The periods a schedule has reminded, in order."""
    query = select(ReminderSent.period).where(ReminderSent.schedule_id == schedule_id).order_by(ReminderSent.period)
    return list(session.scalars(query))


# ---- what is due ------------------------------------------------------------------------------


def due_summary(session: Session, period: DateRange, *, hold_days: int = 0) -> DueSummary:
    """Partners with a positive payable amount for the range (active ones, as a batch pays), counted
    and summed per currency.

    The ending balance at the range's end is the partner's stored net balance less the entries
    dated after the end, so only those few recent entries are read. With no hold (SPEC §12) the
    payable amount is the ending balance and the database sums it; with one, each partner's
    commissions still on hold at the end are taken off first."""
    endings = _endings(session, period)
    if not holds_configured(session, hold_days):
        return _summed_by_database(session, period, endings)
    held = held_commissions(session, as_of=period.end, until=period.end, default_days=hold_days)
    sums: dict[str, list[int]] = {}
    for partner_id, currency, ending in session.execute(select(endings)):
        payable = int(ending) - (held[partner_id].amount if partner_id in held else 0)
        if payable > 0:
            total = sums.setdefault(currency, [0, 0])
            total[0] += payable
            total[1] += 1
    totals = [CurrencyTotal(currency, amount, count) for currency, (amount, count) in sorted(sums.items())]
    return DueSummary(period, sum(total.count for total in totals), totals, holds=True)


def _endings(session: Session, period: DateRange):  # type: ignore[no-untyped-def]
    """Each active partner's ending balance at the range's end.

    On SQLite the GROUP BY names `partner_id + 0`, as the ledger report's does: with the bare column
    the planner walks the (partner, date) index to save a sort, reading every entry ever recorded
    rather than the few dated after the end."""
    group_key = Entry.partner_id + literal_column("0") if session.get_bind().dialect.name == "sqlite" else Entry.partner_id
    later = (
        select(Entry.partner_id.label("partner_id"), func.sum(signed_amount()).label("net_after"))
        .where(Entry.effective_date > period.end)
        .group_by(group_key)
        .subquery("later")
    )
    return (
        select(Partner.id.label("partner_id"), Partner.currency.label("currency"),
               (Partner.balance - func.coalesce(later.c.net_after, 0)).label("ending"))
        .outerjoin(later, later.c.partner_id == Partner.id)
        .where(Partner.status == "active")
        .subquery("endings")
    )


def _summed_by_database(session: Session, period: DateRange, endings) -> DueSummary:  # type: ignore[no-untyped-def]
    query = (
        select(endings.c.currency, func.sum(endings.c.ending), func.count())
        .where(endings.c.ending > 0)
        .group_by(endings.c.currency)
        .order_by(endings.c.currency)
    )
    totals = [CurrencyTotal(currency, int(amount), int(count)) for currency, amount, count in session.execute(query)]
    return DueSummary(period, sum(total.count for total in totals), totals)
