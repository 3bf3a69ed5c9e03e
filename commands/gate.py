"""The one check every chat way in passes (SPEC §8): the role a command, button or form needs, and
the channels ledger data may be seen in. The terminal operator is trusted and not checked."""

from __future__ import annotations

from commands import chat_payout_views, ledger_views
from commands.context import Request
from commands.grammar import Command
from commands.grammar_ledger import LedgerHelp, LedgerReportCommand, PartnerLedgerCommand
from commands.grammar_payout import PayoutHelp, PayoutList, PayoutRange, PayoutStatus
from commands.grammar_remind import RemindAdd, RemindList, RemindRemove
from commands.reply import Reply
from domain.roles import Role

VIEWING = (LedgerHelp, LedgerReportCommand, PartnerLedgerCommand, PayoutHelp, PayoutList, PayoutStatus, RemindList)
REQUESTING = (PayoutRange, RemindAdd, RemindRemove)
ACTION_ROLES = {
    ledger_views.CSV_ACTION: Role.VIEWER, ledger_views.PDF_ACTION: Role.VIEWER, ledger_views.CHART_ACTION: Role.VIEWER, chat_payout_views.PRINT: Role.VIEWER,
    chat_payout_views.START: Role.REQUESTER, chat_payout_views.SUBMIT: Role.REQUESTER, chat_payout_views.FILES: Role.REQUESTER,
    chat_payout_views.REQUEST_FORM: Role.REQUESTER, chat_payout_views.REPAY: Role.REQUESTER,
    chat_payout_views.FAIL_START: Role.APPROVER, chat_payout_views.FAIL_FORM: Role.APPROVER,
}
HOME_ROLES = (Role.APPROVER, Role.REQUESTER, Role.VIEWER)  # highest first
LISTED_CHANNELS = 5  # a refusal names this many allowed channels, then how many more there are
NO_IDENTITY = "This request does not say who is asking, so it is refused."


def role_for_command(command: Command) -> Role:
    """What a parsed command needs; anything not listed (voiding, recording a failed line) needs an approver."""
    if isinstance(command, VIEWING):
        return Role.VIEWER
    if isinstance(command, REQUESTING):
        return Role.REQUESTER
    return Role.APPROVER


def home_role(request: Request) -> Role | None:
    """The highest role the person holds, which App Home fits itself to (SPEC §13); the terminal
    operator holds every role. None for someone the roles do not admit, or with no identity. Home is
    seen only by the person it is published for, so LEDGER_CHANNELS does not apply."""
    if request.trusted_operator:
        return Role.APPROVER
    if request.access is None:
        return None
    return next((role for role in HOME_ROLES if request.access.holds(role)), None)


def role_for_action(action: str) -> Role:
    """What a button or form needs; Approve, Reject and any action not listed need an approver."""
    return ACTION_ROLES.get(action, Role.APPROVER)


def refusal(request: Request, role: Role) -> list[Reply] | None:
    """A private refusal when the person may not do this here; None when they may."""
    if request.trusted_operator:
        return None
    if request.access is None:
        return [Reply.error(NO_IDENTITY)]
    reason = request.access.refusal(role) or _channel_refusal(request)
    return [Reply.error(reason)] if reason else None


def _channel_refusal(request: Request) -> str | None:
    places = request.reminder_channels
    if not places or request.channel in places:
        return None
    listed = ", ".join(f"<#{channel}>" for channel in places[:LISTED_CHANNELS])
    more = f" and {len(places) - LISTED_CHANNELS} more" if len(places) > LISTED_CHANNELS else ""
    return f"Ledger data stays in the channels LEDGER_CHANNELS lists ({listed}{more}); nothing was done here."
