"""`/payout remind …`: add, list and remove the schedules that say when payouts are due (SPEC §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from commands.grammar_tokens import UsageError, resolve_range, split_options
from domain.channels import CHANNEL_FORMS, channel_id
from domain.reminders import DEFAULT_RANGES
from domain.reminders import WEEKDAYS as WEEKDAY_NAMES

MONTHLY_EXAMPLE = "/payout remind add monthly 1 09:00 C0123ABCD range=last-month"
WEEKLY_EXAMPLE = "/payout remind add weekly monday 09:00 <#C0123ABCD|finance>"
REMOVE_EXAMPLE = "/payout remind remove 3"
WEEKDAYS = tuple(name.lower() for name in WEEKDAY_NAMES)
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class RemindAdd:
    frequency: str  # "monthly" or "weekly"
    day: int  # day of the month 1-31, or weekday 0=Monday..6=Sunday
    at_time: str  # HH:MM in the organisation's time zone
    channel: str
    range_expression: str


@dataclass(frozen=True)
class RemindList:
    pass


@dataclass(frozen=True)
class RemindRemove:
    schedule_id: int


RemindCommand = RemindAdd | RemindList | RemindRemove


def parse_remind(tokens: list[str], today: date) -> RemindCommand:
    if not tokens:
        raise UsageError("say add, list or remove after remind", MONTHLY_EXAMPLE)
    action = tokens[0].lower()
    if action == "list":
        if len(tokens) > 1:
            raise UsageError("remind list takes nothing after it", "/payout remind list")
        return RemindList()
    if action == "remove":
        if len(tokens) != 2 or not re.fullmatch(r"[0-9]{1,9}", tokens[1]) or int(tokens[1]) == 0:
            raise UsageError("remind remove takes the schedule's number, as remind list shows it", REMOVE_EXAMPLE)
        return RemindRemove(int(tokens[1]))
    if action == "add":
        return _add(tokens[1:], today)
    raise UsageError(f"'{tokens[0]}' is not add, list or remove", MONTHLY_EXAMPLE)


def _add(tokens: list[str], today: date) -> RemindAdd:
    frequency = tokens[0].lower() if tokens else ""
    if frequency not in DEFAULT_RANGES:
        raise UsageError("remind add needs monthly or weekly first", MONTHLY_EXAMPLE)
    example = MONTHLY_EXAMPLE if frequency == "monthly" else WEEKLY_EXAMPLE
    plain, options = split_options(tokens[1:], ("range",), example)
    if len(plain) != 3:
        what = "DAY HH:MM CHANNEL" if frequency == "monthly" else "WEEKDAY HH:MM CHANNEL"
        raise UsageError(f"remind add {frequency} needs {what}", example)
    day_word, time_word, channel_word = plain
    day = _day_of_month(day_word) if frequency == "monthly" else _weekday(day_word)
    expression = options.get("range", DEFAULT_RANGES[frequency])
    resolve_range(expression, today, example)
    return RemindAdd(frequency, day, _time(time_word, example), _channel(channel_word, example), expression)


def _day_of_month(word: str) -> int:
    if not re.fullmatch(r"[0-9]{1,2}", word) or not 1 <= int(word) <= 31:
        raise UsageError(f"'{word}' is not a day of the month (1-31)", MONTHLY_EXAMPLE)
    return int(word)


def _weekday(word: str) -> int:
    lowered = word.lower()
    for index, name in enumerate(WEEKDAYS):
        if lowered in (name, name[:3]):
            return index
    raise UsageError(f"'{word}' is not a weekday (mon..sun or monday..sunday)", WEEKLY_EXAMPLE)


def _time(word: str, example: str) -> str:
    match = _TIME.fullmatch(word)
    if not match:
        raise UsageError(f"'{word}' is not a time of day (HH:MM, 00:00-23:59)", example)
    return f"{int(match[1]):02d}:{match[2]}"


def _channel(word: str, example: str) -> str:
    """A channel ID or mention; a channel's name is refused with the ID form as the example."""
    channel = channel_id(word)
    if channel is None:
        raise UsageError(f"'{word}' is not {CHANNEL_FORMS}", example)
    return channel
