"""Sync the ledger from Keap (SPEC §11): affiliates, commissions, clawbacks and early payments.

One run reads a window of time: from the last success's end less an overlap (7 days) for
back-dated records, or from `--since`, to now or `--until`. It reads every affiliate (the codes
must be known whole before any is trusted), every commission of the window a page at a time, then
each affiliate's clawbacks and payments, and writes that affiliate's entries in one transaction
with the checkpoint. Each page of the lists is kept as it is read, so an interrupted run reads no
page twice and continues after the last affiliate it wrote. Entries go
through the entries import (the same rules, limits and all-or-nothing per partner); an entry
already recorded is skipped, and one whose amount, date or description changed in Keap is
reported and kept as it was, since entries are never edited.
"""

from __future__ import annotations

import os
import time as time_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, keap_mapping, keap_state
from domain.dates import DateError, parse_date, zone
from domain.db import Database
from domain.imports import ImportRefused, import_entry_records, import_partner_records, is_email
from domain.keap_mapping import Affiliate, Mapped
from domain.models import Entry, Partner
from domain.money import MoneyError, format_plain, normalize_currency, parse_amount
from domain.settings import Settings

DEFAULT_OVERLAP_DAYS = 7
DEFAULT_SYNC_AT = time(2, 0)
SHOWN_IN_AUDIT = 50
REQUESTS_PER_MINUTE = 240
REQUESTS_PER_DAY = 30_000

Record = Mapping[str, Any]
Page = tuple[str | None, list[dict[str, Any]]]
"""A page of a list, with the token that reads the next one (None after the last)."""


class KeapSource(Protocol):
    """What a sync reads; `bot.keap_client.KeapClient` reads it from Keap over HTTP."""

    requests: int

    def affiliates(self, start: str | None = None) -> Iterator[Page]: ...

    def contacts(self, contact_ids: list[str], start: str | None = None) -> Iterator[Page]: ...

    def commissions(self, since: datetime | None, until: datetime, start: str | None = None) -> Iterator[Page]: ...

    def clawbacks(self, affiliate_id: str, since: datetime | None, until: datetime) -> list[dict[str, Any]]: ...

    def payments(self, affiliate_id: str, since: datetime | None, until: datetime) -> list[dict[str, Any]]: ...


class KeapSettingError(ValueError):
    """A KEAP_* setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class KeapSettings:
    """The KEAP_* settings (SPEC §11). The key is kept out of every message and of `repr`."""

    api_key: str = field(default="", repr=False)
    api_url: str = "https://api.infusionsoft.com/crm/rest"
    currency: str = "USD"
    payments_until: date | None = None
    overlap_days: int = DEFAULT_OVERLAP_DAYS
    sync_at: time = DEFAULT_SYNC_AT

    @classmethod
    def from_env(cls, default_currency: str, env: Mapping[str, str] | None = None) -> KeapSettings:
        source = os.environ if env is None else env
        return cls(
            api_key=source.get("KEAP_API_KEY", "").strip(),
            api_url=source.get("KEAP_API_URL", "").strip() or cls.api_url,
            currency=_setting("KEAP_CURRENCY", source, normalize_currency) or default_currency,
            payments_until=_setting("KEAP_PAYMENTS_UNTIL", source, parse_date),
            overlap_days=_setting("KEAP_OVERLAP_DAYS", source, _days) or DEFAULT_OVERLAP_DAYS,
            sync_at=_setting("KEAP_SYNC_AT", source, _clock_time) or DEFAULT_SYNC_AT,
        )


def _setting(name: str, env: Mapping[str, str], parse: Callable[[str], Any]) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        return parse(text)
    except (DateError, MoneyError, ValueError) as exc:
        raise KeapSettingError(f"{name}: {exc}") from None


def _days(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 366:
        raise ValueError(f"'{text}' is not a number of days from 1 to 366")
    return int(text)


def _clock_time(text: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"'{text}' is not a time of day (HH:MM, like 02:00)") from None


@dataclass(frozen=True)
class Progress:
    """How far a run is: affiliates done of all, and the time left at the pace so far (seconds)."""

    done: int
    total: int
    seconds_left: float | None


@dataclass
class SyncSummary:
    since: datetime | None
    until: datetime
    resumed: bool = False
    affiliates: int = 0
    partners_added: int = 0
    partners_updated: int = 0
    added: int = 0
    unchanged: int = 0
    changed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "unchanged": self.unchanged, "changed": len(self.changed)}


def window_start(day: date, timezone: str) -> datetime:
    """The first instant of a day in the organisation's zone, in UTC."""
    return datetime.combine(day, time(0), zone(timezone)).astimezone(UTC)


def window_end(day: date, timezone: str) -> datetime:
    """The last millisecond of a day in the organisation's zone (Keap's `until` is inclusive)."""
    return window_start(day + timedelta(days=1), timezone) - timedelta(milliseconds=1)


def estimate_seconds(requests: int) -> float:
    """How long that many requests take under a key's limits: 240 a minute, and 30,000 a day."""
    days_waiting = max(0, (requests - 1) // REQUESTS_PER_DAY)
    return requests * 60.0 / REQUESTS_PER_MINUTE + days_waiting * 86_400.0


@dataclass
class KeapSync:
    """One run of the sync; `run()` does it and returns what it did."""

    db: Database
    settings: Settings
    keap: KeapSettings
    source: KeapSource
    actor: str
    since: date | None = None
    until: date | None = None
    progress: Callable[[Progress], None] | None = None
    say: Callable[[str], None] = lambda line: None
    elapsed: Callable[[], float] = time_module.monotonic

    def run(self) -> SyncSummary:
        run = self._window()
        summary = SyncSummary(run.since, run.until, resumed=run.resumed)
        affiliates = self._affiliates(summary)
        self._upsert_partners(affiliates, summary)
        by_affiliate = self._commissions(run, {item.id for item in affiliates}, summary)
        remaining = [item for item in affiliates if not _done(item, run.done_through)]
        self._announce(len(affiliates), len(remaining), run)
        started, done_before = self.elapsed(), len(affiliates) - len(remaining)
        counts = dict(run.counts)
        for index, item in enumerate(remaining, start=1):
            mapped = self._mapped(item, by_affiliate.pop(item.id, []), run, summary)
            self._write(item, mapped, counts, summary)
            if self.progress is not None:
                self.progress(self._progress(done_before + index, len(affiliates), index, len(remaining) - index,
                                             self.elapsed() - started, run))
        summary.added, summary.unchanged = counts.get("added", 0), counts.get("unchanged", 0)
        summary.requests = self.source.requests
        self._finish(run, summary)
        return summary

    # ---- the window -------------------------------------------------------------------------

    def _window(self) -> keap_state.Run:
        """An interrupted run's window when nothing else is asked for; else a fresh one."""
        timezone, now = self.settings.timezone, self.settings.now()
        with self.db.read() as session:
            unfinished = keap_state.interrupted(session)
            last = keap_state.last_until(session)
        asked_since = window_start(self.since, timezone) if self.since else None
        asked_until = window_end(self.until, timezone) if self.until else None
        if unfinished is not None and asked_since in (None, unfinished.since) and asked_until in (None, unfinished.until):
            return unfinished
        until = asked_until or now.astimezone(UTC)
        if asked_since is not None:
            since: datetime | None = asked_since
        else:
            since = last - timedelta(days=self.keap.overlap_days) if last else None
        if since is not None and since > until:
            raise KeapSettingError(f"the sync window starts ({since:%Y-%m-%d %H:%M} UTC) after it ends "
                                   f"({until:%Y-%m-%d %H:%M} UTC)")
        run = keap_state.Run(since, until)
        with self.db.write() as session:
            keap_state.start(session, run, now)
        return run

    # ---- affiliates and partners -------------------------------------------------------------

    def _affiliates(self, summary: SyncSummary) -> list[Affiliate]:
        """Every affiliate, with its contact's e-mail where Keap gives one; those with a bad code reported."""
        read = [keap_mapping.affiliate(record) for record in self._pages("affiliates", self.source.affiliates)]
        summary.affiliates = len(read)
        emails = self._emails([item.contact_id for item in read if item.contact_id])
        usable, problems = keap_mapping.usable_affiliates(
            replace(item, email=emails.get(item.contact_id or "")) for item in read
        )
        summary.problems.extend(problems)
        return usable

    def _pages(self, phase: str, read: Callable[[str | None], Iterator[Page]]) -> list[dict[str, Any]]:
        """Every record of a list: the pages an interrupted run kept, then the rest, each kept once read."""
        with self.db.read() as session:
            kept = keap_state.staged(session, phase)
        records = [record for _, page in kept for record in page]
        if kept and kept[-1][0] is None:
            return records
        for number, page in enumerate(read(kept[-1][0] if kept else None), start=len(kept)):
            with self.db.write() as session:
                keap_state.stage(session, phase, number, page)
            records.extend(page[1])
        return records

    def _emails(self, contact_ids: list[str]) -> dict[str, str]:
        found = {}
        ids = sorted(set(contact_ids))
        for contact in self._pages("contacts", lambda start: self.source.contacts(ids, start)):
            email = keap_mapping.primary_email(contact)
            if email and is_email(email):
                found[str(contact.get("id"))] = email
        return found

    def _upsert_partners(self, affiliates: list[Affiliate], summary: SyncSummary) -> None:
        """Create or update a partner per affiliate, leaving out (and reporting) those the import refuses."""
        kept = list(affiliates)
        while kept:
            rows = [(number, keap_mapping.partner_row(item, self.keap.currency))
                    for number, item in enumerate(kept, start=1)]
            try:
                with self.db.write() as session:
                    result = import_partner_records(session, rows, source="keap affiliates", actor=self.actor,
                                                    default_currency=self.keap.currency)
            except ImportRefused as refused:
                named = {problem.row for problem in refused.problems if 0 < problem.row <= len(kept)}
                if not named:
                    raise
                for problem in refused.problems:
                    summary.problems.append(f"{kept[problem.row - 1].label()}: {problem.column}: {problem.reason}")
                kept = [item for number, item in enumerate(kept, start=1) if number not in named]
                continue
            summary.partners_added, summary.partners_updated = result.added, result.updated
            break
        affiliates[:] = kept

    # ---- entries ------------------------------------------------------------------------------

    def _commissions(self, run: keap_state.Run, known: set[str], summary: SyncSummary) -> dict[str, list[Record]]:
        """The window's commissions by affiliate ID; those of an affiliate not synced are counted as problems."""
        grouped: dict[str, list[Record]] = {}
        stray: dict[str, int] = {}
        for record in self._pages("commissions", lambda start: self.source.commissions(run.since, run.until, start)):
            affiliate_id = str(record.get("sales_affiliate_id") or "")
            if affiliate_id in known:
                grouped.setdefault(affiliate_id, []).append(record)
            else:
                stray[affiliate_id] = stray.get(affiliate_id, 0) + 1
        for affiliate_id, count in sorted(stray.items()):
            summary.problems.append(f"{count} commission(s) of affiliate {affiliate_id or '(none)'}, "
                                    "which was not synced, were left out")
        return grouped

    def _payments_until(self, run: keap_state.Run) -> datetime | None:
        """The end of the payments window: the switch-over day's end, or None when it is before the window."""
        if self.keap.payments_until is None:
            return None
        end = min(run.until, window_end(self.keap.payments_until, self.settings.timezone))
        return None if run.since is not None and run.since > end else end

    def _mapped(self, item: Affiliate, commissions: list[Record], run: keap_state.Run,
                summary: SyncSummary) -> Mapped:
        code, timezone = item.code or "", self.settings.timezone
        parts = [keap_mapping.commission_rows(code, commissions, timezone),
                 keap_mapping.clawback_rows(code, self.source.clawbacks(item.id, run.since, run.until), timezone)]
        payments_end = self._payments_until(run)
        if payments_end is not None:
            records = self.source.payments(item.id, run.since, payments_end)
            parts.append(keap_mapping.payment_rows(code, records, timezone, self.keap.payments_until))
        for part in parts:
            summary.problems.extend(f"{item.label()}: {reason}" for reason in part.skipped)
        return Mapped([row for part in parts for row in part.rows], [])

    def _write(self, item: Affiliate, mapped: Mapped, counts: dict[str, int], summary: SyncSummary) -> None:
        """The affiliate's new entries and the checkpoint, together; a refused group only moves the checkpoint."""
        now = self.settings.now()
        try:
            with self.db.write() as session:
                fresh, unchanged, changed = _split(session, item.code or "", mapped.rows)
                if fresh:
                    records = [(number, row) for number, row in enumerate(fresh, start=1)]
                    result = import_entry_records(session, records, source=item.label(), actor=self.actor,
                                                  partner_codes=[item.code or ""], audited=False)
                    counts["added"] = counts.get("added", 0) + result.added
                for line in changed:
                    audit.record(session, self.actor, "keap.changed", line[:200], affiliate=item.id, change=line)
                counts["unchanged"] = counts.get("unchanged", 0) + unchanged
                keap_state.checkpoint(session, item.id, counts, now)
        except ImportRefused as refused:
            summary.problems.append(f"{item.label()}: nothing was written: {refused}")
            with self.db.write() as session:
                keap_state.checkpoint(session, item.id, counts, now)
            return
        summary.changed.extend(changed)

    def _requests_per_affiliate(self, run: keap_state.Run) -> int:
        return 2 if self._payments_until(run) is not None else 1

    def _progress(self, done: int, total: int, done_now: int, left: int, spent_seconds: float,
                  run: keap_state.Run) -> Progress:
        """The time left at the pace so far, and never less than Keap's limits allow for what is left."""
        at_pace = spent_seconds / done_now * left
        return Progress(done, total, max(at_pace, estimate_seconds(left * self._requests_per_affiliate(run))))

    def _announce(self, total: int, remaining: int, run: keap_state.Run) -> None:
        requests = remaining * self._requests_per_affiliate(run)
        minutes = estimate_seconds(requests) / 60.0
        self.say(f"keap: {total} affiliate(s), {remaining} to read: about {requests:,} request(s), "
                 f"at least {minutes:,.0f} min at Keap's {REQUESTS_PER_MINUTE} requests a minute"
                 + (" (more than a day's quota: it waits for the quota's renewal)" if requests > REQUESTS_PER_DAY else ""))

    def _finish(self, run: keap_state.Run, summary: SyncSummary) -> None:
        with self.db.write() as session:
            keap_state.finish(session, run.until, self.settings.now())
            audit.record(
                session, self.actor, "keap.sync", f"{_shown(run.since)}..{_shown(run.until)}",
                resumed=run.resumed, affiliates=summary.affiliates, partners_added=summary.partners_added,
                partners_updated=summary.partners_updated, added=summary.added, unchanged=summary.unchanged,
                changed=summary.changed[:SHOWN_IN_AUDIT], problems=summary.problems[:SHOWN_IN_AUDIT],
                changed_count=len(summary.changed), problem_count=len(summary.problems), requests=summary.requests,
            )


def _shown(moment: datetime | None) -> str:
    return "beginning" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _done(item: Affiliate, done_through: str | None) -> bool:
    if done_through is None:
        return False
    return keap_mapping.sort_key(item) <= keap_mapping.sort_key(Affiliate(done_through, None, "", None, None))


def _split(session: Session, code: str, rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], int, list[str]]:
    """Rows not yet recorded, how many are recorded as they are, and a line for each recorded differently."""
    partner = session.scalars(select(Partner).where(Partner.code == code)).first()
    if partner is None or not rows:
        return rows, 0, []
    stored = {
        (kind, reference): (amount, day, description)
        for kind, reference, amount, day, description in session.execute(
            select(Entry.kind, Entry.reference, Entry.amount, Entry.effective_date, Entry.description)
            .where(Entry.partner_id == partner.id, Entry.reference.in_([row["reference"] for row in rows]))
        )
    }
    fresh, unchanged, changed = [], 0, []
    for row in rows:
        held = stored.get((row["kind"], row["reference"]))
        if held is None:
            fresh.append(row)
            continue
        try:
            keap = (parse_amount(row["amount"], partner.currency), date.fromisoformat(row["date"]), row["description"])
        except MoneyError:
            fresh.append(row)
            continue
        held_day = held[1] if isinstance(held[1], date) else date.fromisoformat(held[1])
        if (held[0], held_day, held[2]) == keap:
            unchanged += 1
        else:
            changed.append(_change_line(code, row, (held[0], held_day, held[2]), keap, partner.currency))
    return fresh, unchanged, changed


def _change_line(code: str, row: dict[str, str], held: tuple[int, date, str], keap: tuple[int, date, str],
                 currency: str) -> str:
    what = []
    if held[0] != keap[0]:
        what.append(f"amount {format_plain(held[0], currency)} → {format_plain(keap[0], currency)}")
    if held[1] != keap[1]:
        what.append(f"date {held[1]} → {keap[1]}")
    if held[2] != keap[2]:
        what.append("description changed")
    return f"{code} {row['kind']} {row['reference']}: {', '.join(what)} in Keap; the ledger keeps what it recorded"
