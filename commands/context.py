"""Who is asking, from where, and with what they may do: everything a handler needs besides the text."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.db import Database
from domain.roles import Access
from domain.settings import Settings


@dataclass(frozen=True)
class Request:
    db: Database
    settings: Settings
    actor: str  # a Slack user ID, or cli:<login> at the terminal
    channel: str | None = None  # where the command was typed; None at the terminal
    approvers: frozenset[str] = field(default_factory=frozenset)  # user IDs allowed to approve
    trusted_operator: bool = False  # the terminal operator, who may approve their own batches
    files_dir: str | None = None  # where a transport without uploads writes attached files
    reminder_channels: tuple[str, ...] = ()  # the only channels a reminder may be posted to; empty: any
    access: Access | None = None  # who is asking and what the roles grant; the gate refuses without it
