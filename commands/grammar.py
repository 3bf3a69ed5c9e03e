"""The chat grammar of SPEC §4: `/ledger` and `/payout` text in, a typed command out.

Slack and the terminal shell share it. Anything malformed raises `UsageError` with a short
message and an example of the right form; no other exception leaves `parse_command`.
"""

from __future__ import annotations

from commands.grammar_ledger import LedgerCommand, parse_ledger
from commands.grammar_payout import PayoutCommand, parse_payout
from commands.grammar_tokens import UsageError
from domain.settings import Settings

COMMANDS = ("ledger", "payout")
Command = LedgerCommand | PayoutCommand


def command_name(command: str) -> str:
    """`/ledger`, `ledger` and `LEDGER` all name the same command."""
    return (command or "").strip().lstrip("/").lower()


def parse_command(command: str, text: str, settings: Settings) -> Command:
    """Ranges resolve against today in the organisation's time zone; payment types are the configured ones."""
    name = command_name(command)
    if name == "ledger":
        return parse_ledger(text, settings.today())
    if name == "payout":
        return parse_payout(text, settings)
    raise UsageError(f"there is no command '{command}' (the commands are /ledger and /payout)", "/ledger help")
