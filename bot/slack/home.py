"""App Home (SPEC §13) as a Block Kit view, and its publishing with `views.publish`.

The view stays within Slack's limits for any amount of data (https://docs.slack.dev/reference/views:
at most 100 blocks; https://docs.slack.dev/reference/block-kit/blocks/section-block: 3,000
characters of section text): currencies share a few sections, and only the most recent pending
batches are listed, with a line saying how many more wait.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.blocks import ACTION_SUFFIX, MAX_HEADER, MAX_SECTION_TEXT, chunk_lines, clip
from bot.slack.templating import mrkdwn_line, plain_line
from commands.chat_payout_views import APPROVE, REJECT
from commands.use_home import BatchLine, CurrencyTotal, DueTime, HomeFigures, HomePage, Schedule
from domain.dates import zone
from domain.money import format_display
from domain.roles import Role

log = logging.getLogger(__name__)

MAX_VIEW_BLOCKS = 100  # https://docs.slack.dev/reference/views
PAYABLE_SECTIONS = 4  # 100 currencies fit in two; more are counted rather than listed
TITLE = "Referral payouts"


def home_view(page: HomePage, timezone: str) -> dict[str, Any]:
    """The whole Home tab for one person, fitted to their role."""
    blocks = [_header(TITLE)]
    if page.role is None or page.figures is None:
        blocks.append(_section(page.refusal or "You have no role in this app: ask whoever runs it for one."))
        blocks.append(_context("LEDGER_VIEWERS lets a person see the figures; PAYOUT_REQUESTERS also request "
                               "batches; PAYOUT_APPROVERS also approve them."))
        return {"type": "home", "blocks": blocks}
    figures = page.figures
    blocks.append(_context(_freshness(figures, timezone) + f" · You hold the {page.role.label} role."))
    blocks += _payable(figures)
    blocks += _pending(figures, approver=page.role is Role.APPROVER)
    blocks += _recent(figures)
    blocks += _reminders(figures.reminders, timezone)
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _freshness(figures: HomeFigures, timezone: str) -> str:
    when = f"As of {figures.today}"
    if figures.synced_at is None:
        return when
    return f"{when} · Keap data as of {figures.synced_at.astimezone(zone(timezone)):%Y-%m-%d %H:%M} {timezone}"


def _payable(figures: HomeFigures) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _header("Payable today")]
    if not figures.payable:
        return [*blocks, _section("Nobody is owed anything payable today.")]
    lines = "\n".join(f"*{mrkdwn_line(total.currency)}*  {format_display(total.amount, total.currency)} "
                      f"to {total.count} partner(s)" for total in figures.payable)
    chunks = chunk_lines(lines, MAX_SECTION_TEXT)
    blocks += [_section(chunk) for chunk in chunks[:PAYABLE_SECTIONS]]
    if len(chunks) > PAYABLE_SECTIONS:
        blocks.append(_context("More currencies than fit here: `/ledger ytd` lists them all, its ending balances as of today."))
    return blocks


def _pending(figures: HomeFigures, *, approver: bool) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _header(f"Awaiting approval ({figures.pending_count})")]
    if not figures.pending:
        return [*blocks, _section("No batch is waiting for a decision.")]
    for index, batch in enumerate(figures.pending, start=1):
        blocks.append(_section(f"*{mrkdwn_line(batch.batch_id)}*  {batch.start_date}..{batch.end_date} · "
                               f"{_totals(batch.totals)} · requested by {mrkdwn_line(batch.requested_by)} "
                               f"at {batch.requested_at:%Y-%m-%d %H:%M} UTC"))
        if approver:
            blocks.append(_decision_buttons(batch, index))
    more = figures.pending_count - len(figures.pending)
    if more > 0:
        blocks.append(_context(f"{more} more waiting, older than these: `/payout list` shows them."))
    return blocks


def _decision_buttons(batch: BatchLine, index: int) -> dict[str, Any]:
    """Approve and Reject run exactly what the approval request's buttons run; each asks first."""
    def button(label: str, action: str, style: str, question: str) -> dict[str, Any]:
        return {
            "type": "button", "text": {"type": "plain_text", "text": label}, "style": style,
            "action_id": f"{action}{ACTION_SUFFIX}{index}", "value": batch.batch_id,
            "confirm": {"title": {"type": "plain_text", "text": "Are you sure?"},
                        "text": {"type": "plain_text", "text": clip(plain_line(f"{question} {batch.batch_id}?"), 300)},
                        "confirm": {"type": "plain_text", "text": label},
                        "deny": {"type": "plain_text", "text": "Cancel"}},
        }

    return {"type": "actions", "block_id": f"home-decide-{index}", "elements": [
        button("Approve", APPROVE, "primary", "Post the payments of"),
        button("Reject", REJECT, "danger", "Reject"),
    ]}


def _recent(figures: HomeFigures) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _header("Latest batches")]
    if not figures.recent:
        return [*blocks, _section("No batch yet.")]
    lines = "\n".join(f"*{mrkdwn_line(batch.batch_id)}*  {batch.status} · {batch.start_date}..{batch.end_date} · "
                      f"{_totals(batch.totals)}" for batch in figures.recent)
    return [*blocks, _section(lines)]


def _reminders(upcoming: list[tuple[Schedule, DueTime]], timezone: str) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _header("Next reminders")]
    if not upcoming:
        return [*blocks, _section("No reminder is scheduled: `/payout remind add` sets one.")]
    lines = "\n".join(f"{due.at.astimezone(zone(timezone)):%Y-%m-%d %H:%M} {timezone} · "
                      f"{mrkdwn_line(schedule.channel)} · {mrkdwn_line(schedule.describe())}"
                      for schedule, due in upcoming)
    return [*blocks, _section(lines)]


def _totals(totals: list[CurrencyTotal]) -> str:
    if not totals:
        return "nothing to pay"
    return ", ".join(f"{format_display(total.amount, total.currency)} to {total.count}" for total in totals)


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(plain_line(text), MAX_HEADER)}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}
