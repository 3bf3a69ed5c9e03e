"""How long App Home takes, from the `app_home_opened` event to Slack receiving `views.publish`.

SPEC §13 asks for Home within 1 s of the event for 10,000 partners. The app is served as in
production (`payouts serve`) against the Web API double of tests/slack_double.py, which checks
each published view as Slack would. The ledger is bench/_data.py's (`--partners` partners, 10,000 by
default; `--history` entries before June 2015, a million by default; two a partner in June and one
in early July), with one posted batch and one pending batch of every partner owed in a month, so
the page lists real batches. Each run sends one signed event and times:

- the HTTP answer to the event (the ack, which must not wait for Home),
- `views.publish` arriving at the double (what the person sees),
- `GET /healthz` as the baseline round trip, in the same run.

    python bench/app_home.py [--runs 9] [--held 30] [--partners 10000] [--history 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import Shape, fresh_copy, sqlite_dataset
from slack_ack import SECRET, healthz, start_server, timed

from commands import use_batches
from commands.context import Request
from domain.batches import BatchOptions
from domain.dates import DateRange
from domain.db import Database
from domain.settings import Settings
from tests.slack_double import SlackApiDouble
from tests.slack_signing import home_opened_body, sign

MONTH_PER_PARTNER, AFTER_PER_PARTNER = 2, 1
APPROVER = "U_BENCH"


def add_batches(url: str) -> None:
    """A posted batch for May and a pending one for June, each paying every partner owed."""
    operator = Request.operator(Database(url), Settings(), "cli:bench")
    use_batches.pay_now(operator, BatchOptions(DateRange(date(2015, 5, 1), date(2015, 5, 31)), "commission",
                                               "Check", date(2015, 6, 5)))
    use_batches.request_batch(operator, BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "commission",
                                                     "Check", date(2015, 7, 5)))


def open_home(base: str, double: SlackApiDouble, published: int) -> tuple[float, float]:
    """Milliseconds to the event's HTTP answer, and to the double receiving the views.publish."""
    body = home_opened_body(APPROVER)
    started = time.perf_counter()
    ack = timed(urllib.request.Request(base + "/slack/events", data=body.encode(),
                                       headers=sign(body, SECRET, content_type="application/json")))
    [*_, call] = double.wait_for("views.publish", count=published, timeout=60)
    if call.error:
        raise SystemExit(f"views.publish refused: {call.error}")
    return ack, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--held", type=int, default=0, help="HOLD_DAYS for the server (0: no hold)")
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000_000, help="entries before June 2015")
    args = parser.parse_args()
    shape = Shape(args.partners, args.history, MONTH_PER_PARTNER * args.partners, AFTER_PER_PARTNER * args.partners)

    with tempfile.TemporaryDirectory() as folder, SlackApiDouble() as double:
        url = f"sqlite:///{fresh_copy(sqlite_dataset(shape), Path(folder))}"
        add_batches(url)
        server, base = start_server(url, double, {"PAYOUT_APPROVERS": APPROVER, "HOLD_DAYS": str(args.held)})
        try:
            open_home(base, double, 1)  # untimed warm-up: imports, caches, the first connection
            acks, homes, health = [], [], []
            for run in range(args.runs):
                ack, home = open_home(base, double, run + 2)
                acks.append(ack)
                homes.append(home)
                health.append(healthz(base))
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"App Home for {shape.partners:,} partners, {shape.entries:,} entries, HOLD_DAYS={args.held}; "
          f"milliseconds, median of {args.runs} (every run)")
    print("| what | median ms | runs (ms) |")
    print("|---|---|---|")
    for label, values in (("event to views.publish received", homes), ("event ack (HTTP answer)", acks),
                          ("GET /healthz (baseline)", health)):
        print(f"| {label} | {statistics.median(values):.0f} | {' '.join(f'{v:.0f}' for v in values)} |")


if __name__ == "__main__":
    main()
