"""Printed partner ledgers (SPEC §7): one page group per partner, to go in the envelope.

Each partner's pages are numbered "Page N of M" within that partner's group, because the group is
what is folded into one envelope. Every row has the same height and long text is cut to its
column, so a partner's page count is known from its number of entries before anything is drawn:
no second pass, and a partner's pages are drawn as soon as its ledger arrives. Ledgers come from
an iterator (domain.ledger.iter_partner_ledgers reads them in chunks) and each is dropped once
drawn. reportlab keeps every page of a Canvas in memory until it saves, so pages are drawn a part
of PART_PAGES at a time, each part saved and copied into the output at once (commands.pdf_joining):
memory holds one part, however many partners the report has. A page group may run across two
parts; its numbering was fixed before its first page was drawn.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from commands.pdf_fonts import FontFamily, PageText, Points, family
from commands.pdf_joining import PdfJoiner, joined_pdf
from domain.kinds import CLAWBACK, COMMISSION, PAYMENT
from domain.ledger_data import LedgerLine, PartnerLedger
from domain.money import format_display

PAPER_SIZES: dict[str, tuple[Points, Points]] = {"letter": LETTER, "a4": A4}

MARGIN = 50.0
ROW = 14.0
BODY = 9.0
SMALL = 7.5
BLACK = (0.0, 0.0, 0.0)
GREY = (0.35, 0.35, 0.35)
SHADE = (0.93, 0.93, 0.93)
FIRST_HEADER = 150.0  # organisation, partner, code and e-mail, range, beginning balance
STAMP_HEIGHT = 48.0  # the batch box under the first page's header, and the gap above it
LATER_HEADER = 58.0  # organisation, partner (continued), range
TABLE_HEAD = 20.0
FOOTER = 30.0
SUMMARY_ROWS = 5  # a rule, commissions, clawbacks, payments, ending balance
HOLD_ROWS = 2  # on hold and payable, when a hold is configured (SPEC §12)
# Pages drawn on one Canvas before it is saved and joined to the output. reportlab holds 10 to 20 KB
# a page until it saves, so this bounds memory; each part also embeds its own font subsets (about
# 30 KB for Latin names), which is what a smaller part would cost. Measured in docs/performance.md.
PART_PAGES = 250

KIND_LABELS = {COMMISSION: "Commission", CLAWBACK: "Clawback", PAYMENT: "Payment"}
TOTAL_LABELS = ((COMMISSION, "Commissions"), (CLAWBACK, "Clawbacks"), (PAYMENT, "Payments"))


@dataclass(frozen=True)
class BatchStamp:
    """What a batch paid, printed on each paid partner's ledger so it can go in with the check."""

    batch_id: str
    payment_date: date
    payment_type: str
    amounts: dict[int, tuple[int, str]]  # partner_id -> (amount in minor units, currency)


@dataclass(frozen=True)
class PageSlice:
    """The ledger lines one page shows, and whether the totals close that page."""

    start: int
    stop: int
    totals: bool


def paginate(line_count: int, first_rows: int, later_rows: int, summary_rows: int = SUMMARY_ROWS) -> list[PageSlice]:
    """Split a partner's lines over pages; the totals go on the last page, a page of their own if need be."""
    if summary_rows > later_rows or first_rows < 1:
        raise ValueError("the paper is too small for a ledger page")
    pages: list[PageSlice] = []
    start, capacity = 0, first_rows
    while line_count - start + summary_rows > capacity:
        take = min(capacity, line_count - start)
        pages.append(PageSlice(start, start + take, totals=False))
        start, capacity = start + take, later_rows
    pages.append(PageSlice(start, line_count, totals=True))
    return pages


def paper_size(paper: str) -> tuple[Points, Points]:
    size = PAPER_SIZES.get((paper or "").strip().lower())
    if size is None:
        raise ValueError(f"unknown paper size '{paper}' (one of: {', '.join(PAPER_SIZES)})")
    return size


@dataclass(frozen=True)
class _Columns:
    """Left edges (text columns) and right edges (amount columns) across the page's width."""

    date: Points
    kind: Points
    reference: Points
    description: Points
    description_width: Points
    amount_right: Points
    balance_right: Points

    @classmethod
    def across(cls, width: Points) -> _Columns:
        left, right = MARGIN, width - MARGIN
        balance_right = right
        amount_right = right - 88
        description = left + 62 + 72 + 92
        return cls(left, left + 62, left + 62 + 72, description, amount_right - 84 - description, amount_right,
                   balance_right)


class _Parts:
    """The Canvas pages are drawn on; every PART_PAGES pages it is saved, joined to the output and replaced."""

    def __init__(self, joiner: PdfJoiner, size: tuple[Points, Points], title: str, author: str) -> None:
        self.joiner = joiner
        self.size = size
        self.title = title
        self.author = author
        self.canvas = self._new_canvas()

    def _new_canvas(self) -> Canvas:
        self.buffer = io.BytesIO()
        self.pages = 0
        canvas = Canvas(self.buffer, pagesize=self.size, pageCompression=1, initialFontName=family().register())
        canvas.setTitle(self.title)
        canvas.setAuthor(self.author)
        return canvas

    def end_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1
        if self.pages >= PART_PAGES:
            self._join()
            self.canvas = self._new_canvas()

    def _join(self) -> None:
        self.canvas.save()
        self.joiner.add(self.buffer.getvalue())

    def finish(self) -> None:
        if self.pages:
            self._join()


class _LedgerPrinter:
    """Draws partner page groups, part after part."""

    def __init__(self, parts: _Parts, organisation: str, stamp: BatchStamp | None):
        self.parts = parts
        self.width, self.height = parts.size
        self.organisation = organisation
        self.stamp = stamp
        self.columns = _Columns.across(self.width)
        self.regular: FontFamily = family()
        self.bold: FontFamily = family(bold=True)
        table_bottom = MARGIN + FOOTER
        first_top = self.height - MARGIN - FIRST_HEADER - (STAMP_HEIGHT if stamp else 0) - TABLE_HEAD
        later_top = self.height - MARGIN - LATER_HEADER - TABLE_HEAD
        self.first_rows = int((first_top - table_bottom) // ROW)
        self.later_rows = int((later_top - table_bottom) // ROW)
        self.pages = 0
        self.page = PageText(self.canvas)

    @property
    def canvas(self) -> Canvas:
        return self.parts.canvas

    def print_ledger(self, ledger: PartnerLedger) -> None:
        summary = SUMMARY_ROWS + (HOLD_ROWS if ledger.holds else 0)
        slices = paginate(len(ledger.lines), self.first_rows, self.later_rows, summary)
        for number, page in enumerate(slices, start=1):
            self.page = PageText(self.canvas)
            y = self._first_header(ledger) if number == 1 else self._later_header(ledger)
            y = self._table_head(y)
            for line in ledger.lines[page.start : page.stop]:
                y = self._row(y, line, ledger.currency)
            if page.totals:
                self._totals(y, ledger)
            self._footer(ledger, number, len(slices))
            self._end_page()

    def print_nothing(self) -> None:
        self.page = PageText(self.canvas)
        self._text(MARGIN, self.height - MARGIN - 15, self.organisation, 15, bold=True)
        self._text(MARGIN, self.height - MARGIN - 40, "No partner ledger to print.", BODY + 2)
        self._end_page()

    def _end_page(self) -> None:
        self.page.finish()
        self.parts.end_page()
        self.pages += 1

    def _text(self, x: Points, y: Points, text: str, size: Points = BODY, *, bold: bool = False,
              align: str = "left", grey: bool = False) -> None:
        self.page.write(self.bold if bold else self.regular, x, y, text, size, align=align,
                        colour=GREY if grey else BLACK)

    def _first_header(self, ledger: PartnerLedger) -> Points:
        right = self.width - MARGIN
        y = self.height - MARGIN - 15
        self._text(MARGIN, y, self.bold.fit(self.organisation, 15, self.width - 2 * MARGIN - 140), 15, bold=True)
        self._text(right, y, "Referral partner ledger", BODY, align="right", grey=True)
        y -= 30
        self._text(MARGIN, y, self.bold.fit(ledger.partner_name, 13, self.width - 2 * MARGIN), 13, bold=True)
        y -= 18
        self._text(MARGIN, y, self.regular.fit(_identity(ledger), BODY, self.width - 2 * MARGIN))
        y -= ROW
        self._text(MARGIN, y, f"Range: {ledger.range.start.isoformat()} to {ledger.range.end.isoformat()}")
        y -= ROW
        self._text(MARGIN, y, f"Currency: {ledger.currency}")
        if self.stamp is not None:
            self._stamp(y, self.stamp, ledger)
            y -= STAMP_HEIGHT
        y -= 28
        self._text(MARGIN, y, f"Beginning balance (before {ledger.range.start.isoformat()})", bold=True)
        self._text(self.columns.balance_right, y, format_display(ledger.beginning_balance, ledger.currency),
                   bold=True, align="right")
        return y - 14

    def _stamp(self, top: Points, stamp: BatchStamp, ledger: PartnerLedger) -> None:
        self.canvas.setFillColorRGB(*SHADE)
        self.canvas.rect(MARGIN, top - STAMP_HEIGHT, self.width - 2 * MARGIN, STAMP_HEIGHT - 12, stroke=0, fill=1)
        details = (f"{_batch_label(stamp.batch_id)}   ·   Payment date {stamp.payment_date.isoformat()}   ·   "
                   f"Payment type {stamp.payment_type}")
        self._text(MARGIN + 8, top - 26, self.regular.fit(details, BODY, self.width - 2 * MARGIN - 16))
        paid = stamp.amounts.get(ledger.partner_id)
        outcome = f"Amount paid: {format_display(*paid)}" if paid is not None else "Not paid in this batch"
        self._text(MARGIN + 8, top - 40, outcome, bold=True)

    def _later_header(self, ledger: PartnerLedger) -> Points:
        y = self.height - MARGIN - 10
        self._text(MARGIN, y, self.regular.fit(self.organisation, BODY, self.width - 2 * MARGIN), grey=True)
        y -= 20
        title = self.bold.fit(f"{ledger.partner_name} ({ledger.partner_code})", 11, self.width - 2 * MARGIN - 80)
        self._text(MARGIN, y, title, 11, bold=True)
        self._text(self.width - MARGIN, y, "continued", BODY, align="right", grey=True)
        y -= ROW
        self._text(MARGIN, y, f"Range: {ledger.range.start.isoformat()} to {ledger.range.end.isoformat()}")
        return self.height - MARGIN - LATER_HEADER

    def _table_head(self, y: Points) -> Points:
        columns = self.columns
        y -= 12
        for x, label in ((columns.date, "Date"), (columns.kind, "Kind"), (columns.reference, "Reference"),
                         (columns.description, "Description")):
            self._text(x, y, label, SMALL + 0.5, bold=True)
        self._text(columns.amount_right, y, "Amount", SMALL + 0.5, bold=True, align="right")
        self._text(columns.balance_right, y, "Balance", SMALL + 0.5, bold=True, align="right")
        self.canvas.setLineWidth(0.6)
        self.canvas.line(MARGIN, y - 5, self.width - MARGIN, y - 5)
        return y - 5 - ROW + 2

    def _row(self, y: Points, line: LedgerLine, currency: str) -> Points:
        columns = self.columns
        regular = self.regular
        self._text(columns.date, y, line.date.isoformat())
        self._text(columns.kind, y, _kind_label(line))
        self._text(columns.reference, y, regular.fit(line.reference, BODY, columns.description - columns.reference - 6))
        self._text(columns.description, y, regular.fit(_description(line), BODY, columns.description_width))
        self._text(columns.amount_right, y, format_display(line.amount, currency), align="right")
        self._text(columns.balance_right, y, format_display(line.balance, currency), align="right")
        return y - ROW

    def _totals(self, y: Points, ledger: PartnerLedger) -> None:
        columns = self.columns
        y += ROW - 5
        self.canvas.setLineWidth(0.6)
        self.canvas.line(MARGIN, y, self.width - MARGIN, y)
        y -= ROW
        for kind, label in TOTAL_LABELS:
            self._text(columns.description, y, f"{label} in range")
            self._text(columns.balance_right, y, format_display(ledger.total(kind), ledger.currency), align="right")
            y -= ROW
        self._text(columns.description, y, f"Ending balance ({ledger.range.end.isoformat()})", bold=True)
        self._text(columns.balance_right, y, format_display(ledger.ending_balance, ledger.currency), bold=True,
                   align="right")
        if ledger.holds:
            for label, value in (("On hold (not yet payable)", ledger.on_hold), ("Payable", ledger.payable)):
                y -= ROW
                self._text(columns.description, y, f"{label} ({ledger.range.end.isoformat()})")
                self._text(columns.balance_right, y, format_display(value, ledger.currency), align="right")

    def _footer(self, ledger: PartnerLedger, number: int, count: int) -> None:
        y = MARGIN
        self.canvas.setLineWidth(0.3)
        self.canvas.line(MARGIN, y + 12, self.width - MARGIN, y + 12)
        label = self.regular.fit(f"{ledger.partner_name} ({ledger.partner_code})", SMALL, self.width - 2 * MARGIN - 90)
        self._text(MARGIN, y, label, SMALL, grey=True)
        self._text(self.width - MARGIN, y, f"Page {number} of {count}", SMALL, align="right")


def _batch_label(batch_id: str) -> str:
    """The batch ID, named as a batch unless it already says so (Batch-20150701, not Batch Batch-20150701)."""
    return batch_id if batch_id.lower().startswith("batch") else f"Batch {batch_id}"


def _identity(ledger: PartnerLedger) -> str:
    email = f"   ·   E-mail: {ledger.email}" if ledger.email else ""
    return f"Code: {ledger.partner_code}{email}"


def _description(line: LedgerLine) -> str:
    """A commission still on hold at the range's end says the day it becomes payable."""
    if line.payable_on is None:
        return line.description
    held = f"payable {line.payable_on.isoformat()}"  # the narrow column keeps the date whole
    return f"{held}: {line.description}" if line.description else held


def _kind_label(line: LedgerLine) -> str:
    """A payment that adds to the balance is the reversal recorded when its batch was voided."""
    if line.kind == PAYMENT and line.amount > 0:
        return "Reversal"
    return KIND_LABELS.get(line.kind, line.kind)


def write_ledgers_pdf(
    ledgers: Iterable[PartnerLedger], out: BinaryIO, *, organisation: str, paper: str,
    stamp: BatchStamp | None = None,
) -> int:
    """Print each partner's ledger as its own page group; return how many pages were written."""
    size = paper_size(paper)
    title = f"{organisation}: partner ledgers" + (f", {stamp.batch_id}" if stamp else "")
    with joined_pdf(out) as joiner:
        parts = _Parts(joiner, size, title, organisation)
        printer = _LedgerPrinter(parts, organisation, stamp)
        for ledger in ledgers:
            printer.print_ledger(ledger)
        if printer.pages == 0:
            printer.print_nothing()
        parts.finish()
    return printer.pages
