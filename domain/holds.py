"""Hold periods (SPEC §12): a commission dated D becomes payable on D + the partner's hold days.

A partner's hold is its own `hold_days` when set, else the organisation's HOLD_DAYS. Only
commissions are held; clawbacks and payments count at once. What is held on a day P depends only
on the commissions dated within the longest hold before P, so it is read from the (date, partner)
index over that window alone, and its cost does not grow with the years of history before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, case, func, literal, literal_column, select
from sqlalchemy.orm import Session

from domain.models import COMMISSION, Entry, Partner


@dataclass(frozen=True)
class Held:
    """A partner's commissions dated on or before a day that are not payable yet on another day."""

    amount: int
    in_range: int
    until: date


def partner_hold_days(partner_hold: int | None, default_days: int) -> int:
    """The hold that applies to a partner: its own when set, else HOLD_DAYS."""
    return default_days if partner_hold is None else partner_hold


def payable_on(day: date, hold_days: int) -> date:
    """The day a commission dated `day` becomes payable."""
    return day + timedelta(days=hold_days)


def partner_holds(session: Session) -> set[int]:
    """The distinct per-partner holds, read from the partner.hold_days index."""
    query = select(Partner.hold_days).where(Partner.hold_days.is_not(None)).distinct()
    return {int(days) for days in session.scalars(query)}


def holds_configured(session: Session, default_days: int) -> bool:
    """Whether any commission can be held at all; without a hold every figure is SPEC §2's."""
    return default_days > 0 or any(days > 0 for days in partner_holds(session))


def _cutoff(default_days: int, overrides: set[int], as_of: date):  # type: ignore[no-untyped-def]
    """Per partner, the last commission date already payable on `as_of` (as_of − its hold days)."""
    days = func.coalesce(Partner.hold_days, default_days)
    whens = {value: literal(as_of - timedelta(days=value), Date) for value in overrides | {default_days}}
    return case(whens, value=days, else_=literal(as_of, Date))


def held_commissions(
    session: Session, *, as_of: date, until: date, default_days: int, since: date | None = None,
    partner_ids: list[int] | None = None,
) -> dict[int, Held]:
    """Per partner, the commissions dated on or before `until` that are not payable on `as_of`.

    `in_range` is the part dated on or after `since`. Only the window of the longest hold before
    `as_of` is read. On SQLite the GROUP BY names `partner_id + 0` so that the planner walks the
    date index over the window rather than the (partner, date) index over all history.
    """
    overrides = partner_holds(session)
    longest = max(overrides | {default_days})
    if longest <= 0:
        return {}
    first = as_of - timedelta(days=longest)
    since = since or date.min
    sqlite = session.get_bind().dialect.name == "sqlite"
    group_key = Entry.partner_id + literal_column("0") if sqlite else Entry.partner_id
    query = (
        select(
            Entry.partner_id,
            func.max(Partner.hold_days),
            func.sum(Entry.amount),
            func.coalesce(func.sum(case((Entry.effective_date >= since, Entry.amount), else_=0)), 0),
            func.max(Entry.effective_date),
        )
        .join(Partner, Partner.id == Entry.partner_id)
        .where(
            Entry.effective_date > first,
            Entry.effective_date <= until,
            Entry.kind == COMMISSION,
            Entry.effective_date > _cutoff(default_days, overrides, as_of),
        )
        .group_by(group_key)
    )
    if partner_ids is not None:
        query = query.where(Entry.partner_id.in_(partner_ids))
    held = {}
    for partner_id, own_days, amount, in_range, last in session.execute(query):
        last_day = last if isinstance(last, date) else date.fromisoformat(str(last))
        days = partner_hold_days(own_days, default_days)
        held[partner_id] = Held(int(amount), int(in_range), payable_on(last_day, days))
    return held

