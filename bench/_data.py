"""Data sets for the benchmarks, built fast and cached under bench/.data/ (git-ignored).

A data set is a migrated database holding `partners` partners and a ledger with `history`
entries dated before June 2015, `month` entries in June 2015 and `after` entries in early July.
Rows go straight in with the sqlite3 module's executemany (or COPY on PostgreSQL) rather than
through the import path, so building a million-entry ledger takes seconds, not minutes. The
database's own insert trigger keeps `partner.balance`, exactly as it does for real imports.

The same deterministic generator writes the CSV files the import benchmark feeds to `payouts`.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from _measure import PAYOUTS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
FORMAT_VERSION = 1
HISTORY_START = date(2010, 1, 1)
MONTH_START = date(2015, 6, 1)
MONTH_END = date(2015, 6, 30)
AFTER_END = date(2015, 7, 14)
RECORDED_AT = "2015-07-15 00:00:00.000000"

ENTRY_COLUMNS = (
    "partner_id", "kind", "amount", "currency", "effective_date", "reference", "description",
    "recorded_at", "recorded_by",
)
PARTNER_COLUMNS = ("id", "code", "name", "email", "payout_email", "currency", "status", "balance", "created_at")


@dataclass(frozen=True)
class Shape:
    """How big a data set is; its name is the cache key."""

    partners: int
    history: int
    month: int = 0
    after: int = 0
    seed: int = 2015

    @property
    def name(self) -> str:
        return f"v{FORMAT_VERSION}-p{self.partners}-h{self.history}-m{self.month}-a{self.after}-s{self.seed}"

    @property
    def entries(self) -> int:
        return self.history + self.month + self.after


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def currency_of(partner: int) -> str:
    """One partner in ten is paid in EUR, one in fifty in JPY; the rest in USD."""
    if partner % 50 == 0:
        return "JPY"
    return "EUR" if partner % 10 == 0 else "USD"


def partner_rows(count: int) -> Iterator[tuple]:
    for number in range(1, count + 1):
        code = f"P{number:06d}"
        yield (number, code, f"Partner {number}", f"{code.lower()}@example.com", None, currency_of(number),
               "active", 0, RECORDED_AT)


def _spread(count: int, first: date, last: date) -> Iterator[date]:
    """`count` dates from first to last, in order, evenly spread (entries arrive over time)."""
    span = (last - first).days + 1
    for index in range(count):
        yield first + timedelta(days=index * span // max(count, 1))


def _kind(rng: random.Random) -> str:
    draw = rng.randrange(20)
    if draw < 16:
        return "commission"
    return "clawback" if draw < 18 else "payment"


def entry_rows(shape: Shape) -> Iterator[tuple[int, str, int, str, date, str, str]]:
    """(partner, kind, minor units, currency, date, reference, description), history first."""
    rng = random.Random(shape.seed)
    periods = (
        (shape.history, HISTORY_START, MONTH_START - timedelta(days=1)),
        (shape.month, MONTH_START, MONTH_END),
        (shape.after, MONTH_END + timedelta(days=1), AFTER_END),
    )
    number = 0
    for count, first, last in periods:
        for day in _spread(count, first, last):
            number += 1
            partner = rng.randrange(1, shape.partners + 1)
            currency = currency_of(partner)
            amount = rng.randrange(1, 600) if currency == "JPY" else rng.randrange(100, 50_000)
            yield partner, _kind(rng), amount, currency, day, f"R{number}", f"Order {number}"


def _migrated_sqlite(path: Path) -> None:
    """An empty database at the schema `payouts init` creates (run as a user would)."""
    subprocess.run(
        [*PAYOUTS, "--database", f"sqlite:///{path}", "init"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )


def _fill_sqlite(path: Path, shape: Shape) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -262144")
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO partner ({', '.join(PARTNER_COLUMNS)}) VALUES ({', '.join('?' * len(PARTNER_COLUMNS))})",
        partner_rows(shape.partners),
    )
    connection.executemany(
        f"INSERT INTO entry ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
        (
            (partner, kind, amount, currency, day.isoformat(), reference, description, RECORDED_AT, "bench")
            for partner, kind, amount, currency, day, reference, description in entry_rows(shape)
        ),
    )
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def sqlite_dataset(shape: Shape) -> Path:
    """The cached SQLite file for `shape`, built on first use."""
    DATA.mkdir(parents=True, exist_ok=True)
    target = DATA / f"ledger-{shape.name}.db"
    if target.exists():
        _migrated_sqlite(target)  # a file cached by an earlier schema is brought up to this one
        return target
    progress(f"building {target.name}: {shape.partners:,} partners, {shape.entries:,} entries …")
    started = time.perf_counter()
    building = target.with_suffix(".building")
    for stale in DATA.glob(building.name + "*"):
        stale.unlink()
    _migrated_sqlite(building)
    _fill_sqlite(building, shape)
    os.replace(building, target)
    progress(f"built {target.name} in {time.perf_counter() - started:.1f} s")
    return target


def fresh_copy(source: Path, directory: Path) -> Path:
    """A private copy of a cached data set, for a run that writes to it."""
    target = directory / source.name
    shutil.copyfile(source, target)
    return target


def tree_revision(tree: Path) -> str:
    """The schema revision the code of `tree` needs (its domain/schema_version.py)."""
    text = (tree / "domain" / "schema_version.py").read_text(encoding="utf-8")
    return text.split('HEAD_REVISION = "', 1)[1].split('"', 1)[0]


def script_revision(payouts: str) -> str:
    """The schema revision the `payouts` script of another checkout needs, asked of its own Python."""
    interpreter = Path(payouts).read_text(encoding="utf-8").splitlines()[0].removeprefix("#!").strip()
    answer = subprocess.run([interpreter, "-c", "from domain.schema_version import HEAD_REVISION as r; print(r)"],
                            check=True, capture_output=True, text=True, cwd=Path(payouts).parent)  # not this tree's
    return answer.stdout.strip()


DOWNGRADE = """
import sys
from alembic import command
from domain import migrations_runner
from domain.db import Database
database = Database("sqlite:///" + sys.argv[1])
command.downgrade(migrations_runner._config(database.engine), sys.argv[2])
"""


def at_revision(source: Path, revision: str, scratch: Path) -> Path:
    """A copy of a cached file taken down to `revision` (for code from before a migration), in a child
    process: a child's peak memory counts its parent's at the fork, so this process stays small."""
    target = scratch / f"{source.stem}-at-{revision}.db"
    shutil.copyfile(source, target)
    subprocess.run([sys.executable, "-c", DOWNGRADE, str(target), revision], check=True, cwd=ROOT)
    return target


def write_entries_csv(path: Path, shape: Shape, *, after: int = 0) -> Path:
    """The ledger of `shape` as an import file (SPEC §5), amounts in decimal text; `after` leaves out the
    first rows, which a data set of that many entries already holds (same generator, same seed)."""
    if path.exists():
        return path
    progress(f"writing {path.name}: {shape.entries:,} rows …")
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    with building.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(("date", "partner_code", "kind", "amount", "reference", "description"))
        for number, (partner, kind, amount, currency, day, reference, description) in enumerate(entry_rows(shape)):
            if number < after:
                continue
            text = str(amount) if currency == "JPY" else f"{amount // 100}.{amount % 100:02d}"
            out.writerow((day.isoformat(), f"P{partner:06d}", kind, text, reference, description))
    os.replace(building, path)
    return path


# ---- PostgreSQL -------------------------------------------------------------------------------


def postgres_dataset(admin_url: str, shape: Shape, *, prefix: str = "bench_") -> str:
    """A migrated PostgreSQL database holding `shape` (created once per server); returns its URL.

    `prefix` starts the database's name, so that benchmarks run at the same time on one server
    build and write their own copies."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = prefix + shape.name.replace("-", "_")
    base = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    plain = base.set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return plain.set(database=name).render_as_string(hide_password=False)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_building"')
        admin.execute(f'CREATE DATABASE "{name}_building"')
    building = plain.set(database=f"{name}_building").render_as_string(hide_password=False)
    progress(f"building PostgreSQL database {name}: {shape.partners:,} partners, {shape.entries:,} entries …")
    started = time.perf_counter()
    subprocess.run([*PAYOUTS, "--database", building, "init"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with psycopg.connect(building) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY partner ({', '.join(PARTNER_COLUMNS)}) FROM STDIN") as copy:
                for row in partner_rows(shape.partners):
                    copy.write_row(row)
            with cursor.copy(f"COPY entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
                for partner, kind, amount, currency, day, reference, description in entry_rows(shape):
                    copy.write_row((partner, kind, amount, currency, day, reference, description, RECORDED_AT, "bench"))
            cursor.execute("SELECT setval(pg_get_serial_sequence('partner', 'id'), %s)", (shape.partners,))
        connection.commit()
    with psycopg.connect(building, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
    progress(f"built {name} in {time.perf_counter() - started:.1f} s")
    return plain.set(database=name).render_as_string(hide_password=False)
