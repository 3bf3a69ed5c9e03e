"""The Web API client every Slack call goes through: one base URL, and retries Slack asks for."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.settings import SlackSettings

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2


def retry_handlers() -> list:  # type: ignore[type-arg]
    """429s wait for Retry-After; 500/503 and dropped connections are tried again a few times."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def web_client(settings: SlackSettings) -> WebClient:
    return WebClient(token=settings.bot_token or None, base_url=settings.api_url, retry_handlers=retry_handlers())
