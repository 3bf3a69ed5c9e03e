"""Files from the terminal: printed ledgers (PDF) and a batch's payout files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from bot.context import AppContext, UsageProblem
from commands.payout_files import FORMATS, PayoutFile, file_name, payout_files, provider_file_name, provider_files
from domain.dates import DateRange
from domain.ledger import find_partner, ledger_report, partners_by_ids
from domain.money import normalize_currency


def write_ledger_pdf(session: Session, ctx: AppContext, period: DateRange, path: str, *, partner: str | None,
                     include_all: bool, paper: str, said: TextIO = sys.stdout) -> None:
    """Print the ledgers to `path`; one line on `said` names the file, its pages and partners."""
    from commands.printing import report_ledgers_pdf  # reportlab and its fonts load only when printing

    codes = [find_partner(session, partner).code] if partner else None
    report = ledger_report(session, period, include_all=include_all, partner_codes=codes,
                           hold_days=ctx.settings.hold_days)
    with open(path, "wb") as handle:
        pages = report_ledgers_pdf(session, report, handle, organisation=ctx.settings.organisation, paper=paper,
                                   hold_days=ctx.settings.hold_days)
    print(f"Printed {len(report.rows)} partner ledger(s), {pages} page(s): {path}", file=said)


def _cmd_export(args: argparse.Namespace, ctx: AppContext) -> int:
    from domain import batches  # loaded by the commands that need it, not by every start-up

    currency = normalize_currency(args.currency) if args.currency else None
    source = normalize_currency(args.source_currency) if args.source_currency else None
    if args.format is None:
        return _export_provider_files(args, ctx, currency, source)
    with ctx.db.read() as session:
        batch = batches.get_batch(session, args.id)
        lines, _ = batches.frozen_lines(batch)
        partners = partners_by_ids(session, (line.partner_id for line in lines))
        files = payout_files(batch, lines, partners, args.format, currency, source_currency=source)
    if not args.output:
        if len(files) > 1:
            raise UsageProblem(f"{args.id} needs {len(files)} files (one per currency): give --output FILE or --currency")
        _list_customer_ids(files[0], sys.stderr)
        print(files[0].text, end="")
        return 0
    for payout in files:
        target = Path(file_name(args.output, payout, several=len(files) > 1))
        target.write_text(payout.text, encoding="utf-8", newline="")
        print(f"Wrote {target}")
        _list_customer_ids(payout, sys.stdout)
    return 0


def _list_customer_ids(payout: PayoutFile, stream: TextIO) -> None:
    """PayPal customer IDs that are not the partner code, so a finance team can tell who is who."""
    for code, customer_id in payout.customer_ids:
        print(f"  customer ID {customer_id} is partner {code}", file=stream)


def _export_provider_files(args: argparse.Namespace, ctx: AppContext, currency: str | None,
                           source: str | None) -> int:
    """One file per payout method and currency into DIR (SPEC §9); written only once all are ready."""
    from domain import batches
    from domain.payout_details import read_bank_details
    from domain.secret_box import SecretBox

    folder = Path(args.output or ".")
    if not folder.is_dir():
        raise UsageProblem(f"--output {folder}: without --format it names a folder, and there is none")
    with ctx.db.read() as session:
        batch = batches.get_batch(session, args.id)
        lines, _ = batches.frozen_lines(batch)
        partners = partners_by_ids(session, (line.partner_id for line in lines))
        bank = read_bank_details(partners.values(), SecretBox.from_env())
        files = provider_files(batch, lines, partners, bank, source_currency=source, currency=currency)
    for payout in files:
        target = folder / provider_file_name(batch.batch_id, payout)
        target.write_text(payout.text, encoding="utf-8", newline="")
        rows = payout.text.count("\n") - (payout.method != "paypal")
        print(f"Wrote {target} ({rows} payment(s))")
        _list_customer_ids(payout, sys.stdout)
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
