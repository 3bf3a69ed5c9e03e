"""Replies about the ledger: the report summary, a partner's ledger, and the files that carry all of it.

A message stays short whatever the program's size: at most `TOP_PARTNERS` report rows or
`LATEST_ENTRIES` ledger lines; the attached CSV carries everything.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime

from commands import chat_payout_views
from commands.csv_safety import safe_text, write_rows
from commands.ledger_files import write_ledger_csv
from commands.ranking import largest_per_currency
from commands.reply import Attachment, Button, Figure, Reply, Style, Table
from commands.use_ledger import Chart
from domain.dates import DateRange, zone
from domain.kinds import CLAWBACK, COMMISSION, PAYMENT
from domain.ledger_data import CurrencyTotals, LedgerLine, LedgerReport, LedgerRow, PartnerLedger
from domain.money import format_display, format_plain

CSV_ACTION = "ledger.csv"
PDF_ACTION = "ledger.pdf"
CHART_ACTION = "ledger.chart"
ALL_PARTNERS = "all"
TOP_PARTNERS = 10
LATEST_ENTRIES = 12
ATTACH_CSV_FROM = 100  # a report this long comes with its CSV, since the message shows only the top rows
_REPORT_COLUMNS = ("Code", "Partner", "Beginning", "Commissions", "Clawbacks", "Payments", "Ending")
_PARTNER_COLUMNS = ("Date", "Kind", "Reference", "Description", "Amount", "Balance")
_PARTNER_CSV_HEADER = ("date", "kind", "reference", "description", "amount", "balance", "batch_id")


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "partner"


def report_file_name(period: DateRange, extension: str, stem: str = "referral-ledger") -> str:
    return f"{stem}-{period.start}-to-{period.end}.{extension}"


def _money_cells(item: LedgerRow | CurrencyTotals, currency: str) -> tuple[str, ...]:
    return tuple(format_display(value, currency) for value in (
        item.beginning_balance, item.commissions, item.clawbacks, item.payments, item.ending_balance))


def report_totals_figures(report: LedgerReport) -> list[Figure]:
    """One figure per currency: the currencies are never added together."""
    figures = []
    for total in report.totals:
        begin, earned, clawed, paid, ending = _money_cells(total, total.currency)
        held = (f"; on hold {format_display(total.on_hold, total.currency)}, "
                f"payable {format_display(total.payable, total.currency)}" if report.holds else "")
        figures.append(Figure(
            f"Total {total.currency} ({total.partners} partner(s))",
            f"ending {ending} = beginning {begin} + commissions {earned} − clawbacks {clawed} − payments {paid}{held}",
        ))
    return figures


def _held_cells(row: LedgerRow, holds: bool) -> tuple[str, ...]:
    if not holds:
        return ()
    return format_display(row.on_hold, row.currency), format_display(row.payable, row.currency)


def top_partners_table(report: LedgerReport, limit: int = TOP_PARTNERS) -> Table:
    """The partners owed the most in each currency (a yen is never ranked against a euro)."""
    ranked = largest_per_currency(report.rows, amount=lambda row: row.ending_balance,
                                  currency=lambda row: row.currency, limit=limit)
    rows = tuple((row.partner_code, row.partner_name, *_money_cells(row, row.currency),
                  *_held_cells(row, report.holds)) for row in ranked)
    shown = len(rows)
    per_currency = " in each currency" if len(report.totals) > 1 else ""
    caption = f"Top {shown} of {len(report.rows)} partner(s) by ending balance{per_currency}"
    if len(report.rows) > shown:
        caption += "; the CSV lists them all"
    columns = _REPORT_COLUMNS + (("On hold", "Payable") if report.holds else ())
    return Table(columns, rows, (False, False) + (True,) * (len(columns) - 2), caption)


def report_buttons(period: DateRange, include_all: bool = False) -> list[Button]:
    """The file buttons carry `all` when the summary listed every partner, so the files list them too.
    Chart comes last, so the shell's numbers for the others stay as they were."""
    files_value = f"{period} {ALL_PARTNERS}" if include_all else str(period)
    return [
        Button("CSV", CSV_ACTION, files_value),
        Button("PDF", PDF_ACTION, files_value),
        Button("Create payments…", chat_payout_views.START, str(period), Style.PRIMARY),
        Button("Chart", CHART_ACTION, str(period)),
    ]


def report_csv(report: LedgerReport) -> Attachment:
    handle = io.StringIO()
    write_ledger_csv(report, handle)
    return Attachment(report_file_name(report.range, "csv"), handle.getvalue().encode("utf-8"), "text/csv",
                      f"Referral partner ledger {report.range}")


def empty_report(period: DateRange) -> Reply:
    return Reply(f"No partner has any activity or balance in {period}.")


def summary_reply(report: LedgerReport, include_all: bool = False) -> Reply:
    if not report.rows:
        return empty_report(report.range)
    files = [report_csv(report)] if len(report.rows) >= ATTACH_CSV_FROM else []
    return Reply(
        f"Referral partner ledger {report.range}: {len(report.rows)} partner(s)",
        figures=[Figure("Range", str(report.range)), Figure("Partners", str(len(report.rows)))]
        + report_totals_figures(report),
        table=top_partners_table(report), buttons=report_buttons(report.range, include_all), files=files,
    )


def with_sync_time(reply: Reply, synced: datetime | None, timezone: str) -> Reply:
    """A summary says how fresh the data from Keap is, once a sync has succeeded (SPEC §11)."""
    if synced is None:
        return reply
    shown = synced.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")
    return replace(reply, figures=[*reply.figures, Figure("Keap data as of", f"{shown} {timezone}")])


def csv_reply(report: LedgerReport) -> Reply:
    if not report.rows:
        return empty_report(report.range)
    return Reply(f"Referral partner ledger {report.range}: {len(report.rows)} partner(s), attached as CSV",
                 figures=report_totals_figures(report), files=[report_csv(report)])


def pdf_reply(period: DateRange, partners: int, pages: int, content: bytes) -> Reply:
    name = report_file_name(period, "pdf", stem="referral-ledgers")
    return Reply(f"Printed ledgers {period}: {partners} partner(s), {pages} page(s)",
                 files=[Attachment(name, content, "application/pdf", f"Partner ledgers {period}")])


def chart_reply(period: DateRange, chart: Chart | None) -> Reply:
    """The chart as a PNG file, named by its range like the report's other files."""
    if chart is None:
        return Reply(f"No ledger entries in {period}; there is nothing to chart.")
    return Reply(f"Referral ledger chart {period}: {chart.months} month(s), {chart.currencies} currenc"
                 f"{'y' if chart.currencies == 1 else 'ies'}",
                 files=[Attachment(report_file_name(period, "png", stem="referral-ledger-chart"), chart.png,
                                   "image/png", f"Referral ledger chart {period}")])


def partner_figures(ledger: PartnerLedger) -> list[Figure]:
    cur = ledger.currency
    return [
        Figure("Beginning balance", format_display(ledger.beginning_balance, cur)),
        Figure("Commissions", format_display(ledger.total(COMMISSION), cur)),
        Figure("Clawbacks", format_display(ledger.total(CLAWBACK), cur)),
        Figure("Payments", format_display(ledger.total(PAYMENT), cur)),
        Figure("Ending balance", format_display(ledger.ending_balance, cur)),
    ] + ([Figure("On hold", format_display(ledger.on_hold, cur)), Figure("Payable", format_display(ledger.payable, cur))]
         if ledger.holds else [])


def partner_csv(ledger: PartnerLedger) -> Attachment:
    """Every line of the partner's ledger, between its beginning and ending balances."""
    cur = ledger.currency
    extra = [""] if ledger.holds else []
    rows = [[ledger.range.start.isoformat(), "beginning balance", "", "", "",
             format_plain(ledger.beginning_balance, cur), "", *extra]]
    rows += [
        [line.date.isoformat(), line.kind, safe_text(line.reference), safe_text(line.description),
         format_plain(line.amount, cur), format_plain(line.balance, cur), line.batch_id or ""]
        + ([line.payable_on.isoformat() if line.payable_on else ""] if ledger.holds else [])
        for line in ledger.lines
    ]
    rows.append([ledger.range.end.isoformat(), "ending balance", "", "", "", format_plain(ledger.ending_balance, cur), "",
                 *extra])
    if ledger.holds:
        end = ledger.range.end.isoformat()
        rows.append([end, "on hold", "", "", "", format_plain(ledger.on_hold, cur), "", ""])
        rows.append([end, "payable", "", "", "", format_plain(ledger.payable, cur), "", ""])
    handle = io.StringIO()
    write_rows(handle, _PARTNER_CSV_HEADER + (("payable_on",) if ledger.holds else ()), rows)
    name = f"ledger-{_file_part(ledger.partner_code)}-{ledger.range.start}-to-{ledger.range.end}.csv"
    return Attachment(name, handle.getvalue().encode("utf-8"), "text/csv",
                      f"{ledger.partner_name} ({ledger.partner_code}) {ledger.range}")


def _described(line: LedgerLine) -> str:
    """A commission still on hold says when it becomes payable (SPEC §12)."""
    if line.payable_on is None:
        return line.description
    held = f"on hold, payable {line.payable_on}"
    return f"{line.description} ({held})" if line.description else held


def partner_table(ledger: PartnerLedger, limit: int = LATEST_ENTRIES) -> Table:
    cur = ledger.currency
    shown = ledger.lines[-limit:]
    rows = tuple(
        (line.date.isoformat(), line.kind, line.reference, _described(line),
         format_display(line.amount, cur), format_display(line.balance, cur))
        for line in shown
    )
    if not ledger.lines:
        caption = "No entries in this range"
    elif len(ledger.lines) > len(shown):
        caption = f"Latest {len(shown)} of {len(ledger.lines)} entries; the attached CSV has them all"
    else:
        caption = f"{len(ledger.lines)} entr{'y' if len(ledger.lines) == 1 else 'ies'}"
    return Table(_PARTNER_COLUMNS, rows, (False,) * 4 + (True, True), caption)


def partner_reply(ledger: PartnerLedger, *, attach_csv: bool = False) -> Reply:
    long_ledger = len(ledger.lines) > LATEST_ENTRIES
    return Reply(
        f"{ledger.partner_name} ({ledger.partner_code}): ledger {ledger.range}, {ledger.currency}",
        figures=partner_figures(ledger), table=partner_table(ledger),
        files=[partner_csv(ledger)] if attach_csv or long_ledger else [],
    )
