"""Files from the terminal: printed ledgers (PDF) and a batch's payout files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from bot.cli_usage import UsageProblem
from commands.context import Request
from commands.payout_files import FORMATS, file_name
from domain.dates import DateRange
from domain.money import normalize_currency


def write_ledger_pdf(request: Request, period: DateRange, path: str, *, partner: str | None, include_all: bool,
                     paper: str, said: TextIO = sys.stdout) -> None:
    """Print the ledgers to `path`; one line on `said` names the file, its pages and partners."""
    from commands import use_ledger

    with open(path, "wb") as handle:
        printed = use_ledger.print_ledgers(request, period, handle, code=partner, include_all=include_all, paper=paper)
    print(f"Printed {printed.partners} partner ledger(s), {printed.pages} page(s): {path}", file=said)


def _cmd_export(args: argparse.Namespace, request: Request) -> int:
    from commands import use_batches  # loaded by the commands that need it, not by every start-up

    currency = normalize_currency(args.currency) if args.currency else None
    files = use_batches.export(request, args.id, args.format, currency)
    if not args.output:
        if len(files) > 1:
            raise UsageProblem(f"{args.id} needs {len(files)} files (one per currency): give --output FILE or --currency")
        print(files[0].text, end="")
        return 0
    for payout in files:
        target = Path(file_name(args.output, payout, several=len(files) > 1))
        target.write_text(payout.text, encoding="utf-8", newline="")
        print(f"Wrote {target}")
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
    export = actions.add_parser("export", help="the payout file(s) of a posted batch")
    export.add_argument("id")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--currency", help="only the lines in this currency")
    export.add_argument("--output", metavar="FILE", help="one file per currency: FILE-USD.csv, FILE-EUR.csv …")
    export.set_defaults(handler=_cmd_export)
    printing = actions.add_parser("print", help="the partners' ledgers of a batch, for the envelope with the payment")
    printing.add_argument("id")
    printing.add_argument("--output", metavar="FILE")
    printing.add_argument("--paper", choices=("letter", "a4"), default="letter")
    printing.set_defaults(handler=_cmd_print)
