"""What every listener shares: settings, the database, the Slack client, approvers and the work queues."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.slack.approvers import ApproverDirectory
from bot.slack.routing import Origin, ReplyRouter
from bot.slack.settings import SlackSettings
from bot.slack.work import WorkQueue
from commands.context import Request
from commands.reply import Reply
from domain.db import Database
from domain.roles import Access, Member, Role
from domain.settings import Settings

log = logging.getLogger(__name__)

Produce = Callable[[Request], list[Reply]]

UNEXPECTED = "That did not work because of an unexpected error; it has been logged for the team that runs the app."


@dataclass(frozen=True)
class SlackRuntime:
    slack: SlackSettings
    db: Database
    settings: Settings
    client: WebClient
    directory: ApproverDirectory
    members: ApproverDirectory  # the user groups any role names
    router: ReplyRouter
    reports: WorkQueue  # ledger reports and their files: slow, CPU-bound
    interactions: WorkQueue  # everything else, so a form opens while reports run (a trigger_id lasts 3 s)

    def request(self, origin: Origin, *, refresh_approvers: bool = True) -> Request:
        """Who is asking and what the roles grant them; with refresh off, user groups count as last read."""
        groups = self.members.groups_of(origin.user, refresh=refresh_approvers)
        access = Access(self.slack.roles(), Member(origin.user, groups, origin.outsider))
        approvers = self.directory.approvers(refresh=refresh_approvers)
        if access.holds(Role.APPROVER):
            approvers |= {origin.user}
        return Request(db=self.db, settings=self.settings, actor=origin.user, channel=origin.channel,
                       approvers=approvers, reminder_channels=self.slack.reminder_channels(), access=access)

    def answer(self, what: str, origin: Origin, produce: Produce) -> None:
        """Run a command in the background and deliver what it says; a crash becomes a short note."""
        try:
            replies = produce(self.request(origin))
        except Exception:
            log.exception("%s failed for %s in %s", what, origin.user, origin.channel)
            replies = [Reply.error(UNEXPECTED)]
        self.router.deliver(replies, origin)

    def later(self, what: str, origin: Origin, produce: Produce, *, report: bool) -> None:
        queue = self.reports if report else self.interactions
        queue.submit(what, lambda: self.answer(what, origin, produce))

    def shutdown(self) -> None:
        """Finish what was acknowledged before stopping."""
        self.reports.shutdown()
        self.interactions.shutdown()
