"""What a Slack channel is, written once: its ID, or a mention of it, and never its name.

Slack channel IDs are C (or G, for older private channels) and at least 8 more capital letters or
digits: C0123ABCD. A name such as `general` is refused rather than upper-cased into GENERAL, which
looks like an ID but names no channel, so a reminder for it would never arrive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,20}")
CHANNEL_MENTION = re.compile(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>")
CHANNEL_FORMS = "a Slack channel ID (like C0123ABCD) or a channel mention (like <#C0123ABCD|finance>)"


def channel_id(text: str) -> str | None:
    """The channel ID written as `C0123ABCD` or `<#C0123ABCD|finance>`; None for anything else."""
    value = (text or "").strip()
    if mention := CHANNEL_MENTION.fullmatch(value):
        value = mention[1]
    return value if CHANNEL_ID.fullmatch(value) else None


def channel_list(text: str | None) -> tuple[str, ...]:
    """A comma-separated setting such as LEDGER_CHANNELS."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def reminder_channels(ledger_channels: tuple[str, ...], approval_channel: str) -> tuple[str, ...]:
    """The channels a reminder may be posted to: ledger data goes only to LEDGER_CHANNELS and the
    approval channel. Empty when LEDGER_CHANNELS is unset and so any channel may."""
    if not ledger_channels:
        return ()
    return ledger_channels + ((approval_channel,) if approval_channel else ())


def reminder_channels_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """What reminder_channels allows for the settings in `env` (LEDGER_CHANNELS, PAYOUT_APPROVAL_CHANNEL)."""
    return reminder_channels(channel_list(env.get("LEDGER_CHANNELS")), env.get("PAYOUT_APPROVAL_CHANNEL", "").strip())
