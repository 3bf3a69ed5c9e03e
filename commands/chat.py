"""The one door every transport uses: command text, button clicks and form submissions in, replies out.

Slack and the terminal shell call only these three functions, so both speak exactly the same
grammar and get the same answers. Bad input comes back as a private error reply, never an exception.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from commands import chat_payout_views, gate, ledger_handlers, ledger_views, payout_handlers
from commands.chat_help import ledger_help, payout_help
from commands.context import Request
from commands.grammar import Command, UsageError, parse_command
from commands.grammar_ledger import LedgerHelp, LedgerReportCommand, PartnerLedgerCommand
from commands.grammar_payout import PayoutFail, PayoutHelp, PayoutList, PayoutRange, PayoutStatus, PayoutVoid
from commands.grammar_remind import RemindAdd, RemindList, RemindRemove
from commands.reply import Reply
from domain.batches import BatchError
from domain.roles import Role

if TYPE_CHECKING:
    from commands.use_home import HomePage

LEDGER_ACTIONS = (ledger_views.CSV_ACTION, ledger_views.PDF_ACTION, ledger_views.CHART_ACTION)
SLOW_ACTIONS = (*LEDGER_ACTIONS, chat_payout_views.PRINT, chat_payout_views.FILES)  # they build files: a transport runs them off its quick path


def run_command(command: str, text: str, request: Request) -> list[Reply]:
    """command is "ledger" or "payout" (a leading "/" is accepted); text is what follows it.

    Someone who may not even view is refused before the text is read; then the command's own role."""
    if refused := gate.refusal(request, Role.VIEWER):
        return refused
    try:
        parsed = parse_command(command, text, request.settings)
    except UsageError as usage:
        return [Reply.error(usage.message, usage.example)]
    if refused := gate.refusal(request, gate.role_for_command(parsed)):
        return refused
    try:
        return _dispatch(parsed, request)
    except (BatchError, LookupError, ValueError) as refused:
        return [Reply.error(str(refused))]


def _dispatch(command: Command, request: Request) -> list[Reply]:
    match command:
        case LedgerHelp():
            return [ledger_help()]
        case LedgerReportCommand():
            return ledger_handlers.report(request, command)
        case PartnerLedgerCommand():
            return ledger_handlers.partner(request, command)
        case PayoutHelp():
            return [payout_help(request.settings)]
        case PayoutList():
            return payout_handlers.list_batches(request)
        case PayoutStatus(batch_id=batch_id):
            return payout_handlers.status(request, batch_id)
        case PayoutVoid(batch_id=batch_id, reason=reason):
            return payout_handlers.void(request, batch_id, reason)
        case PayoutFail(batch_id=batch_id, partner_code=partner_code, reason=reason):
            return payout_handlers.fail(request, batch_id, partner_code, reason)
        case PayoutRange():
            return _payout_range(command, request)
    return _remind(command, request)


def _payout_range(command: PayoutRange, request: Request) -> list[Reply]:
    """Every choice given: straight to the preview. Otherwise the form, with the given choices filled in."""
    if command.complete:
        return payout_handlers.preview(request, command.options())
    given = {
        "method": command.method, "type": command.payment_type, "batch": command.batch_id,
        "date": command.payment_date.isoformat() if command.payment_date else None, "min": command.minimum,
        "overlap": "allow" if command.allow_overlap else None,
        "partners": ",".join(command.partners) or None,
    }
    replies = payout_handlers.start_form(request, command.period)
    return [_prefilled(reply, given) for reply in replies]


def _prefilled(reply: Reply, given: dict[str, str | None]) -> Reply:
    if reply.form is None:
        return reply
    fields = tuple(
        replace(field, default=given[field.name]) if given.get(field.name) is not None else field
        for field in reply.form.fields
    )
    return replace(reply, form=replace(reply.form, fields=fields))


def _remind(command: Command, request: Request) -> list[Reply]:
    from commands import reminder_handlers  # reminder schedules live in their own module

    match command:
        case RemindAdd():
            return reminder_handlers.add_schedule(
                request, frequency=command.frequency, day=command.day, at_time=command.at_time,
                channel=command.channel, range_expression=command.range_expression,
            )
        case RemindList():
            return reminder_handlers.list_schedules(request)
        case RemindRemove(schedule_id=schedule_id):
            return reminder_handlers.remove_schedule(request, schedule_id)
    raise TypeError(f"no handler for {command!r}")


def run_action(action: str, value: str, request: Request) -> list[Reply]:
    """Every button: the ledger's CSV and PDF buttons here, the payout buttons in payout_handlers."""
    if refused := gate.refusal(request, gate.role_for_action(action)):
        return refused
    if action in LEDGER_ACTIONS:
        return ledger_handlers.handle_action(action, value, request)
    try:
        return payout_handlers.handle_action(action, value, request)
    except (ValueError, LookupError) as refused:
        return [Reply.error(str(refused))]


def run_home(request: Request) -> HomePage:
    """App Home for the person asking: nothing is read for someone without a role, who is told
    which role to ask for."""
    from commands import use_home  # Home's figures load only when a Home is published

    role = gate.home_role(request)
    if role is None:
        refused = gate.refusal(request, Role.VIEWER)
        return use_home.HomePage(None, refusal=refused[0].headline if refused else None)
    return use_home.HomePage(role, use_home.figures(request))


def run_form(action: str, values: dict[str, str], context: str, request: Request) -> list[Reply]:
    """A submitted form (payout.request, payout.fail_form); raises commands.reply.FormErrors for bad values."""
    if refused := gate.refusal(request, gate.role_for_action(action)):
        return refused
    if action not in chat_payout_views.FORMS:
        return [Reply.error(f"unknown form '{action}'")]
    return payout_handlers.handle_form(action, values, context, request)
