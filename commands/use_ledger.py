"""The ledger (SPEC §2, §4, §5, §7, §13): the report, a partner's ledger, the printed ledgers and the chart.

Use-cases take a Request and typed options and return the domain's results; each transport
renders them (chat replies, terminal tables, JSON, CSV). Reading the ledger commits nothing.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy.orm import Session

from commands.context import Request
from domain.dates import DateRange
from domain.ledger import code_in_other_case, find_partner, ledger_report, ledger_rows, monthly_activity
from domain.ledger import partner_ledger as read_partner_ledger
from domain.ledger_data import LedgerReport, LedgerRow, LedgerRows, PartnerLedger, UnknownPartner

__all__ = ["Chart", "LedgerReport", "LedgerRows", "PartnerLedger", "PrintedLedgers", "UnknownPartner", "near_code",
           "partner_ledger", "chart", "print_ledgers", "report", "streamed_report"]


@dataclass(frozen=True)
class PrintedLedgers:
    partners: int
    pages: int  # 0 when nothing was printed


def report(request: Request, period: DateRange, *, include_all: bool = False) -> LedgerReport:
    with request.db.read() as session:
        return ledger_report(session, period, include_all=include_all, hold_days=request.settings.hold_days)


@contextmanager
def streamed_report(request: Request, period: DateRange, *, include_all: bool = False,
                    with_email: bool = True) -> Iterator[LedgerRows]:
    """The report's rows as the database returns them, to write as they come: within the `with`
    block only, where the read stays open. Memory does not grow with the range or the partners.
    With `with_email` False the rows carry no email (the CSV alone shows it)."""
    with request.db.read() as session:
        streamed = ledger_rows(session, period, include_all=include_all, hold_days=request.settings.hold_days,
                               with_email=with_email)
        with closing(streamed.rows):  # type: ignore[type-var]  # rows left unread let go inside the read
            yield streamed


def partner_ledger(request: Request, code: str, period: DateRange) -> PartnerLedger:
    """Raises UnknownPartner for a code that names nobody (codes are exact)."""
    with request.db.read() as session:
        return read_partner_ledger(session, code, period, hold_days=request.settings.hold_days)


def near_code(request: Request, code: str) -> str | None:
    """The code meant by an unknown one typed in the wrong case, to suggest it."""
    with request.db.read() as session:
        return code_in_other_case(session, code)


def print_ledgers(request: Request, period: DateRange, out: BinaryIO, *, code: str | None = None,
                  include_all: bool = False, paper: str = "letter", when_empty: bool = True) -> PrintedLedgers:
    """The report's partners' ledgers (or one partner's) as a PDF written to `out`. With `when_empty`
    False a report with nobody on it writes nothing."""
    from commands.printing import report_ledgers_pdf  # reportlab and its fonts load only when printing

    with request.db.read() as session:
        ids = _printed_partners(session, period, code, include_all, request.settings.hold_days)
        if not ids and not when_empty:
            return PrintedLedgers(0, 0)
        pages = report_ledgers_pdf(session, period, ids, out, organisation=request.settings.organisation,
                                   paper=paper, hold_days=request.settings.hold_days)
    return PrintedLedgers(len(ids), pages)


def _printed_partners(session: Session, period: DateRange, code: str | None, include_all: bool,
                      hold_days: int) -> array[int]:
    """The IDs of the report's partners in report order, the report read as a stream: printing
    100,000 ledgers holds a few bytes a partner, not the report's rows."""
    if code is not None:
        rows: Iterable[LedgerRow] = ledger_report(session, period, partner_codes=[find_partner(session, code).code],
                                                  hold_days=hold_days).rows
    else:
        rows = ledger_rows(session, period, include_all=include_all, hold_days=hold_days, with_email=False).rows
    return array("q", (row.partner_id for row in rows))


def keap_synced_at(request: Request) -> datetime | None:
    """When the last Keap sync succeeded, for "Keap data as of …"; None before any."""
    from domain import keap_state

    with request.db.read() as session:
        return keap_state.last_success(session)


MAX_CHART_MONTHS = 24  # SPEC §13: a chart covers at most two years, so every month stays readable


@dataclass(frozen=True)
class Chart:
    png: bytes
    currencies: int  # panels, one per currency with entries in the range
    months: int


def chart(request: Request, period: DateRange) -> Chart | None:
    """The range's commissions, clawbacks and payments per month as a PNG; None when it has no entries.
    A range over more than MAX_CHART_MONTHS calendar months is refused (ValueError), reading nothing."""
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    if months > MAX_CHART_MONTHS:
        raise ValueError(f"a chart covers at most {MAX_CHART_MONTHS} months; {period} spans {months}. "
                         "Chart a shorter range, such as the last two years.")
    with request.db.read() as session:
        activity = monthly_activity(session, period)
    if not activity:
        return None
    from commands.charts import draw_chart  # matplotlib loads only when a chart is drawn

    return Chart(draw_chart(activity, f"Referral ledger {period}, per month"),
                 len(activity), months)
