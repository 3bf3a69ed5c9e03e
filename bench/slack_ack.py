"""How fast the Slack app acknowledges slash commands while the reports they ask for are running.

Slack gives an app 3 seconds to answer a slash command; this measures the time to the HTTP answer
as Slack would see it, with the app served as in production (`payouts serve`: gunicorn in front
of the Bolt app) and the Web API replaced by the local double from tests/slack_double.py.

It builds its own data the way a user would (`payouts demo --no-shell --partners N` into a
temporary SQLite database), starts `payouts serve`, and then, for each run, fires `--rounds`
rounds of `--concurrency` simultaneous signed `/ledger last-month` commands (each one starts a
full report, its summary is posted after the ack). With `--history N` the ledger is instead
bench/_data.py's (`--partners` partners, N entries before June 2015, two a partner in June) and
the commands are `/ledger 2015-06`, the month after that history. After each round of commands, the same number
of simultaneous `GET /healthz` requests is the baseline: the server's plain round trip under the
same load. Prints p50/p95/p99/max per run and the median over runs, in milliseconds.

    python bench/slack_ack.py [--partners 2000] [--history N] [--concurrency 20] [--rounds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.slack_double import SlackApiDouble
from tests.slack_signing import command_body, sign

PAYOUTS = str(Path(sys.executable).with_name("payouts"))
SECRET = "bench-signing-secret"
VIEWER = "U_REQ"  # who tests.slack_signing.command_body says sends the command; roles deny by default (SPEC §8)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(request: urllib.request.Request) -> float:
    """Milliseconds until the whole HTTP answer is in; anything but 200 stops the benchmark."""
    started = time.perf_counter()
    with OPENER.open(request, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{request.full_url} answered {response.status}")
    return (time.perf_counter() - started) * 1000


def slash_command(base: str, response_url: str, period: str = "last-month") -> float:
    body = command_body("/ledger", period, response_url=response_url)
    return timed(urllib.request.Request(base + "/slack/events", data=body.encode(), headers=sign(body, SECRET)))


def healthz(base: str) -> float:
    return timed(urllib.request.Request(base + "/healthz"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float]) -> tuple[float, float, float, float]:
    return percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99), max(values)


def start_server(database: str, double: SlackApiDouble,
                 extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": double.base_url, "DATABASE_URL": database, **(extra_env or {})}
    server = subprocess.Popen([PAYOUTS, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            healthz(base)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("payouts serve did not come up")


def one_run(base: str, double: SlackApiDouble, concurrency: int, rounds: int,
            period: str = "last-month") -> tuple[list[float], list[float]]:
    acks: list[float] = []
    health: list[float] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(rounds):
            acks += pool.map(lambda _: slash_command(base, double.response_url("bench"), period), range(concurrency))
            health += pool.map(lambda _: healthz(base), range(concurrency))
    return acks, health


def _database(folder: Path, partners: int, history: int | None) -> str:
    """The demo's data for `partners` partners, or with `history`, a copy of bench/_data.py's ledger."""
    if history is not None:
        from _data import Shape, fresh_copy, sqlite_dataset

        return f"sqlite:///{fresh_copy(sqlite_dataset(Shape(partners, history, 2 * partners)), folder)}"
    database = f"sqlite:///{folder / 'bench.db'}"
    subprocess.run([PAYOUTS, "--database", database, "demo", "--no-shell", "--partners", str(partners)],
                   check=True, capture_output=True)
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--history", type=int,
                        help="entries before June 2015 in bench/_data.py's ledger, instead of the demo's data")
    args = parser.parse_args()
    period = "last-month" if args.history is None else "2015-06"

    with tempfile.TemporaryDirectory() as folder, SlackApiDouble() as double:
        database = _database(Path(folder), args.partners, args.history)
        server, base = start_server(database, double, {"LEDGER_VIEWERS": VIEWER})
        try:
            rows = []
            for run in range(1, args.runs + 1):
                acks, health = one_run(base, double, args.concurrency, args.rounds, period)
                rows.append((run, summary(acks), summary(health)))
            expected = args.runs * args.rounds * args.concurrency
            posted = len(double.wait_for("chat.postMessage", count=expected, timeout=600))
        finally:
            server.terminate()
            server.wait(timeout=30)

    data = f"{args.partners} demo partners" if args.history is None else \
        f"{args.partners:,} partners, {args.history:,} entries before the month"
    print(f"{args.concurrency} concurrent signed /ledger {period}, {args.rounds} rounds per run, "
          f"{data}; milliseconds to the HTTP answer")
    print(f"{'run':>6}  {'what':<14}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for run, ack, health in rows:
        print(f"{run:>6}  {'/ledger ack':<14}" + "".join(f"{v:8.1f}" for v in ack))
        print(f"{'':>6}  {'GET /healthz':<14}" + "".join(f"{v:8.1f}" for v in health))
    medians = [[statistics.median(row[kind][i] for row in rows) for i in range(4)] for kind in (1, 2)]
    print(f"{'median':>6}  {'/ledger ack':<14}" + "".join(f"{v:8.1f}" for v in medians[0]))
    print(f"{'':>6}  {'GET /healthz':<14}" + "".join(f"{v:8.1f}" for v in medians[1]))
    print(f"reports answered after their ack: {posted} of {expected}")


if __name__ == "__main__":
    main()
