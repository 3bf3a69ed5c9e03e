"""`/ledger`: the report summary, a partner's ledger, the report as CSV or printed ledgers, and its buttons."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from commands import ledger_views as views
from commands.context import Request
from commands.grammar_ledger import LedgerReport, PartnerLedgerCommand
from commands.reply import Reply
from domain import keap_state
from domain.dates import DateError, DateRange, parse_date
from domain.ledger import UnknownPartner, find_partner, ledger_report, partner_ledger
from domain.models import Partner

PARTNER_EXAMPLE = "/ledger 2015-06 partner ANN"


def report(request: Request, command: LedgerReport) -> list[Reply]:
    if command.file == "pdf":
        return _printed(request, command.period, include_all=command.include_all, paper=command.paper)
    with request.db.read() as session:
        found = ledger_report(session, command.period, include_all=command.include_all)
        synced = keap_state.last_success(session)
    if command.file == "csv":
        return [views.csv_reply(found)]
    return [views.with_sync_time(views.summary_reply(found, command.include_all), synced, request.settings.timezone)]


def partner(request: Request, command: PartnerLedgerCommand) -> list[Reply]:
    """Unknown codes are answered privately; the ledger itself goes where the command came from."""
    if command.file == "pdf":
        return _printed(request, command.period, code=command.code, paper=command.paper)
    try:
        with request.db.read() as session:
            ledger = partner_ledger(session, command.code, command.period)
    except UnknownPartner as unknown:
        return [_unknown_partner(request, unknown, command.period)]
    return [views.partner_reply(ledger, attach_csv=command.file == "csv")]


def _unknown_partner(request: Request, unknown: UnknownPartner, period: DateRange) -> Reply:
    """Codes are exact; a code typed in the wrong case is the usual slip, so the right one is suggested."""
    with request.db.read() as session:
        near = session.scalars(
            select(Partner.code).where(func.lower(Partner.code) == unknown.code.lower()).order_by(Partner.code).limit(1)
        ).first()
    if near is None:
        return Reply.error(str(unknown), PARTNER_EXAMPLE)
    return Reply.error(f"{unknown} (did you mean {near}?)", f"/ledger {period} partner {near}")


def _printed(request: Request, period: DateRange, *, code: str | None = None, include_all: bool = False,
             paper: str = "letter") -> list[Reply]:
    from commands.printing import report_ledgers_pdf  # reportlab and its fonts load only when printing

    try:
        with request.db.read() as session:
            codes = [find_partner(session, code).code] if code is not None else None
            found = ledger_report(session, period, include_all=include_all, partner_codes=codes)
            if not found.rows:
                return [views.empty_report(period)]
            out = io.BytesIO()
            pages = report_ledgers_pdf(session, found, out, organisation=request.settings.organisation, paper=paper)
    except UnknownPartner as unknown:
        return [_unknown_partner(request, unknown, period)]
    return [views.pdf_reply(period, len(found.rows), pages, out.getvalue())]


def handle_action(action: str, value: str, request: Request) -> list[Reply]:
    """The CSV and PDF buttons of a report summary; the value is the report's range, then `all` if asked for."""
    bounds, _, listing = value.partition(" ")
    start, _, end = bounds.partition("..")
    try:
        period = DateRange(parse_date(start), parse_date(end))
    except DateError as exc:
        return [Reply.error(f"this button carries no valid range: {exc}")]
    include_all = listing == views.ALL_PARTNERS
    if action == views.CSV_ACTION:
        return report(request, LedgerReport(period, "csv", include_all))
    if action == views.PDF_ACTION:
        return report(request, LedgerReport(period, "pdf", include_all))
    return [Reply.error(f"unknown ledger action '{action}'")]
