"""Files from the terminal: printed ledgers (PDF), the ledger chart (PNG) and a batch's payout files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.cli_usage import UsageProblem
from commands.context import Request
from commands.payout_formats import FORMATS
from domain.dates import DateRange
from domain.money import normalize_currency

if TYPE_CHECKING:
    from commands.payout_files import PayoutFile


def write_ledger_pdf(request: Request, period: DateRange, path: str, *, partner: str | None, include_all: bool,
                     paper: str, said: TextIO = sys.stdout) -> None:
    """Print the ledgers to `path`; one line on `said` names the file, its pages and partners."""
    from commands import use_ledger

    with open(path, "wb") as handle:
        printed = use_ledger.print_ledgers(request, period, handle, code=partner, include_all=include_all, paper=paper)
    print(f"Printed {printed.partners} partner ledger(s), {printed.pages} page(s): {path}", file=said)


def write_ledger_chart(request: Request, period: DateRange, path: str, *, said: TextIO = sys.stdout) -> None:
    """Draw the chart to `path`; a range with no entries writes no file, and says so."""
    from commands import use_ledger

    chart = use_ledger.chart(request, period)
    if chart is None:
        print(f"No ledger entries in {period}; no chart written.", file=said)
        return
    Path(path).write_bytes(chart.png)
    print(f"Charted {chart.months} month(s), {chart.currencies} currenc{'y' if chart.currencies == 1 else 'ies'}: "
          f"{path}", file=said)


class _Printed:
    """One file printed on stdout; a batch needing more is refused before anything is printed."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id

    def plan(self, batch_id: str, files: list[PayoutFile]) -> None:
        if len(files) > 1:
            raise UsageProblem(f"{self.batch_id} needs {len(files)} files (one per currency): give --output FILE or --currency")
        for payout in files:
            _list_customer_ids(payout, sys.stderr)

    def open(self, payout: PayoutFile) -> TextIO:
        return sys.stdout

    def close(self, payout: PayoutFile, handle: TextIO) -> None:
        handle.flush()


class _Written:
    """Each file written to the path `name` gives it, opened when its first row is due."""

    def __init__(self, name: Callable[[str, PayoutFile, int], Path]) -> None:
        self.name = name
        self.paths: dict[PayoutFile, Path] = {}

    def plan(self, batch_id: str, files: list[PayoutFile]) -> None:
        self.paths = {payout: self.name(batch_id, payout, len(files)) for payout in files}

    def open(self, payout: PayoutFile) -> TextIO:
        return self.paths[payout].open("w", encoding="utf-8", newline="")

    def close(self, payout: PayoutFile, handle: TextIO) -> None:
        handle.close()


def _cmd_export(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches  # loaded by the commands that need it, not by every start-up
    from commands.payout_files import file_name

    currency = normalize_currency(args.currency) if args.currency else None
    source = normalize_currency(args.source_currency) if args.source_currency else None
    if args.format is None:
        return _export_provider_files(args, request, currency, source)
    if not args.output:
        use_batches.export(request, args.id, args.format, currency, source, sink=_Printed(args.id))
        return 0
    sink = _Written(lambda _id, payout, count: Path(file_name(args.output, payout, several=count > 1)))
    for payout in use_batches.export(request, args.id, args.format, currency, source, sink=sink):
        print(f"Wrote {sink.paths[payout]}")
        _list_customer_ids(payout, sys.stdout)
    return 0


def _list_customer_ids(payout: PayoutFile, stream: TextIO) -> None:
    """PayPal customer IDs that are not the partner code, so a finance team can tell who is who."""
    for code, customer_id in payout.customer_ids:
        print(f"  customer ID {customer_id} is partner {code}", file=stream)


def _export_provider_files(args: argparse.Namespace, request: Request, currency: str | None,
                           source: str | None) -> int:
    """One file per payout method and currency into DIR (SPEC §9); written only once every line passed its checks."""
    from commands import use_batches
    from commands.payout_files import provider_file_name

    folder = Path(args.output or ".")
    if not folder.is_dir():
        raise UsageProblem(f"--output {folder}: without --format it names a folder, and there is none")
    sink = _Written(lambda batch_id, payout, _count: folder / provider_file_name(batch_id, payout))
    _, files = use_batches.export_for_providers(request, args.id, currency, source, sink=sink)
    for payout in files:
        print(f"Wrote {sink.paths[payout]} ({payout.rows} payment(s))")
        _list_customer_ids(payout, sys.stdout)
    return 0


def _cmd_print(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches

    output = args.output or f"{args.id}-ledgers.pdf"
    use_batches.check_printable(request, args.id)
    with open(output, "wb") as handle:
        pages = use_batches.print_ledgers(request, args.id, handle, paper=args.paper)
    print(f"Printed the ledgers of {args.id}, {pages} page(s): {output}")
    return 0


def register_batch_files(actions: argparse._SubParsersAction) -> None:
    export = actions.add_parser("export", help="the payout files of a posted batch, one per payout method and currency")
    export.add_argument("id")
    export.add_argument("--format", choices=FORMATS,
                        help="one format for the whole batch (default: each partner's payout method)")
    export.add_argument("--currency", help="only the lines in this currency")
    export.add_argument("--source-currency", metavar="CUR", help="the currency Wise takes the money from (default: each line's)")
    export.add_argument("--output", metavar="DIR|FILE",
                        help="the folder for ID-METHOD-CUR.csv files (default: here); with --format, FILE "
                             "(one per currency: FILE-USD.csv, FILE-EUR.csv …)")
    export.set_defaults(handler=_cmd_export)
    printing = actions.add_parser("print", help="the partners' ledgers of a batch, for the envelope with the payment")
    printing.add_argument("id")
    printing.add_argument("--output", metavar="FILE")
    printing.add_argument("--paper", choices=("letter", "a4"), default="letter")
    printing.set_defaults(handler=_cmd_print)
