"""`payouts sync keap [--since DATE] [--until DATE]`: read a Keap account into the ledger (SPEC §11)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from bot.cli_usage import UsageProblem
from commands.context import Request
from domain.dates import parse_date

if TYPE_CHECKING:
    from bot.keap_client import Clock
    from commands.keap_sync import Progress, SyncSummary


def run_keap_sync(request: Request, *, since: date | None = None, until: date | None = None, clock: Clock | None = None,
                  say: Callable[[str], None] | None = None,
                  progress: Callable[[Progress], None] | None = None) -> SyncSummary:
    """One sync with the KEAP_* settings; a refused key or setting is a UsageProblem, naming it."""
    from bot.keap_client import KeapAuthError, KeapClient, SystemClock
    from commands.keap_sync import KeapSettingError, KeapSettings, KeapSync

    try:
        keap = KeapSettings.from_env(request.settings.default_currency)
    except KeapSettingError as exc:
        raise UsageProblem(str(exc)) from None
    if not keap.api_key:
        raise UsageProblem("KEAP_API_KEY is not set: create a Service Account Key in Keap "
                           "(Settings → API Settings) and set it")
    log = say or (lambda line: None)
    client = KeapClient(keap.api_key, keap.api_url, clock=clock or SystemClock(), log=log)
    sync = KeapSync(request.db, request.settings, keap, client, request.actor, since=since, until=until,
                    progress=progress, say=log)
    try:
        return sync.run()
    except (KeapAuthError, KeapSettingError) as exc:
        raise UsageProblem(str(exc)) from None


def summary_lines(summary: SyncSummary) -> list[str]:
    """What a sync did, for a person: counts first, then every changed record and every problem."""
    since = "the beginning" if summary.since is None else f"{summary.since:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"keap: {since} to {summary.until:%Y-%m-%d %H:%M} UTC{' (resumed)' if summary.resumed else ''}: "
        f"{summary.affiliates} affiliate(s), {summary.partners_added} partner(s) added, "
        f"{summary.partners_updated} updated; {summary.added} entr{'y' if summary.added == 1 else 'ies'} added, "
        f"{summary.unchanged} already recorded, {len(summary.changed)} changed in Keap, "
        f"{len(summary.problems)} problem(s); {summary.requests} request(s)"
    ]
    lines += [f"changed: {line}" for line in summary.changed]
    lines += [f"problem: {line}" for line in summary.problems]
    return lines


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _terminal_progress(update: Progress) -> None:
    left = "" if update.seconds_left is None else f", about {_duration(update.seconds_left)} left"
    end = "\n" if update.done == update.total else ""
    print(f"\rkeap: {update.done:,} of {update.total:,} affiliates{left}   ", end=end, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min {int(seconds % 60)} s"


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UsageProblem(f"{option}: {exc}") from None


def _cmd_sync(args: argparse.Namespace, request: Request) -> int:
    since, until = _date(args.since, "--since"), _date(args.until, "--until")
    if since and until and until < since:
        raise UsageProblem(f"--until {until} is before --since {since}")
    progress = _terminal_progress if sys.stderr.isatty() else None
    summary = run_keap_sync(request, since=since, until=until, say=_to_stderr, progress=progress)
    print("\n".join(summary_lines(summary)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sync = sub.add_parser("sync", help="read entries from the system that tracks referrals")
    sync.add_argument("source", choices=("keap",))
    sync.add_argument("--since", metavar="DATE", help="read from this day (default: the last sync, less 7 days)")
    sync.add_argument("--until", metavar="DATE", help="read up to this day, included (default: now)")
    sync.set_defaults(handler=_cmd_sync, runs_on=True)
