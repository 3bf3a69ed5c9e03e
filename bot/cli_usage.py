"""Bad input on the command line, shared by every `payouts` subcommand."""

from __future__ import annotations


class UsageProblem(ValueError):
    """Bad input on the command line: exit status 2 with this one-line reason."""
