"""Inclusive date ranges and the RANGE expressions of the chat grammar (SPEC §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RANGE_EXAMPLES = "2015-06-01..2015-06-30, 2015-06, 2015-Q2, 2015, last-month, this-month, last-week, last-quarter, ytd"


# [0-9], never \d: \d and int() read any Unicode digit, so ２０１５-06 would be taken for June 2015.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-q([1-4])")
_YEAR = re.compile(r"[0-9]{4}")


class DateError(ValueError):
    """A date or range expression that does not parse."""


@dataclass(frozen=True, order=True)
class DateRange:
    """Both ends included, as a finance team reads "June 1 to June 30"."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise DateError(f"the range ends ({self.end}) before it starts ({self.start})")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def overlaps(self, other: DateRange) -> bool:
        return self.start <= other.end and other.start <= self.end

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def parse(cls, text: str) -> DateRange:
        """The range as `str()` writes it, START..END: what buttons, forms and stored values carry."""
        start, separator, end = (text or "").strip().partition("..")
        if not separator:
            raise DateError(f"'{text}' is not a range written START..END (like 2015-06-01..2015-06-30)")
        return cls(parse_date(start), parse_date(end))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(f"unknown time zone '{name}' (use an IANA name like Europe/Berlin)") from exc


def today_in(tz_name: str, now: datetime | None = None) -> date:
    """Today's calendar date in the organisation's time zone."""
    moment = now or datetime.now(tz=ZoneInfo("UTC"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone(tz_name)).date()


def parse_date(text: str) -> date:
    """A strict YYYY-MM-DD date in the digits 0-9."""
    value = (text or "").strip()
    if not _DATE.fullmatch(value):
        raise DateError(f"'{text}' is not a date (use YYYY-MM-DD, like 2015-06-24)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise DateError(f"'{text}' is not a real date") from exc


def month_range(year: int, month: int) -> DateRange:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return DateRange(first, following - timedelta(days=1))


def quarter_range(year: int, quarter: int) -> DateRange:
    first_month = 3 * (quarter - 1) + 1
    return DateRange(month_range(year, first_month).start, month_range(year, first_month + 2).end)


def _shift_month(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


def parse_range(text: str, today: date) -> DateRange:
    """Resolve any RANGE form of SPEC §4 relative to `today` (already in the organisation's zone)."""
    value = (text or "").strip().lower()
    if ".." in value:
        return DateRange.parse(value)
    if match := _MONTH.fullmatch(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise DateError(f"'{text}' has no month {month}")
        return month_range(year, month)
    if match := _QUARTER.fullmatch(value):
        return quarter_range(int(match[1]), int(match[2]))
    if _YEAR.fullmatch(value):
        year = int(value)
        if year < 1:
            raise DateError(f"'{text}' is not a year")
        return DateRange(date(year, 1, 1), date(year, 12, 31))
    if value == "this-month":
        return month_range(today.year, today.month)
    if value == "last-month":
        return month_range(*_shift_month(today, -1))
    if value == "last-week":
        this_monday = today - timedelta(days=today.weekday())
        return DateRange(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
    if value == "last-quarter":
        quarter = (today.month - 1) // 3 + 1
        year, quarter = (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)
        return quarter_range(year, quarter)
    if value == "ytd":
        return DateRange(date(today.year, 1, 1), today)
    if _DATE.fullmatch(value):
        day = parse_date(value)
        return DateRange(day, day)
    raise DateError(f"'{text}' is not a date range (try {RANGE_EXAMPLES})")
