"""Where a sync from another system stands (SPEC §11): its last success and its checkpoint.

A sync reads a window of time. The last success's `until` is where the next window starts (less
an overlap for back-dated records). While a sync runs, its window and the last affiliate whose
entries were committed are written in the same transaction as those entries, and each page it
reads of a list it needs whole is kept with where the next page starts, so an interrupted sync
that is run again reads the same window, reads no page twice, and continues after that affiliate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.models import Base

KEAP = "keap"


class SyncState(Base):
    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), unique=True)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_done_through: Mapped[str | None] = mapped_column(String(64))
    run_counts: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncPage(Base):
    """A page a sync under way has read, as JSON (amounts as decimal strings), and where the next starts."""

    __tablename__ = "sync_page"
    __table_args__ = (UniqueConstraint("source", "phase", "number", name="uq_sync_page_source_phase_number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    next_token: Mapped[str | None] = mapped_column(String(500))
    records: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Run:
    """The window a sync reads and, when it resumes, the last affiliate already written."""

    since: datetime | None
    until: datetime
    done_through: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive times; every time stored here is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _row(session: Session, source: str, now: datetime) -> SyncState:
    row = session.scalars(select(SyncState).where(SyncState.source == source)).first()
    if row is None:
        row = SyncState(source=source, run_counts="{}", updated_at=now)
        session.add(row)
        session.flush()
    return row


def last_until(session: Session, source: str = KEAP) -> datetime | None:
    """Up to which instant the last successful sync read; None before the first."""
    return _utc(session.scalar(select(SyncState.last_until).where(SyncState.source == source)))


def last_success(session: Session, source: str = KEAP) -> datetime | None:
    """When the last sync succeeded: the time the ledger's data from that source is as of."""
    return _utc(session.scalar(select(SyncState.last_success_at).where(SyncState.source == source)))


def interrupted(session: Session, source: str = KEAP) -> Run | None:
    """The run a previous sync left unfinished, or None."""
    row = session.scalars(select(SyncState).where(SyncState.source == source)).first()
    if row is None or row.run_until is None:
        return None
    return Run(_utc(row.run_since), _utc(row.run_until), row.run_done_through,  # type: ignore[arg-type]
               json.loads(row.run_counts or "{}"), resumed=True)


Page = tuple[str | None, list[dict[str, Any]]]


def staged(session: Session, phase: str, source: str = KEAP) -> list[Page]:
    """The pages of `phase` the run under way has read, in order, each with the next page's token."""
    query = (select(SyncPage.next_token, SyncPage.records)
             .where(SyncPage.source == source, SyncPage.phase == phase).order_by(SyncPage.number))
    return [(token, json.loads(records)) for token, records in session.execute(query)]


def stage(session: Session, phase: str, number: int, page: Page, source: str = KEAP) -> None:
    """Keep a page just read; decimals are kept as their exact text."""
    token, records = page
    session.add(SyncPage(source=source, phase=phase, number=number, next_token=token,
                         records=json.dumps(records, default=str)))


def _forget_pages(session: Session, source: str) -> None:
    session.execute(delete(SyncPage).where(SyncPage.source == source))


def start(session: Session, run: Run, now: datetime, source: str = KEAP) -> None:
    """Record the window of a run that starts afresh, forgetting any unfinished one."""
    _forget_pages(session, source)
    row = _row(session, source, now)
    row.run_since, row.run_until, row.run_started_at = run.since, run.until, now
    row.run_done_through, row.run_counts, row.updated_at = None, "{}", now


def checkpoint(session: Session, done_through: str, counts: dict[str, int], now: datetime,
               source: str = KEAP) -> None:
    """The affiliate just written, in the transaction that wrote its entries."""
    row = _row(session, source, now)
    row.run_done_through, row.run_counts, row.updated_at = done_through, json.dumps(counts, sort_keys=True), now


def finish(session: Session, until: datetime, now: datetime, source: str = KEAP) -> None:
    """The run succeeded: the next one starts from `until`, and there is nothing to resume."""
    _forget_pages(session, source)
    row = _row(session, source, now)
    row.last_success_at, row.last_until, row.updated_at = now, until, now
    row.run_since = row.run_until = row.run_started_at = None
    row.run_done_through, row.run_counts = None, "{}"
