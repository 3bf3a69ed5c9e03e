"""The ledger report read through the database's driver alone (domain.direct_read): the rows of
use_ledger.streamed_report, for a command that writes the report and nothing else, without
loading SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager

from domain.dates import DateRange
from domain.direct_read import Unavailable, direct_read
from domain.ledger_data import LedgerRows
from domain.report_sql import partner_holds, report_holds, report_rows, report_statement
from domain.settings import Settings

__all__ = ["Unavailable", "streamed_report"]


@contextmanager
def streamed_report(url: str, settings: Settings, period: DateRange, *, include_all: bool = False,
                    with_email: bool = True) -> Iterator[LedgerRows]:
    """The report's rows as the database returns them, within the `with` block only; Unavailable,
    before anything is read, where the engine must read the database. Rows left unread (a reader
    that stopped, a closed pipe) are let go while the database is still open."""
    with direct_read(url) as read:
        holds = report_holds(partner_holds(read.driver), settings.hold_days)
        statement = report_statement(read.dialect, period, include_all=include_all, holds=holds,
                                     with_email=with_email)
        with closing(report_rows(read.driver, statement)) as rows:  # its cursor closed before the connection
            yield LedgerRows(period, holds is not None, rows)
