"""Work done after the ack: a bounded thread pool apart from Bolt's, so slow reports never delay an ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8


class WorkQueue:
    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-work")

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
