"""`/ledger`: the report for a range, one partner's ledger, the report as a file, and help (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.grammar_tokens import UsageError, resolve_range, split_options, words
from domain.dates import DateRange

REPORT_EXAMPLE = "/ledger 2015-06"
PARTNER_EXAMPLE = "/ledger 2015-06 partner ANN"
FILE_EXAMPLE = "/ledger last-month csv"
FILES = ("csv", "pdf", "chart")  # chart: the picture of SPEC §13, a PNG
PAPERS = ("letter", "a4")


@dataclass(frozen=True)
class LedgerHelp:
    pass


@dataclass(frozen=True)
class LedgerReportCommand:
    """The report summary, or with `file` the report attached as CSV, printed ledgers (PDF) or a chart (PNG)."""

    period: DateRange
    file: str | None = None
    include_all: bool = False
    paper: str = "letter"


@dataclass(frozen=True)
class PartnerLedgerCommand:
    period: DateRange
    code: str
    file: str | None = None
    paper: str = "letter"


LedgerCommand = LedgerHelp | LedgerReportCommand | PartnerLedgerCommand


def parse_ledger(text: str, today: date) -> LedgerCommand:
    tokens = words(text, REPORT_EXAMPLE)
    if not tokens:
        raise UsageError("say which range the report is for", REPORT_EXAMPLE)
    if tokens[0].lower() == "help":
        if len(tokens) > 1:
            raise UsageError("help takes nothing after it", "/ledger help")
        return LedgerHelp()
    period = resolve_range(tokens[0], today, REPORT_EXAMPLE)
    plain, options = split_options(tokens[1:], ("paper",), FILE_EXAMPLE)
    paper = _paper(options.get("paper", "letter"))
    code, file, include_all = _report_words(plain)
    if code is not None:
        if include_all:
            raise UsageError("'all' lists every partner; it does not go with partner CODE", PARTNER_EXAMPLE)
        if file == "chart":
            raise UsageError("a chart is of the whole ledger; it does not go with partner CODE", "/ledger 2015 chart")
        return PartnerLedgerCommand(period, code, file, paper)
    return LedgerReportCommand(period, file, include_all, paper)


def _paper(value: str) -> str:
    paper = value.lower()
    if paper not in PAPERS:
        raise UsageError(f"paper '{value}' is not one of: {', '.join(PAPERS)}", "/ledger 2015-06 pdf paper=a4")
    return paper


def _report_words(plain: list[str]) -> tuple[str | None, str | None, bool]:
    """What follows the range: `partner CODE`, `csv`, `pdf` or `chart`, `all`, each at most once."""
    code: str | None = None
    file: str | None = None
    include_all = False
    remaining = list(plain)
    while remaining:
        word = remaining.pop(0)
        lowered = word.lower()
        if lowered == "partner" and code is None:
            if not remaining:
                raise UsageError("partner needs a partner code after it", PARTNER_EXAMPLE)
            code = remaining.pop(0)
        elif lowered in FILES and file is None:
            file = lowered
        elif lowered == "all" and not include_all:
            include_all = True
        else:
            raise UsageError(f"'{word}' is not understood here (after the range: partner CODE, csv, pdf, chart or all)",
                             REPORT_EXAMPLE)
    return code, file, include_all
