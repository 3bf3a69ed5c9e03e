"""Channels shared with another organisation (Slack Connect): ledger data is never posted into one
unless LEDGER_CHANNELS lists it (SPEC §8, outsiders). `conversations.info` says whether a channel
is shared (`is_ext_shared`, or `is_pending_ext_shared` while an invitation is open)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


class SharedChannels:
    def __init__(self, client: WebClient, listed: Iterable[str], *, ttl: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._listed = frozenset(channel for channel in listed if channel)
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, bool]] = {}

    def outside(self, channel: str) -> bool:
        """True for a channel shared with another organisation that LEDGER_CHANNELS does not list.

        Direct messages with the app are never shared. A channel Slack will not describe (a private
        channel without the bot) counts as not shared: nothing can be posted there anyway.
        """
        if channel in self._listed or channel.startswith("D"):
            return False
        now = self._clock()
        with self._lock:
            cached = self._cache.get(channel)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        shared = self._ask(channel)
        with self._lock:
            self._cache[channel] = (now, shared)
        return shared

    def _ask(self, channel: str) -> bool:
        try:
            info = self._client.conversations_info(channel=channel).get("channel") or {}
        except (SlackApiError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.info("could not read whether %s is shared: %s", channel, reason)
            return False
        return bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
