"""Entries pushed through the HTTP API while Slack's acknowledgements are timed.

Builds a temporary SQLite database with `--partners` partners and a write token (`payouts init`,
`payouts import partners`, `payouts api-token create`; with `--history N`, N entries dated before
June 2015 through `payouts import entries`), starts `payouts serve` as in production
(gunicorn, one worker) with the Slack Web API replaced by the local double, and then posts
`--entries` entries in requests of `--per-request` items from `--clients` concurrent clients (a
503 is retried after its Retry-After, and counted). Meanwhile one client sends a signed
`/ledger last-month` slash command every `--ack-every` seconds and times the HTTP answer, as Slack
would see it. The request bodies are built before the clock starts.

Prints the wall time, entries a second, the server worker's peak resident memory (VmHWM), the
number of 503 answers, and p50/p95/p99/max of the acknowledgements in milliseconds.

    python bench/api_ingest.py [--entries 1000000] [--per-request 10000] [--clients 4] [--partners 1000] [--workers 1]
                               [--history 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.slack_ack import OPENER, PAYOUTS, SECRET, summary
from bench.slack_ack import start_server as start_slack_server
from tests.slack_double import SlackApiDouble
from tests.slack_signing import command_body, sign


def prepare(folder: Path, partners: int) -> tuple[str, str]:
    """A migrated database with the partners and a write token; returns (database URL, token)."""
    database = f"sqlite:///{folder / 'bench.db'}"
    subprocess.run([PAYOUTS, "--database", database, "init"], check=True, capture_output=True)
    csv_path = folder / "partners.csv"
    csv_path.write_text("code,name\n" + "".join(f"P{n:05d},Partner {n}\n" for n in range(partners)), encoding="utf-8")
    subprocess.run([PAYOUTS, "--database", database, "import", "partners", str(csv_path)], check=True,
                   capture_output=True)
    created = subprocess.run([PAYOUTS, "--database", database, "api-token", "create", "bench", "--scope", "write"],
                             check=True, capture_output=True, text=True)
    return database, created.stdout.strip()


def bodies(entries: int, per_request: int, partners: int) -> list[bytes]:
    """Request bodies of distinct entries, spread over the partners and June 2015, amounts as strings."""
    out = []
    for start in range(0, entries, per_request):
        items = [{"date": f"2015-06-{1 + n % 28:02d}", "partner_code": f"P{n % partners:05d}", "kind": "commission",
                  "amount": f"{1 + n % 500}.{n % 100:02d}", "reference": f"ORD-{n}"}
                 for n in range(start, min(entries, start + per_request))]
        out.append(json.dumps(items).encode())
    return out


def start_server(database: str, double: SlackApiDouble, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """`workers` gunicorn workers (WEB_CONCURRENCY; production's default is one)."""
    return start_slack_server(database, double, {"WEB_CONCURRENCY": str(workers)})


def worker_peak_mb(server: subprocess.Popen) -> float:
    """The largest VmHWM among gunicorn's workers (the children of the server process)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


class Poster:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.busy = 0
        self.added = 0
        self.lock = threading.Lock()

    def post(self, body: bytes) -> None:
        while True:
            request = urllib.request.Request(self.base + "/api/v1/entries", data=body, method="POST", headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            try:
                with OPENER.open(request, timeout=300) as response:
                    answer = json.loads(response.read())
                with self.lock:
                    self.added += answer["added"]
                return
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise SystemExit(f"POST /api/v1/entries answered {error.code}: {error.read()[:500]!r}") from None
                with self.lock:
                    self.busy += 1
                time.sleep(float(error.headers.get("Retry-After", "1")))


def ack_probe(base: str, double: SlackApiDouble, every: float, stop: threading.Event, acks: list[float]) -> None:
    while not stop.is_set():
        body = command_body("/ledger", "last-month", response_url=double.response_url("bench"))
        request = urllib.request.Request(base + "/slack/events", data=body.encode(), headers=sign(body, SECRET))
        started = time.perf_counter()
        with OPENER.open(request, timeout=30) as response:
            response.read()
        acks.append((time.perf_counter() - started) * 1000)
        stop.wait(every)


def add_history(database: str, folder: Path, partners: int, history: int) -> None:
    """`history` entries before June 2015, spread over the partners, imported as a user would."""
    csv_path = folder / "history.csv"
    with csv_path.open("w", encoding="utf-8") as handle:
        handle.write("date,partner_code,kind,amount,reference\n")
        for n in range(history):
            handle.write(f"{2010 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d},P{n % partners:05d},commission,"
                         f"{1 + n % 500}.{n % 100:02d},HIST-{n}\n")
    subprocess.run([PAYOUTS, "--database", database, "import", "entries", str(csv_path)], check=True,
                   capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--per-request", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--partners", type=int, default=1_000)
    parser.add_argument("--ack-every", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=1, help="WEB_CONCURRENCY of payouts serve")
    parser.add_argument("--history", type=int, default=0, help="entries the ledger holds before the ingest")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, SlackApiDouble() as double:
        database, token = prepare(Path(folder), args.partners)
        if args.history:
            add_history(database, Path(folder), args.partners, args.history)
        requests = bodies(args.entries, args.per_request, args.partners)
        server, base = start_server(database, double, args.workers)
        poster, acks, stop = Poster(base, token), [], threading.Event()
        probe = threading.Thread(target=ack_probe, args=(base, double, args.ack_every, stop, acks))
        try:
            probe.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                list(pool.map(poster.post, requests))
            elapsed = time.perf_counter() - started
            stop.set()
            probe.join()
            peak = worker_peak_mb(server)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=60)

    p50, p95, p99, most = summary(acks)
    print(f"{args.entries:,} entries in {len(requests)} requests of {args.per_request:,} from {args.clients} clients, "
          f"{args.partners:,} partners, {args.history:,} entries before, SQLite, {args.workers} worker(s)")
    print(f"time {elapsed:.1f} s, {poster.added / elapsed:,.0f} entries/s ({poster.added:,} added), "
          f"worker peak RSS {peak:.0f} MB, 503 answers {poster.busy}")
    print(f"Slack ack during it ({len(acks)} slash commands): p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  "
          f"max {most:.1f} ms")


if __name__ == "__main__":
    main()
