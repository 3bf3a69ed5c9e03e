"""Where each Reply goes in Slack, following its Target (SPEC §4, §8 "Where replies go").

ORIGIN: the channel of the command (ephemeral when private); APPROVERS: PAYOUT_APPROVAL_CHANNEL;
CHANNEL: reply.channel; REPLACE: the message whose button was pressed, rewritten without buttons;
ANNOUNCEMENT: a batch's approval request (reply.channel, reply.message_ref), rewritten likewise
wherever the decision was taken, unless it is the very message REPLACE rewrites.
A form opens as a modal. Where the bot cannot post (a private channel or a direct message between
people without it, an expired response_url) or may not (a channel shared with another
organisation), the reply and its files go to the person's direct message with the app. A reply
that reaches nobody is logged with its context and kept in the audit log; what the command did
(a posting, say) stands and is never repeated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import delivery
from bot.slack.modals import ModalOrigin, render_modal
from bot.slack.settings import SlackSettings
from bot.slack.shared import SharedChannels
from commands import use_batches
from commands.chat_payout_views import APPROVE
from commands.context import Request
from commands.reply import Attachment, Reply, Target
from commands.use_batches import Announcement
from domain import audit
from domain.db import Database
from domain.settings import Settings

log = logging.getLogger(__name__)

UNREACHABLE_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


@dataclass(frozen=True)
class Origin:
    """The person and place a command, click or submission came from."""

    user: str
    channel: str | None
    response_url: str | None = None
    trigger_id: str | None = None
    message_ts: str | None = None  # the (non-ephemeral) message whose button was pressed
    outsider: bool = False  # from another workspace or organisation (bot.slack.identity)
    channel_name: str | None = None  # "directmessage" or "privategroup" where the bot cannot see the channel


class NotAllowedHere(RuntimeError):
    """A reply would carry ledger data to a channel outside LEDGER_CHANNELS."""


EXPECTED_REFUSALS = (SlackApiError, NotAllowedHere, delivery.DeliveryFailed)
PRIVATE_CHANNEL_NAMES = frozenset({"privategroup"})  # what a slash command says for a private channel without the bot
UNREACHABLE_REASON = "since it cannot post files here."
INVITE_HINT = " To have files here, /invite the app to this channel."
SHARED_REASON = "since this channel is shared with another organisation and LEDGER_CHANNELS does not list it."


def is_private_channel(origin: Origin) -> bool:
    """A private channel can be given the app with /invite; a direct message between people cannot."""
    if origin.channel_name in PRIVATE_CHANNEL_NAMES:
        return True
    return bool(origin.channel) and origin.channel_name != "directmessage" and not str(origin.channel).startswith("D")


def _names(files: list[Attachment]) -> str:
    return ", ".join(attachment.filename for attachment in files[:3]) + (" …" if len(files) > 3 else "")


def _error_code(error: Exception) -> str:
    if isinstance(error, NotAllowedHere):
        return str(error)
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


class ReplyRouter:
    def __init__(self, client: WebClient, slack: SlackSettings, db: Database) -> None:
        self.client = client
        self.slack = slack
        self.db = db
        self.shared = SharedChannels(client, listed=(*slack.ledger_channels, slack.approval_channel))

    def deliver(self, replies: list[Reply], origin: Origin) -> None:
        """Every reply is tried, even when an earlier one failed, so one refusal does not hide the rest."""
        for reply in replies:
            try:
                self._deliver(reply, origin)
            except Exception as error:
                log.error("could not deliver %r (target %s) for %s in %s: %s", reply.headline, reply.target.value,
                          origin.user, origin.channel, _error_code(error),
                          exc_info=not isinstance(error, EXPECTED_REFUSALS))
                self._tell_failure(reply, origin, error)

    def _deliver(self, reply: Reply, origin: Origin) -> None:
        if reply.form is not None:
            self._open_form(reply, origin)
        elif reply.target is Target.REPLACE:
            self._replace(reply, origin)
        elif reply.target is Target.ANNOUNCEMENT:
            self._rewrite_announcement(reply, origin)
        elif reply.target is Target.APPROVERS:
            self._to_approvers(reply, origin)
        elif reply.target is Target.CHANNEL:
            self._post(reply.channel or self._require_channel(origin), reply, origin)
        elif reply.private:
            self._privately(reply, origin)
        else:
            self._post(self._require_channel(origin), reply, origin)

    @staticmethod
    def _require_channel(origin: Origin) -> str:
        if not origin.channel:
            raise ValueError("the reply has no channel to go to")
        return origin.channel

    def _post(self, channel: str, reply: Reply, origin: Origin) -> None:
        """chat.postMessage, then the files. A channel the bot cannot post to still gets the message
        through the response_url, else it goes to the person's direct message with the app; so does
        a channel shared with another organisation that LEDGER_CHANNELS does not list."""
        self._check_allowed(channel)
        if self.shared.outside(channel):
            self._to_direct_message(reply.recipient or origin.user, reply, origin, unreachable=channel)
            if channel == origin.channel:
                self._say_where_it_went(reply.headline, origin, SHARED_REASON)
            return
        try:
            delivery.post_message(self.client, channel, reply)
        except SlackApiError as error:
            if _error_code(error) not in UNREACHABLE_CHANNEL_ERRORS:
                raise
            person = reply.recipient or origin.user
            if channel == origin.channel and self._respond_if_possible(origin, reply, response_type="in_channel"):
                self._share_files(channel, reply.files, origin, person)
                return
            self._to_direct_message(person, reply, origin, unreachable=channel)
            return
        self._share_files(channel, reply.files, origin, reply.recipient or origin.user)

    def _privately(self, reply: Reply, origin: Origin) -> None:
        """Through the response_url while it lasts (30 minutes, five uses), else as an ephemeral
        message, else in the person's direct message with the app (a channel the bot is not in)."""
        if not self._respond_if_possible(origin, reply):
            try:
                delivery.post_ephemeral(self.client, self._require_channel(origin), origin.user, reply)
            except SlackApiError as error:
                if _error_code(error) not in UNREACHABLE_CHANNEL_ERRORS:
                    raise
                self._to_direct_message(origin.user, reply, origin, unreachable=origin.channel)
                return
        self._upload_to_origin(reply, origin)

    def _respond_if_possible(self, origin: Origin, reply: Reply, *, response_type: str = "ephemeral") -> bool:
        if not origin.response_url:
            return False
        try:
            delivery.respond(origin.response_url, reply, response_type=response_type)
        except delivery.DeliveryFailed as refused:
            log.info("response_url refused (%s); answering %s another way", refused, origin.user)
            return False
        return True

    def _to_direct_message(self, user: str, reply: Reply, origin: Origin, *, unreachable: str | None) -> None:
        """The person's direct message with the app (conversations.open, scope im:write)."""
        direct = self.direct_message(user)
        delivery.post_reply(self.client, direct, reply)
        log.info("%r for %s went to their direct message instead of %s", reply.headline[:80], user, unreachable)

    def direct_message(self, user: str) -> str:
        return str(self.client.conversations_open(users=user)["channel"]["id"])

    def _share_files(self, channel: str, files: list[Attachment], origin: Origin, person: str) -> None:
        """Files go where they were asked for if the bot can post there, joining a public channel
        first; otherwise to the person's direct message, with a line where they asked saying so."""
        if not files:
            return
        if self.shared.outside(channel):
            delivery.upload_files(self.client, self.direct_message(person), files)
            if person == origin.user and channel == origin.channel:
                self._say_where_it_went(_names(files), origin, SHARED_REASON)
            return
        try:
            self._upload_joining(channel, files)
        except SlackApiError as error:
            if _error_code(error) not in UNREACHABLE_CHANNEL_ERRORS:
                raise
            delivery.upload_files(self.client, self.direct_message(person), files)
            log.info("files for %s went to their direct message: %s refused them (%s)", person, channel,
                     _error_code(error))
            if person == origin.user and channel == origin.channel:
                reason = UNREACHABLE_REASON + (INVITE_HINT if is_private_channel(origin) else "")
                self._say_where_it_went(_names(files), origin, reason)

    def _upload_joining(self, channel: str, files: list[Attachment]) -> None:
        try:
            delivery.upload_files(self.client, channel, files)
        except SlackApiError as error:
            if _error_code(error) != "not_in_channel":
                raise
            try:
                self.client.conversations_join(channel=channel)
            except SlackApiError as refused:
                log.info("could not join %s: %s", channel, _error_code(refused))
                raise error from None
            delivery.upload_files(self.client, channel, files)

    def _say_where_it_went(self, what: str, origin: Origin, reason: str) -> None:
        """A line where the person asked, saying where the answer went and why."""
        note = Reply(f"{what[:200]}: sent to your direct message with the app, {reason}", private=True)
        if self._respond_if_possible(origin, note):
            return
        try:
            if origin.channel:
                delivery.post_ephemeral(self.client, origin.channel, origin.user, note)
        except SlackApiError as error:
            log.info("could not say where the answer went for %s: %s", origin.user, _error_code(error))

    def _replace(self, reply: Reply, origin: Origin) -> None:
        if origin.message_ts and origin.channel:
            delivery.update_message(self.client, origin.channel, origin.message_ts, reply)
        elif origin.response_url:
            delivery.respond(origin.response_url, reply, replace_original=True)
            self._upload_to_origin(reply, origin)
        else:
            self._post(self._require_channel(origin), reply, origin)

    def _rewrite_announcement(self, reply: Reply, origin: Origin) -> None:
        """chat.update the approval request, with no buttons left; skipped when the click was on it."""
        assert reply.channel and reply.message_ref
        if (reply.channel, reply.message_ref) == (origin.channel, origin.message_ts):
            return
        delivery.update_message(self.client, reply.channel, reply.message_ref, reply)

    def _to_approvers(self, reply: Reply, origin: Origin) -> None:
        channel = self.slack.approval_channel
        if not channel:
            log.warning("PAYOUT_APPROVAL_CHANNEL is not set; the approval request goes to %s", origin.channel)
            channel = self._require_channel(origin)
        self._check_allowed(channel)
        ts = delivery.post_reply(self.client, channel, reply)
        batch_id = next((button.value for button in reply.buttons if button.action == APPROVE), None)
        if ts and batch_id:
            use_batches.remember_announcement(Request(self.db, Settings(), origin.user), batch_id,
                                              Announcement(channel, ts))

    def _upload_to_origin(self, reply: Reply, origin: Origin) -> None:
        """Files cannot be ephemeral: they are shared in the channel the request came from."""
        if reply.files:
            channel = self._require_channel(origin)
            self._check_allowed(channel)
            self._share_files(channel, reply.files, origin, origin.user)

    def _check_allowed(self, channel: str) -> None:
        if not self.slack.may_post_to(channel):
            raise NotAllowedHere(f"{channel} is not in LEDGER_CHANNELS")

    def _open_form(self, reply: Reply, origin: Origin) -> None:
        assert reply.form is not None
        if not origin.trigger_id:
            raise ValueError("a form can only open from a command or a button")
        view = render_modal(reply.form, ModalOrigin(reply.form.context, origin.channel))
        self.client.views_open(trigger_id=origin.trigger_id, view=view)

    def _tell_failure(self, reply: Reply, origin: Origin, error: Exception) -> None:
        """The person hears of it where they asked, else in their direct message; the audit log keeps it."""
        note = Reply.error(f"“{reply.headline[:120]}” could not be delivered ({_error_code(error)}). "
                           "Whatever the command recorded stands; it was not repeated.")
        self._audit_failure(reply, origin, error)
        try:
            if self._respond_if_possible(origin, note):
                return
            if origin.channel:
                try:
                    delivery.post_ephemeral(self.client, origin.channel, origin.user, note)
                    return
                except SlackApiError as unreachable:
                    if _error_code(unreachable) not in UNREACHABLE_CHANNEL_ERRORS:
                        raise
            delivery.post_message(self.client, self.direct_message(origin.user), note)
        except Exception as second:
            log.error("could not tell %s about the failure either: %s", origin.user, _error_code(second))

    def _audit_failure(self, reply: Reply, origin: Origin, error: Exception) -> None:
        try:
            with self.db.write() as session:
                audit.record(session, origin.user, "slack.undelivered", reply.headline[:200],
                             channel=origin.channel, target=reply.target.value, error=_error_code(error))
        except Exception:
            log.exception("could not record the undelivered reply for %s in the audit log", origin.user)
