"""What a Slack channel is, written once: its ID, or a mention of it, and never its name.

Slack channel IDs are C (or G, for older private channels) and at least 8 more capital letters or
digits: C0123ABCD. A name such as `general` is refused rather than upper-cased into GENERAL, which
looks like an ID but names no channel, so a reminder for it would never arrive.
"""

from __future__ import annotations

import re

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,20}")
CHANNEL_MENTION = re.compile(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>")
CHANNEL_FORMS = "a Slack channel ID (like C0123ABCD) or a channel mention (like <#C0123ABCD|finance>)"


def channel_id(text: str) -> str | None:
    """The channel ID written as `C0123ABCD` or `<#C0123ABCD|finance>`; None for anything else."""
    value = (text or "").strip()
    if mention := CHANNEL_MENTION.fullmatch(value):
        value = mention[1]
    return value if CHANNEL_ID.fullmatch(value) else None
