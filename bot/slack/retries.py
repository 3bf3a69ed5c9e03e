"""A request Slack (or a proxy) sends again with `X-Slack-Retry-Num` is acknowledged and not done
again (SPEC §8): a second reminder schedule or a second report would follow otherwise.

Slack retries what it thinks failed, with the same body; Bolt itself does not deduplicate
(slack.md §1.2). Only a retry of a body this process has already taken is dropped: a retry whose
first delivery never arrived is done once, as it should be. Remembered per process, for as long
as Slack keeps retrying (its last retry comes about five minutes after the first delivery).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 15 * 60.0
REMEMBER_AT_MOST = 10_000
RETRY_HEADER = "x-slack-retry-num"


class RetryFilter:
    def __init__(self, *, ttl: float = REMEMBER_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, body: str) -> bool:
        """True the first time a body is seen within the TTL; remembers it either way."""
        key = hashlib.sha256(body.encode("utf-8")).hexdigest()
        now = self._clock()
        with self._lock:
            while self._seen and (len(self._seen) > REMEMBER_AT_MOST or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            new = key not in self._seen
            self._seen[key] = now
        return new

    def middleware(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Bolt global middleware, after Bolt has checked the signature."""
        first = self.first_time(req.raw_body)
        retry = req.headers.get(RETRY_HEADER)
        if first or not retry:
            return next()
        reason = (req.headers.get("x-slack-retry-reason") or ["?"])[0]
        log.info("retry %s (%s) of a request already taken: acknowledged, not done again", retry[0], reason)
        return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
