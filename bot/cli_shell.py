"""`payouts shell`: the chat commands of SPEC §4 at the terminal, interactive or scripted."""

from __future__ import annotations

import argparse

from commands.context import Request


def _cmd_shell(args: argparse.Namespace, request: Request) -> int:
    from bot.shell import run_shell  # the chat grammar and Jinja2 load only when the shell runs

    return run_shell(request, files_dir=args.files_dir)


def register(sub: argparse._SubParsersAction) -> None:
    shell = sub.add_parser("shell", help="the chat commands in the terminal; reads one command a line")
    shell.add_argument("--files-dir", metavar="DIR",
                       help="where attached files are written (default: PAYOUTS_FILES_DIR, else ./payouts-files)")
    shell.set_defaults(handler=_cmd_shell, runs_on=True)
