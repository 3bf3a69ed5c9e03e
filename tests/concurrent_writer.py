"""Two writers at once on PostgreSQL: one has written rows and not committed them, while the other,
in a thread, waits for their locks; then the first commits and the second goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import TextClause, text


def someone_waits_for_a_lock(db) -> bool:  # type: ignore[no-untyped-def]
    """Whether a connection to the test's database is blocked on a lock, polled for up to ten seconds."""
    for _ in range(200):
        with db.engine.connect() as probe:
            if probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND datname = current_database()")).scalar_one():
                return True
        time.sleep(0.05)
    return False


def while_uncommitted(db, statement: TextClause, params: dict, act: Callable[[], object]) -> list[Exception]:  # type: ignore[no-untyped-def]
    """Run `act` in a thread while `statement` is written but not committed on another connection;
    commit it once `act` waits for its locks. What `act` raised is returned."""
    raised: list[Exception] = []

    def run() -> None:
        try:
            act()
        except Exception as error:  # handed to the test to assert on
            raised.append(error)

    with db.engine.connect() as writer:
        writer.execute(statement, params)
        thread = threading.Thread(target=run)
        thread.start()
        assert someone_waits_for_a_lock(db)
        writer.commit()
    thread.join(30)
    assert not thread.is_alive()
    return raised
