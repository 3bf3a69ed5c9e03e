"""Hold periods (SPEC §12): a commission dated D becomes payable on D + the partner's hold days.

A partner's hold is its own `hold_days` when set, else the organisation's HOLD_DAYS. Only
commissions are held; clawbacks and payments count at once. What is held on a day P depends only
on the commissions dated within the longest hold before P, so it is read from the (date, partner)
index over that window alone, and its cost does not grow with the years of history before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, literal_column, select, text
from sqlalchemy.orm import Session

from domain.kinds import COMMISSION
from domain.models import Entry, Partner
from domain.report_sql import PARTNER_HOLDS


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
    return {int(days) for days in session.execute(text(PARTNER_HOLDS)).scalars()}


def holds_configured(session: Session, default_days: int) -> bool:
    """Whether any commission can be held at all; without a hold every figure is SPEC §2's."""
    return default_days > 0 or any(days > 0 for days in partner_holds(session))


def _own_holds(session: Session, partner_ids: list[int] | None) -> dict[int, int]:
    """Partners with a hold of their own, read from the partner.hold_days index."""
    query = select(Partner.id, Partner.hold_days).where(Partner.hold_days.is_not(None))
    if partner_ids is not None:
        query = query.where(Partner.id.in_(partner_ids))
    return {partner_id: int(days) for partner_id, days in session.execute(query)}


def held_commissions(
    session: Session, *, as_of: date, until: date, default_days: int, since: date | None = None,
    partner_ids: list[int] | None = None,
) -> dict[int, Held]:
    """Per partner, the commissions dated on or before `until` that are not payable on `as_of`.

    `in_range` is the part dated on or after `since`. Only the window of the longest hold before
    `as_of` is read, in one pass over the date index with a few sums per distinct hold; each
    partner then takes the sums of its own hold. On SQLite the GROUP BY names `partner_id + 0` so
    that the planner walks the date index over the window, not the (partner, date) index over all
    history.
    """
    own = _own_holds(session, partner_ids)
    holds = sorted(set(own.values()) | {default_days})
    if max(holds) <= 0:
        return {}
    since = since or date.min
    sqlite = session.get_bind().dialect.name == "sqlite"
    group_key = Entry.partner_id + literal_column("0") if sqlite else Entry.partner_id
    columns = []
    for days in holds:
        held = Entry.effective_date > as_of - timedelta(days=days)
        columns += [
            func.sum(case((held, Entry.amount), else_=0)),
            func.sum(case((and_(held, Entry.effective_date >= since), Entry.amount), else_=0)),
            func.max(case((held, Entry.effective_date), else_=None)),
        ]
    query = (
        select(Entry.partner_id, *columns)
        .where(
            Entry.effective_date > as_of - timedelta(days=max(holds)),
            Entry.effective_date <= until,
            Entry.kind == COMMISSION,
            Entry.batch_pk.is_(None),  # as every commission is (migration 0017): the (partner, date) index holds these
        )
        .group_by(group_key)
    )
    if partner_ids is not None:
        query = query.where(Entry.partner_id.in_(partner_ids))
    found = {}
    for partner_id, *sums in session.execute(query):
        days = own.get(partner_id, default_days)
        at = 3 * holds.index(days)
        amount, in_range, last = sums[at : at + 3]
        if last is not None and amount:
            last_day = last if isinstance(last, date) else date.fromisoformat(str(last))
            found[partner_id] = Held(int(amount), int(in_range), payable_on(last_day, days))
    return found
