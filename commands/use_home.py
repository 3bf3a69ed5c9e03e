"""App Home (SPEC §13): what is payable today, the batches awaiting a decision, the latest batches,
the next reminders and how fresh the synced data is, read in one unit of work for one person.

Only the counts and sums are read, never a batch's lines, so the page costs the same for a
batch of ten partners as for one of ten thousand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from commands import use_reminders
from commands.context import Request
from domain import batches, keap_state, reminders
from domain.batches import CurrencyTotal
from domain.dates import DateRange
from domain.models import Batch
from domain.reminders import DueTime, Schedule
from domain.roles import Role

PENDING_SHOWN = 10  # the most recent pending batches shown; the page says how many more wait
RECENT_SHOWN = 5  # SPEC §13: the last five batches with their status
REMINDERS_SHOWN = 3

__all__ = ["BatchLine", "CurrencyTotal", "DueTime", "HomeFigures", "HomePage", "Schedule", "figures"]


@dataclass(frozen=True)
class BatchLine:
    """A batch as Home lists it: its status and what its lines pay per currency, without the lines."""

    batch_id: str
    status: str
    requested_by: str
    requested_at: datetime
    start_date: date
    end_date: date
    totals: list[CurrencyTotal]


@dataclass(frozen=True)
class HomeFigures:
    today: date
    payable: list[CurrencyTotal]  # per currency, what active partners may be paid today and how many (SPEC §12)
    pending: list[BatchLine]
    pending_count: int
    recent: list[BatchLine]
    reminders: list[tuple[Schedule, DueTime]]
    synced_at: datetime | None


def figures(request: Request) -> HomeFigures:
    """Everything Home shows; the caller has checked the person may view the ledger."""
    today = request.settings.today()
    with request.db.read() as session:
        payable = reminders.due_summary(session, DateRange(today, today), hold_days=request.settings.hold_days).totals
        waiting, pending_count = batches.pending_batches(session, PENDING_SHOWN)
        latest = batches.list_batches(session, limit=RECENT_SHOWN)
        totals = batches.paid_totals(session, [*waiting, *latest])
        pending = [_line(batch, totals[batch.id]) for batch in waiting]
        recent = [_line(batch, totals[batch.id]) for batch in latest]
        synced_at = keap_state.last_success(session)
    upcoming = sorted(use_reminders.list_schedules(request), key=lambda pair: pair[1].at)[:REMINDERS_SHOWN]
    return HomeFigures(today, payable, pending, pending_count, recent, upcoming, synced_at)


def _line(batch: Batch, totals: list[CurrencyTotal]) -> BatchLine:
    return BatchLine(batch.batch_id, batch.status, batch.requested_by, batch.requested_at, batch.start_date,
                     batch.end_date, totals)


@dataclass(frozen=True)
class HomePage:
    """Home as one person may see it: their highest role and the figures, or why they see none."""

    role: Role | None
    figures: HomeFigures | None = None
    refusal: str | None = None  # for someone with no role: which role to ask for and the setting that grants it
