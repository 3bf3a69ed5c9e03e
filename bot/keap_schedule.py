"""The Keap sync on the clock (SPEC §11): daily at KEAP_SYNC_AT in TIMEZONE, when KEAP_API_KEY is set.

Whether a sync is due is read from the database (the last success), not from the scheduler, so a
clock that was down at the hour syncs when it comes back, and a restart does not sync twice.
Every sync, and every failed one, is in the audit log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from apscheduler.schedulers.base import BaseScheduler

from commands.context import Request
from domain import audit, keap_state
from domain.dates import zone

KEAP_JOB = "keap-sync"
Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def latest_due(now: datetime, at: time, timezone: str) -> datetime:
    """The latest KEAP_SYNC_AT, in the organisation's zone, at or before `now`."""
    local = now.astimezone(zone(timezone))
    today = datetime.combine(local.date(), at, zone(timezone))
    return (today if today <= local else today - timedelta(days=1)).astimezone(UTC)


def is_due(last_success: datetime | None, now: datetime, at: time, timezone: str) -> bool:
    return last_success is None or last_success < latest_due(now, at, timezone)


def run_if_due(request: Request, now: datetime, log: Log = _stderr) -> bool | None:
    """Sync when a key is set and no sync succeeded since the latest KEAP_SYNC_AT; None when nothing
    was due, else whether the sync succeeded."""
    from bot.cli_sync import run_keap_sync, summary_lines
    from commands.keap_sync import KeapSettingError, KeapSettings

    try:
        keap = KeapSettings.from_env(request.settings.default_currency)
    except KeapSettingError as exc:
        log(f"clock: keap sync not run: {exc}")
        return False
    if not keap.api_key:
        return None
    with request.db.read() as session:
        last = keap_state.last_success(session)
    if not is_due(last, now, keap.sync_at, request.settings.timezone):
        return None
    try:
        summary = run_keap_sync(request.acting_as("clock"), say=log)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log(f"clock: keap sync failed ({reason}); the next run continues where it stopped")
        with request.db.write() as session:
            audit.record(session, "clock", "keap.sync.failed", "keap", reason=reason)
        return False
    log("clock: " + summary_lines(summary)[0])
    return True


def add_job(scheduler: BaseScheduler, request: Request, now: Callable[[], datetime], log: Log = _stderr) -> bool:
    """A daily job at KEAP_SYNC_AT when KEAP_API_KEY is set; whether it was added."""
    from apscheduler.triggers.cron import CronTrigger

    from commands.keap_sync import KeapSettings

    keap = KeapSettings.from_env(request.settings.default_currency)
    if not keap.api_key:
        return False
    trigger = CronTrigger(hour=keap.sync_at.hour, minute=keap.sync_at.minute, timezone=zone(request.settings.timezone))
    scheduler.add_job(lambda: run_if_due(request, now(), log), trigger, id=KEAP_JOB, coalesce=True, max_instances=1,
                      replace_existing=True, misfire_grace_time=3600)
    scheduler.add_job(lambda: run_if_due(request, now(), log), id=f"{KEAP_JOB}-catch-up", replace_existing=True)
    log(f"clock: Keap sync daily at {keap.sync_at:%H:%M} {request.settings.timezone}")
    return True


def at_instant(request: Request, now: datetime) -> Request:
    """The context with the clock fixed at `now`, for `clock --once --now`."""
    return replace(request, settings=replace(request.settings, fixed_now=now))
