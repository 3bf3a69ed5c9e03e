"""Who is asking, from where, and with what they may do: the one context every use-case takes.

Every transport builds one: Slack for each click or command (with the approvers it resolved), the
shell and the CLI once for the trusted terminal operator, the clock as `clock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from domain.roles import Access
from domain.settings import Settings

if TYPE_CHECKING:
    from domain.batches import ApprovalPolicy
    from domain.db import Database


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

    @classmethod
    def operator(cls, db: Database, settings: Settings, actor: str, *, files_dir: str | None = None,
                 reminder_channels: tuple[str, ...] = ()) -> Request:
        """The terminal operator is trusted (SPEC §8): not subject to roles, and may decide their own batches."""
        return cls(db=db, settings=settings, actor=actor, approvers=frozenset({actor}), trusted_operator=True,
                   files_dir=files_dir, reminder_channels=reminder_channels)

    def acting_as(self, actor: str) -> Request:
        return replace(self, actor=actor, approvers=frozenset({actor}) if self.trusted_operator else self.approvers)

    def policy(self) -> ApprovalPolicy:
        """Who may decide a batch, as SPEC §8 and REQUIRE_SEPARATE_APPROVER say."""
        from domain.batches import ApprovalPolicy  # the batch machinery loads only where batches are decided

        return ApprovalPolicy(self.approvers, self.settings.require_separate_approver, self.trusted_operator)
