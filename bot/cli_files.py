"""Files from the terminal: printed ledgers (PDF) and a batch's payout files."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.orm import Session

from bot.context import AppContext, UsageProblem
from commands.payout_files import FORMATS, file_name, payout_files
from domain.dates import DateRange
from domain.ledger import find_partner, ledger_report, partners_by_ids
from domain.money import normalize_currency


def write_ledger_pdf(session: Session, ctx: AppContext, period: DateRange, path: str, *, partner: str | None,
                     include_all: bool, paper: str) -> None:
    from commands.printing import report_ledgers_pdf  # reportlab and its fonts load only when printing

    codes = [find_partner(session, partner).code] if partner else None
    report = ledger_report(session, period, include_all=include_all, partner_codes=codes,
                           hold_days=ctx.settings.hold_days)
    with open(path, "wb") as handle:
        pages = report_ledgers_pdf(session, report, handle, organisation=ctx.settings.organisation, paper=paper,
                                   hold_days=ctx.settings.hold_days)
    print(f"Printed {len(report.rows)} partner ledger(s), {pages} page(s): {path}")


def _cmd_export(args: argparse.Namespace, ctx: AppContext) -> int:
    from domain import batches  # loaded by the commands that need it, not by every start-up

    currency = normalize_currency(args.currency) if args.currency else None
    with ctx.db.read() as session:
        batch = batches.get_batch(session, args.id)
        lines, _ = batches.frozen_lines(batch)
        partners = partners_by_ids(session, (line.partner_id for line in lines))
        files = payout_files(batch, lines, partners, args.format, currency)
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


def _cmd_print(args: argparse.Namespace, ctx: AppContext) -> int:
    from commands.printing import batch_ledgers_pdf  # reportlab and its fonts load only when printing
    from domain import batches

    output = args.output or f"{args.id}-ledgers.pdf"
    with ctx.db.read() as session:
        batch = batches.get_batch(session, args.id)
        if batch.status != batches.POSTED:
            raise UsageProblem(f"{args.id} is {batch.status}; only a posted batch prints its ledgers")
        with open(output, "wb") as handle:
            pages = batch_ledgers_pdf(session, batch, handle, organisation=ctx.settings.organisation, paper=args.paper,
                                      hold_days=ctx.settings.hold_days)
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
