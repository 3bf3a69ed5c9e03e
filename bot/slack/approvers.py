"""Who may approve: the user IDs in PAYOUT_APPROVERS plus the members of the user groups listed there."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 60.0


def is_user_group(entry: str) -> bool:
    return entry.startswith("S")


class ApproverDirectory:
    """Resolves user groups with usergroups.users.list, remembering each answer briefly.

    Membership changes in Slack show up within `ttl` seconds. When Slack cannot answer, the last
    known members are used; with none known, the group approves nobody (refusing is the safe side).
    """

    def __init__(self, client: WebClient, entries: tuple[str, ...], *, ttl: float = GROUP_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._users = frozenset(e for e in entries if not is_user_group(e))
        self._groups = tuple(e for e in entries if is_user_group(e))
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def approvers(self, *, refresh: bool = True) -> frozenset[str]:
        """With refresh=False no Slack call is made (for the ack path): groups count as last seen."""
        members = set(self._users)
        for group in self._groups:
            members |= self._members(group, refresh)
        return frozenset(members)

    def groups_of(self, user: str, *, refresh: bool = True) -> frozenset[str]:
        """The listed user groups `user` belongs to, for the roles those groups are given."""
        return frozenset(group for group in self._groups if user in self._members(group, refresh))

    def _members(self, group: str, refresh: bool) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group)
        if cached and (now - cached[0] < self._ttl or not refresh):
            return cached[1]
        if not refresh:
            return frozenset()
        try:
            users = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or [])
        except (SlackApiError, OSError) as error:  # OSError: Slack unreachable even after the retries
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("approver group %s could not be read: %s", group, reason)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._cache[group] = (now, users)
        return users
