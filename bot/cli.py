"""The `payouts` command line (SPEC §5): exit 0 on success, 2 on bad input, 1 on anything else."""

from __future__ import annotations

import argparse
import contextlib
import gc
import getpass
import os
import stat
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.cli_batches import positive_count
from bot.cli_usage import UsageProblem
from commands.context import Request
from commands.json_text import document
from commands.ledger_files import partner_ledger_json, write_ledger_csv, write_ledger_json
from domain.dates import DateError, DateRange, parse_range
from domain.direct_read import driver_error
from domain.ledger_data import LedgerRows, UnknownPartner
from domain.schema_version import SchemaError
from domain.settings import Settings
from domain.text import visible

Handler = Callable[[argparse.Namespace, Request], int]


def cli_actor() -> str:
    """The terminal operator as the audit log names them."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"cli:{login}"


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input as a UsageProblem (exit 2) instead of exiting by itself."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageProblem(f"{self.prog}: {message}")


def _cmd_init(args: argparse.Namespace, request: Request) -> int:
    from domain import migrations_runner

    request.db.create_location()
    migrations_runner.upgrade(request.db.engine)
    print(f"Database ready: {request.db.display_url}")
    return 0


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _cmd_import(args: argparse.Namespace, request: Request) -> int:
    path = Path(args.file)
    _refuse_odd_file(path)
    _import_file(args.what, path, request)
    return 0


def _refuse_odd_file(path: Path) -> None:
    """Say what the path is when it is no regular file; asked of os.stat, since opening a named pipe
    to read waits until something writes to it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageProblem(f"no such file: {path}") from None
    except OSError as exc:
        raise UsageProblem(f"cannot import {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise UsageProblem(f"cannot import {path}: it is a directory")
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "an unknown kind of file")
    raise UsageProblem(f"cannot import {path}: it is not a regular file ({kind})")


def _import_file(what: str, path: Path, request: Request) -> None:
    """All or nothing; a refused file is bad input (exit 2) naming its rows."""
    from commands import use_imports  # loaded here: its PostgreSQL dialect pulls in asyncio, which a report never needs

    progress = _stderr_progress(path.name) if sys.stderr.isatty() else None
    try:
        if what == "partners":
            result = use_imports.import_partners(request, path)
        else:
            result = use_imports.import_entries(request, path, progress)
    except use_imports.ImportRefused as exc:
        raise UsageProblem(str(exc)) from None
    # Said only once committed: a failed commit must not follow a line announcing what was added.
    if what == "partners":
        print(f"{path.name}: {result.rows} partner(s): {result.added} added, "
              f"{result.updated} updated, {result.unchanged} unchanged")
    else:
        print(f"{path.name}: {result.rows} entr{'y' if result.rows == 1 else 'ies'}: "
              f"{result.added} added, {result.unchanged} already recorded")


def _stderr_progress(name: str) -> Callable[[int], None]:
    def report(rows: int) -> None:
        print(f"\r{name}: {rows:,} rows checked…", end="", file=sys.stderr, flush=True)
    return report


def _output(args: argparse.Namespace) -> contextlib.AbstractContextManager[TextIO]:
    if args.output:
        return open(args.output, "w", encoding="utf-8", newline="")
    return contextlib.nullcontext(sys.stdout)


def _write_partner_ledger(args: argparse.Namespace, request: Request, period: DateRange) -> None:
    from commands import use_ledger

    if args.format == "csv":
        raise UsageProblem("--format csv is the report; for one partner use table or json")
    ledger = use_ledger.partner_ledger(request, args.partner, period)
    with _output(args) as handle:
        if args.format == "json":
            handle.write(document(partner_ledger_json(ledger)))
        else:
            from commands.ledger_text import partner_ledger_table  # wcwidth: only a table measures text

            print(partner_ledger_table(ledger), file=handle)


StreamedReport = Callable[..., AbstractContextManager[LedgerRows]]


def _write_report(args: argparse.Namespace, period: DateRange, streamed: StreamedReport) -> None:
    """Every format is written row by row as the database returns the rows (`streamed`: a use-case's
    `streamed_report` given all but the range and its options)."""
    if args.format == "table":
        from commands.ledger_text import write_report_table  # wcwidth: only a table measures text

        writer = write_report_table
    else:
        writer = write_ledger_json if args.format == "json" else write_ledger_csv
    with streamed(period, include_all=args.all, with_email=args.format == "csv") as rows, _output(args) as handle:
        writer(rows, handle)


def _reported_directly(args: argparse.Namespace, settings: Settings) -> bool:
    """`payouts ledger RANGE` for every partner (no --partner, --pdf or --chart), in any format, read
    through the database's driver alone (commands.use_direct_report): loading SQLAlchemy and the
    tables was a third of a large month report. False, having read and written nothing, for any
    other command and wherever the engine must read the database."""
    if args.handler is not _cmd_ledger or args.partner or args.pdf or args.chart:
        return False
    from commands import use_direct_report
    from domain.db_url import resolve_url

    period = parse_range(args.range, settings.today())
    args.format = args.format or "table"
    try:
        _write_report(args, period, partial(use_direct_report.streamed_report, resolve_url(args.database), settings))
    except use_direct_report.Unavailable:
        return False
    return True


def _wants_text(args: argparse.Namespace) -> bool:
    """`--pdf FILE` alone prints the ledgers and says what it wrote, rather than also writing the whole
    report (a line per partner) to the terminal; `--format` or `--output` asks for the report too."""
    return not (args.pdf or args.chart) or args.format is not None or args.output is not None


def _cmd_ledger(args: argparse.Namespace, request: Request) -> int:
    period = parse_range(args.range, request.settings.today())
    wants_text = _wants_text(args)
    args.format = args.format or "table"
    if args.chart and args.partner:
        raise UsageProblem("--chart draws the whole ledger; it does not go with --partner")
    if wants_text and args.partner:
        _write_partner_ledger(args, request, period)
    elif wants_text:
        from commands import use_ledger

        _write_report(args, period, partial(use_ledger.streamed_report, request))
    if args.pdf:
        from bot.cli_files import write_ledger_pdf

        said = sys.stderr if wants_text and not args.output else sys.stdout  # the report's stdout stays clean
        write_ledger_pdf(request, period, args.pdf, partner=args.partner, include_all=args.all,
                         paper=args.paper, said=said)
    if args.chart:
        from bot.cli_files import write_ledger_chart

        write_ledger_chart(request, period, args.chart, said=sys.stderr if wants_text and not args.output else sys.stdout)
    return 0


def _cmd_demo(args: argparse.Namespace, request: Request) -> int:
    from domain import migrations_runner
    from domain.demo import load_demo, partner_count
    from domain.secret_box import SecretBox

    secrets = SecretBox.from_env()
    request.db.create_location()
    migrations_runner.upgrade(request.db.engine)
    with request.db.write() as session:
        existing = partner_count(session)
        if not existing:
            partners, entries = load_demo(
                session, partners=args.partners, seed=args.seed, today=request.settings.today(), actor=request.actor,
                secrets=secrets,
            )
    if existing:
        print(f"{request.db.display_url} already holds {existing} partner(s); the demo data is loaded only into "
              "an empty database.")
    else:
        print(f"Loaded {partners} demo partners and {entries} ledger entries into {request.db.display_url}.")
        if secrets is None:
            print("PAYOUTS_SECRET_KEY is not set, so no demo partner has bank details (they are paid by Wise "
                  "e-mail instead); set one from `payouts secret-key` before `payouts demo` to try bank files.")
    if args.no_shell:
        print("Try: payouts ledger last-month")
        return 0
    from bot.shell import run_shell

    return run_shell(request, welcome=True)


def _add_ledger_parser(sub: argparse._SubParsersAction) -> None:
    ledger = sub.add_parser("ledger", help="the referral partner ledger report for a range")
    ledger.add_argument("range", help="2015-06-01..2015-06-30, 2015-06, 2015-Q2, 2015, last-month, ytd …")
    ledger.add_argument("--partner", metavar="CODE", help="one partner's ledger with a running balance")
    ledger.add_argument("--all", action="store_true", help="list every partner, even with nothing to show")
    ledger.add_argument("--format", choices=("table", "json", "csv"), help="table (the default), json or csv")
    ledger.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    ledger.add_argument("--pdf", metavar="FILE",
                        help="print the partners' ledgers to a PDF (the report too, with --format or --output)")
    ledger.add_argument("--paper", choices=("letter", "a4"), default="letter")
    ledger.add_argument("--chart", metavar="FILE.png",
                        help="draw commissions, clawbacks and payments per month (at most 24), one panel per currency")
    ledger.set_defaults(handler=_cmd_ledger)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="payouts", description="Referral partner ledgers and payouts, exactly once.")
    parser.add_argument("--database", metavar="URL", help="database URL (default: DATABASE_URL, else sqlite:///payouts.db)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("init", help="create or upgrade the database schema").set_defaults(handler=_cmd_init, needs_schema=False)

    imp = sub.add_parser("import", help="import partners or entries from CSV")
    imp.add_argument("what", choices=("partners", "entries"))
    imp.add_argument("file")
    imp.set_defaults(handler=_cmd_import)

    _add_ledger_parser(sub)

    demo = sub.add_parser("demo", help="load demo data dated up to today, then open the shell")
    demo.add_argument("--partners", type=positive_count, default=30)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-shell", action="store_true", help="only load the data")
    demo.set_defaults(handler=_cmd_demo, needs_schema=False, runs_on=True)

    from bot import cli_api_tokens, cli_batches, cli_clock, cli_secrets, cli_shell, cli_slack, cli_sync

    cli_batches.register(sub)
    cli_secrets.register(sub)
    cli_clock.register(sub)
    cli_shell.register(sub)
    cli_slack.register(sub)
    cli_api_tokens.register(sub)
    cli_sync.register(sub)
    return parser


def _first_line(error: BaseException | None) -> str:
    """Drivers explain over several lines; the reason on stderr is one."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# A young-generation pass of the cycle collector every this many container allocations (CPython's is 700).
ONE_SHOT_COLLECTION_THRESHOLD = (100_000, 50, 100)


def _collect_for_one_shot() -> None:
    """Keep the cycle collector out of the way of a command that runs once and exits.

    CPython runs a young-generation pass every 700 container allocations, and now and then a full
    pass that walks every object alive: the 400 modules loaded at start-up and every row a command
    holds (a preview of 100,000 partners holds 100,000 planned lines). At that size the collector
    took a fifth of a preview's time. What start-up made lives until the exit anyway, so it is frozen
    out of the collector's sight, and cycles are still reclaimed, in larger steps. Commands that run
    on (`serve`, `socket`, `clock`, `shell`, `sync`, `demo`) keep the defaults.
    """
    gc.freeze()
    gc.set_threshold(*ONE_SHOT_COLLECTION_THRESHOLD)


def run() -> int:
    """The `payouts` program: `main` in a process of its own, which a one-shot command then tunes."""
    return main(own_process=True)


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    try:
        args = build_parser().parse_args(argv)
        if own_process and not getattr(args, "runs_on", False):
            _collect_for_one_shot()
        settings = Settings.from_env()
        if _reported_directly(args, settings):
            return 0
        from domain.db import Database  # SQLAlchemy loads here, for every command but the report read directly

        request = Request.operator(Database(args.database), settings, cli_actor())
        if getattr(args, "needs_schema", True):
            request.db.check_schema()
        return args.handler(args, request)
    except (UsageProblem, DateError, UnknownPartner, ValueError) as exc:
        print(f"payouts: {visible(str(exc))}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"payouts: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if (reason := driver_error(exc)) is not None:
            print(f"payouts: database error: {_first_line(reason)}", file=sys.stderr)
        else:
            print(f"payouts: failed: {type(exc).__name__}: {visible(str(exc))}", file=sys.stderr)
        return 1
