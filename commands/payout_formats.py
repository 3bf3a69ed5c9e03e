"""The names of the payout file formats (SPEC §9), apart from their writers.

`payouts batch export --format` offers them as choices when the command line is parsed, which
every command does; the writers in commands.payout_files load only when a file is made.
"""

from __future__ import annotations

GENERIC = "csv"  # the generic payout file, also attached to a batch approved in chat
FORMATS = ("paypal", "wise", GENERIC)
