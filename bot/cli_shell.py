"""`payouts shell`: the chat commands of SPEC §4 at the terminal, interactive or scripted."""

from __future__ import annotations

import argparse

from bot.context import AppContext
from bot.shell import DEFAULT_FILES_DIR, FILES_DIR_ENV, run_shell


def _cmd_shell(args: argparse.Namespace, ctx: AppContext) -> int:
    return run_shell(ctx, files_dir=args.files_dir)


def register(sub: argparse._SubParsersAction) -> None:
    shell = sub.add_parser("shell", help="the chat commands in the terminal; reads one command a line")
    shell.add_argument("--files-dir", metavar="DIR",
                       help=f"where attached files are written (default: {FILES_DIR_ENV}, else ./{DEFAULT_FILES_DIR})")
    shell.set_defaults(handler=_cmd_shell)
