"""A Keap account of 10,000 affiliates synced against the Keap double, with a key's limits enforced.

The double (tests/keap_double.py) refuses what a Personal Access Token or Service Account Key may
not do (10 requests a second, 240 a minute, 30,000 a day) on a simulated clock shared with the
client: every wait the client makes advances the clock at once, so the simulated duration is what
the sync would take against Keap, and the real duration is the work itself (HTTP on 127.0.0.1 and
the database). Runs a first sync (with payments, before the switch-over) and then an incremental
one a day later, in one process, and prints a Markdown table: requests, simulated and real time,
and peak memory (the process's max RSS, before the sync — the double's data — and after it).

    python bench/keap_sync.py [--affiliates 10000] [--commissions 50000] [--history 0] [--postgres URL]

`--partners` is another name for `--affiliates` (each affiliate becomes a partner). With
`--history N` the sync lands in a copy of bench/_data.py's SQLite ledger of as many partners
(codes P000001…) and N entries before June 2015, instead of an empty database.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.keap_client import KeapClient  # noqa: E402
from commands.keap_sync import KeapSettings, KeapSync  # noqa: E402
from domain import migrations_runner  # noqa: E402
from domain.db import Database  # noqa: E402
from domain.settings import Settings  # noqa: E402
from tests.keap_double import KEY, KeapDouble, SimClock, generate  # noqa: E402

START = datetime(2015, 7, 15, 1, 0, tzinfo=UTC)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_sync(db: Database, double: KeapDouble, now: datetime, keap: KeapSettings) -> dict[str, float]:
    hits_before, simulated_before, real_before = len(double.hits), double.clock.time(), time.perf_counter()
    client = KeapClient(KEY, double.base_url, clock=double.clock)
    summary = KeapSync(db, Settings(timezone="America/New_York", fixed_now=now), keap, client, "bench").run()
    hits = double.hits[hits_before:]
    return {
        "requests": len(hits), "refused": sum(1 for hit in hits if hit.status == 429),
        "simulated_min": (double.clock.time() - simulated_before) / 60,
        "real_s": time.perf_counter() - real_before, "added": summary.added, "problems": len(summary.problems),
        "peak_second": double.most_in_any_second(), "peak_minute": double.most_in_any_minute(),
        "rss_mb": max_rss_mb(),
    }


def _sqlite_url(folder: Path, partners: int, history: int) -> str:
    """A fresh SQLite file, or with `history`, a copy of bench/_data.py's ledger of `partners` partners."""
    if not history:
        return f"sqlite:///{folder}/payouts.db"
    from _data import Shape, fresh_copy, sqlite_dataset

    return f"sqlite:///{fresh_copy(sqlite_dataset(Shape(partners, history)), folder)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--affiliates", "--partners", type=int, default=10_000)
    parser.add_argument("--commissions", type=int, default=50_000)
    parser.add_argument("--clawbacks", type=int, default=2_000)
    parser.add_argument("--payments", type=int, default=1_000)
    parser.add_argument("--postgres", metavar="URL", help="a database URL instead of a fresh SQLite file")
    parser.add_argument("--history", type=int, default=0, help="entries the ledger holds before the first sync")
    args = parser.parse_args()
    if args.history and args.postgres:
        parser.error("--history builds a SQLite ledger; it does not go with --postgres")

    account = generate(seed=10_000, affiliates=args.affiliates, commissions=args.commissions,
                       clawbacks=args.clawbacks, payments=args.payments, end=date(2015, 7, 14))
    with tempfile.TemporaryDirectory() as folder, KeapDouble(account, clock=SimClock(START)) as double:
        db = Database(args.postgres or _sqlite_url(Path(folder), args.affiliates, args.history))
        migrations_runner.upgrade(db.engine)
        baseline = max_rss_mb()
        keap = replace(KeapSettings(api_key=KEY, api_url=double.base_url), payments_until=date(2015, 1, 31))
        first = one_sync(db, double, START, keap)
        double.clock.advance(86_400)
        second = one_sync(db, double, datetime.fromtimestamp(double.clock.time(), UTC), keap)
        db.dispose()

    print(f"{args.affiliates:,} affiliates, {args.commissions:,} commissions, {args.clawbacks:,} clawbacks, "
          f"{args.payments:,} payments, {args.history:,} ledger entries before; "
          f"database {'PostgreSQL' if args.postgres else 'SQLite'}; "
          f"max RSS before the first sync (the double and its data): {baseline:.0f} MB\n")
    print("| sync | requests | 429s | most a second | most a minute | simulated | real | entries added | max RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, run in (("first (with payments)", first), ("incremental, a day later", second)):
        print(f"| {name} | {run['requests']:,} | {run['refused']} | {run['peak_second']} | {run['peak_minute']} | "
              f"{run['simulated_min']:.0f} min | {run['real_s']:.0f} s | {run['added']:,} | {run['rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
