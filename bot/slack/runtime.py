"""What every listener shares: settings, the database, the Slack client, approvers and the work queues."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from slack_sdk import WebClient

from bot.slack.approvers import ApproverDirectory
from bot.slack.routing import Origin, ReplyRouter
from bot.slack.settings import SlackSettings
from bot.slack.work import WorkQueue
from commands import chat
from commands.context import Request
from commands.reply import Reply
from domain.db import Database
from domain.roles import Access, Member, Role
from domain.settings import Settings

log = logging.getLogger(__name__)

Produce = Callable[[Request], list[Reply]]
Then = Callable[[Request, list[Reply]], None]

HOME_REFRESH_LIMIT = 50  # Homes republished after one batch is requested or decided
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

    def answer(self, what: str, origin: Origin, produce: Produce, then: Then | None = None) -> None:
        """Run a command in the background and deliver what it says; a crash becomes a short note.
        `then` runs once the replies are delivered, with the request and the replies."""
        request = None
        try:
            request = self.request(origin)
            replies = produce(request)
        except Exception:
            log.exception("%s failed for %s in %s", what, origin.user, origin.channel)
            replies = [Reply.error(UNEXPECTED)]
        self.router.deliver(replies, origin)
        if then is not None and request is not None:
            then(request, replies)

    def later(self, what: str, origin: Origin, produce: Produce, *, report: bool, in_direct_message: bool = False,
              then: Then | None = None) -> None:
        """Answer in a work queue; `in_direct_message` for a click with no channel of its own (App Home),
        whose answers go to the person's direct message with the app."""
        queue = self.reports if report else self.interactions

        def run() -> None:
            place = replace(origin, channel=self.router.direct_message(origin.user)) if in_direct_message else origin
            self.answer(what, place, produce, then)

        queue.submit(what, run)

    def publish_home(self, user: str, *, refresh_groups: bool = True) -> None:
        """views.publish of the person's Home tab, fitted to the roles they hold now (SPEC §13)."""
        from bot.slack.home import home_view  # Home's views load only when a Home is published

        page = chat.run_home(self.request(Origin(user, None), refresh_approvers=refresh_groups))
        self.client.views_publish(user_id=user, view=home_view(page, self.settings.timezone))

    def refresh_homes_after(self, request: Request, replies: list[Reply]) -> None:
        """After a batch is requested or decided: the Homes of the person acting, the approvers and
        the requester heard back."""
        self.refresh_homes([request.actor, *sorted(request.approvers),
                            *(reply.recipient for reply in replies if reply.recipient)])

    def refresh_homes(self, users: Iterable[str]) -> None:
        """Republish the Home of each person concerned by a batch requested or decided, in the
        interactions queue; at most HOME_REFRESH_LIMIT people, the others see it when they next open it."""
        for user in list(dict.fromkeys(users))[:HOME_REFRESH_LIMIT]:
            self.interactions.submit(f"home for {user}", lambda user=user: self.publish_home(user, refresh_groups=False))

    def shutdown(self) -> None:
        """Finish what was acknowledged before stopping."""
        self.reports.shutdown()
        self.interactions.shutdown()
