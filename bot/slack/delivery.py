"""Putting rendered replies into Slack: messages, in-place updates, ephemeral notes and files."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.slack.blocks import render_message
from bot.slack.client import retry_handlers
from bot.slack.templating import plain_line
from commands.reply import Attachment, Reply


def _has_message(reply: Reply) -> bool:
    return bool(reply.headline or reply.sections or reply.figures or reply.table or reply.buttons)


def upload_files(client: WebClient, channel: str, files: list[Attachment]) -> None:
    """files_upload_v2 with the channel's ID, so the files are shared there rather than left private."""
    if not files:
        return
    client.files_upload_v2(
        channel=channel,
        file_uploads=[
            {"content": attachment.content, "filename": attachment.filename, "title": plain_line(attachment.title or attachment.filename)}
            for attachment in files
        ],
    )


def post_message(client: WebClient, channel: str, reply: Reply) -> str | None:
    """chat.postMessage without the files; the message's ts, if there was anything to post."""
    if not _has_message(reply):
        return None
    return client.chat_postMessage(channel=channel, **render_message(reply)).get("ts")


def post_reply(client: WebClient, channel: str, reply: Reply) -> str | None:
    """Post the reply to `channel` (chat.postMessage), then its files; the message's ts, if one was posted."""
    ts = post_message(client, channel, reply)
    upload_files(client, channel, reply.files)
    return ts


def update_message(client: WebClient, channel: str, ts: str, reply: Reply) -> None:
    """Rewrite a posted message in place; its buttons go, so nobody can click a decided request."""
    client.chat_update(channel=channel, ts=ts, **render_message(reply, with_buttons=False))
    upload_files(client, channel, reply.files)


def post_ephemeral(client: WebClient, channel: str, user: str, reply: Reply) -> None:
    client.chat_postEphemeral(channel=channel, user=user, **render_message(reply))


def respond(response_url: str, reply: Reply, *, response_type: str = "ephemeral", replace_original: bool = False) -> None:
    """Answer through a response_url (at most five times per interaction, so only for the answer itself)."""
    webhook = WebhookClient(response_url, retry_handlers=retry_handlers())
    payload = render_message(reply, with_buttons=not replace_original)
    if replace_original:
        response = webhook.send(replace_original=True, **payload)
    else:
        response = webhook.send(response_type=response_type, **payload)
    if response.status_code >= 400:
        raise DeliveryFailed(f"response_url answered {response.status_code}: {response.body}")


class DeliveryFailed(RuntimeError):
    """Slack did not take a reply sent through a response_url."""
