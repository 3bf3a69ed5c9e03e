"""`/ledger` in chat: the report summary, a partner's ledger, the report as CSV, printed ledgers or a chart, and its buttons."""

from __future__ import annotations

import io

from commands import ledger_views as views
from commands import use_ledger
from commands.context import Request
from commands.grammar_ledger import LedgerReportCommand, PartnerLedgerCommand
from commands.reply import Reply
from commands.use_ledger import UnknownPartner
from domain.dates import DateError, DateRange

PARTNER_EXAMPLE = "/ledger 2015-06 partner ANN"


def report(request: Request, command: LedgerReportCommand) -> list[Reply]:
    if command.file == "pdf":
        return _printed(request, command.period, include_all=command.include_all, paper=command.paper)
    if command.file == "chart":
        return [views.chart_reply(command.period, use_ledger.chart(request, command.period))]
    found = use_ledger.report(request, command.period, include_all=command.include_all)
    if command.file == "csv":
        return [views.csv_reply(found)]
    synced = use_ledger.keap_synced_at(request)
    return [views.with_sync_time(views.summary_reply(found, command.include_all), synced, request.settings.timezone)]


def partner(request: Request, command: PartnerLedgerCommand) -> list[Reply]:
    """Unknown codes are answered privately; the ledger itself goes where the command came from."""
    if command.file == "pdf":
        return _printed(request, command.period, code=command.code, paper=command.paper)
    try:
        ledger = use_ledger.partner_ledger(request, command.code, command.period)
    except UnknownPartner as unknown:
        return [_unknown_partner(request, unknown, command.period)]
    return [views.partner_reply(ledger, attach_csv=command.file == "csv")]


def _unknown_partner(request: Request, unknown: UnknownPartner, period: DateRange) -> Reply:
    """Codes are exact; a code typed in the wrong case is the usual slip, so the right one is suggested."""
    near = use_ledger.near_code(request, unknown.code)
    if near is None:
        return Reply.error(str(unknown), PARTNER_EXAMPLE)
    return Reply.error(f"{unknown} (did you mean {near}?)", f"/ledger {period} partner {near}")


def _printed(request: Request, period: DateRange, *, code: str | None = None, include_all: bool = False,
             paper: str = "letter") -> list[Reply]:
    out = io.BytesIO()
    try:
        printed = use_ledger.print_ledgers(request, period, out, code=code, include_all=include_all, paper=paper,
                                           when_empty=False)
    except UnknownPartner as unknown:
        return [_unknown_partner(request, unknown, period)]
    if not printed.partners:
        return [views.empty_report(period)]
    return [views.pdf_reply(period, printed.partners, printed.pages, out.getvalue())]


def handle_action(action: str, value: str, request: Request) -> list[Reply]:
    """The CSV, PDF and Chart buttons of a report summary; the value is the report's range, then `all` if asked for."""
    bounds, _, listing = value.partition(" ")
    try:
        period = DateRange.parse(bounds)
    except DateError as exc:
        return [Reply.error(f"this button carries no valid range: {exc}")]
    include_all = listing == views.ALL_PARTNERS
    if action == views.CSV_ACTION:
        return report(request, LedgerReportCommand(period, "csv", include_all))
    if action == views.PDF_ACTION:
        return report(request, LedgerReportCommand(period, "pdf", include_all))
    if action == views.CHART_ACTION:
        return report(request, LedgerReportCommand(period, "chart"))
    return [Reply.error(f"unknown ledger action '{action}'")]
