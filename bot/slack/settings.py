"""The Slack app's settings, read from the environment (SPEC §6)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from domain.channels import channel_list, reminder_channels
from domain.roles import Roles

DEFAULT_API_URL = "https://slack.com/api/"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _api_url(value: str | None) -> str:
    """slack_sdk joins method names onto the base URL, so it must end with a slash."""
    url = (value or "").strip() or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    approvers: tuple[str, ...] = ()  # user IDs (U…, W…) and user-group IDs (S…)
    approval_channel: str = ""
    ledger_channels: tuple[str, ...] = ()  # empty: every channel may see ledger data
    viewers: tuple[str, ...] = ()  # LEDGER_VIEWERS; unset: the requesters and approvers
    requesters: tuple[str, ...] = ()  # PAYOUT_REQUESTERS; unset: the approvers

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackSettings:
        source = os.environ if env is None else env
        return cls(
            bot_token=source.get("SLACK_BOT_TOKEN", "").strip(),
            signing_secret=source.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=source.get("SLACK_APP_TOKEN", "").strip(),
            api_url=_api_url(source.get("SLACK_API_URL")),
            approvers=channel_list(source.get("PAYOUT_APPROVERS")),
            approval_channel=source.get("PAYOUT_APPROVAL_CHANNEL", "").strip(),
            ledger_channels=channel_list(source.get("LEDGER_CHANNELS")),
            viewers=_split(source.get("LEDGER_VIEWERS")),
            requesters=_split(source.get("PAYOUT_REQUESTERS")),
        )

    def roles(self) -> Roles:
        return Roles(viewers=self.viewers, requesters=self.requesters, approvers=self.approvers)

    def missing(self, *, socket_mode: bool = False) -> list[str]:
        """The variables a running app cannot do without, so startup can name them all at once."""
        needed = {"SLACK_BOT_TOKEN": self.bot_token}
        if socket_mode:
            needed["SLACK_APP_TOKEN"] = self.app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.signing_secret
        return [name for name, value in needed.items() if not value]

    def ledger_allowed_in(self, channel: str | None) -> bool:
        return not self.ledger_channels or channel in self.ledger_channels

    def reminder_channels(self) -> tuple[str, ...]:
        """The channels `may_post_to` allows, for checking a reminder schedule; empty when any may."""
        return reminder_channels(self.ledger_channels, self.approval_channel)

    def may_post_to(self, channel: str) -> bool:
        """Replies carry ledger data: only the allow-list and the approval channel may receive them."""
        return self.ledger_allowed_in(channel) or channel == self.approval_channel
