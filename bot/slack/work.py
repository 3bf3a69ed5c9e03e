"""Work done after the ack: bounded thread pools apart from Bolt's, so slow reports never delay an ack."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

# Reports are CPU-bound Python: every extra report thread is one more contender for the GIL that
# an ack needs. Measured with bench/slack_ack.py, 2 threads keep acks well under the target where
# 8 pushed the p99 past it; two still let one report wait on Slack while the other computes.
DEFAULT_WORKERS = 2
# CPython passes the GIL between threads every 5 ms by default; an ack is a handful of short steps,
# each of which may wait that long behind a report. 1 ms halved the p99 ack time in the benchmark.
ACK_SWITCH_INTERVAL = 0.001


def favour_acks() -> None:
    """For the serving process only: shorter GIL turns, so acks are not held up behind reports."""
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)


class WorkQueue:
    def __init__(self, workers: int = DEFAULT_WORKERS, name: str = "slack-work") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def submit(self, what: str, job: Callable[[], None]) -> Future[None]:
        """Run `job` later; a failure is logged with `what`, since nobody waits on the future."""
        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("background work failed: %s", what)
        return self._pool.submit(run)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
