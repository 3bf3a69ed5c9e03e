"""`payouts clock [--once --now ISO-DATETIME]`: the reminder scheduler from the terminal (SPEC §5)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli_usage import UsageProblem
from commands.context import Request
from domain.dates import zone

if TYPE_CHECKING:
    from bot.clock import Send


def parse_now(text: str, timezone: str) -> datetime:
    """An ISO date-time; without an offset it is read in the organisation's time zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageProblem(
            f"--now '{text}' is not an ISO date-time (like 2015-07-01T09:00, 2015-07-01T13:00Z or "
            "2015-07-01T09:00-04:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC)


def _sender() -> Send:
    from bot.clock import print_sender, slack_sender

    return slack_sender() if os.environ.get("SLACK_BOT_TOKEN", "").strip() else print_sender()


def _cmd_clock(args: argparse.Namespace, request: Request) -> int:
    from bot import keap_schedule
    from bot.clock import Clock, ReminderRunner, utcnow  # with Jinja2 and APScheduler: only for the clock

    if args.now and not args.once:
        raise UsageProblem("--now needs --once: the running clock always uses the real time")
    if not math.isfinite(args.poll_seconds) or args.poll_seconds <= 0:
        raise UsageProblem(f"--poll-seconds must be a number of seconds more than 0, not {args.poll_seconds}")
    now = parse_now(args.now, request.settings.timezone) if args.now else utcnow()
    runner = ReminderRunner(request, _sender())
    if args.once:
        outcomes = runner.run_due(now)
        sent = sum(outcome.sent for outcome in outcomes)
        print(f"clock: {sent} reminder(s) sent, {len(outcomes) - sent} failed, at {now:%Y-%m-%d %H:%M} UTC",
              file=sys.stderr)
        synced = keap_schedule.run_if_due(keap_schedule.at_instant(request, now), now)
        return 0 if sent == len(outcomes) and synced is not False else 1
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=zone(request.settings.timezone))
    keap_schedule.add_job(scheduler, request, utcnow)
    print(f"clock: running in {request.settings.timezone}, checking schedules every {args.poll_seconds:g} s "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        Clock(runner, scheduler, poll_seconds=args.poll_seconds).start()
    except KeyboardInterrupt:
        return 0
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    clock = sub.add_parser("clock", help="the reminder scheduler: post reminders when payouts are due "
                           "(and sync Keap daily at KEAP_SYNC_AT when KEAP_API_KEY is set)")
    clock.add_argument("--once", action="store_true",
                       help="send what is due now (or at --now), sync Keap if that is due, and exit")
    clock.add_argument("--now", metavar="ISO-DATETIME",
                       help="with --once: the instant to run at (no offset: the organisation's TIMEZONE)")
    clock.add_argument("--poll-seconds", type=float, default=30.0, metavar="S",
                       help="how often the running clock rereads the schedules and catches up (default 30)")
    clock.set_defaults(handler=_cmd_clock, runs_on=True)
