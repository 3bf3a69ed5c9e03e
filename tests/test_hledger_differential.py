"""The ledger report agrees with hledger, an independent double-entry engine, on random ledgers.

Each ledger is a few partners in several currencies (USD, EUR, JPY with no decimals, KWD with
three) with two years of commissions, clawbacks and payments imported from CSV, plus payment
batches posted and voided through the domain. The same facts are written as an hledger journal,
one account per partner and per partner and kind, amounts as decimals with the currency's
exponent and the currency as commodity. For many ranges, including one-day ranges and ranges
before any entry, every figure of every partner's report row must equal hledger's. Some posted
batches have failed lines (SPEC §10) before some of them are voided.

Hold periods (SPEC §12) are checked the same way: with HOLD_DAYS of 0, 14 and 30 and partners with
holds of their own, a partner's `on_hold` is hledger's balance of its commission account over the
hold window before the day asked about (a date: query), and `payable` and each method's amount
follow from those balances.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from domain import batches, imports
from domain.batches import ApprovalPolicy, BatchError, BatchOptions
from domain.dates import DateRange, month_range
from domain.holds import partner_hold_days
from domain.ledger import ledger_report
from domain.models import Entry, Partner

HLEDGER = shutil.which("hledger")
pytestmark = pytest.mark.skipif(HLEDGER is None, reason="hledger is not installed (apt-get install hledger)")

EXPONENTS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
FIRST_DAY = date(2013, 1, 1)
LAST_DAY = date(2014, 12, 31)
NOW = datetime(2015, 1, 10, 9, 0, tzinfo=UTC)
OPERATOR = ApprovalPolicy(frozenset(), trusted_operator=True)
KINDS = ("commission", "clawback", "payment")


def decimal_text(minor: int, currency: str) -> str:
    """Minor units as the decimal a person would type, written here without the code under test."""
    places = EXPONENTS[currency]
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def minor_units(text: str, currency: str) -> int:
    """hledger's '1234.500 KWD' or '0' back to minor units; anything inexact is a test failure."""
    number = text.replace(currency, "").strip()
    scaled = Decimal(number).scaleb(EXPONENTS[currency])
    assert scaled == scaled.to_integral_value(), f"hledger printed {text!r}, finer than {currency} allows"
    return int(scaled)


@dataclass(frozen=True)
class Ledger:
    codes: dict[str, str]
    first_entry: date


def _random_entries_csv(rng: random.Random, codes: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "kind", "amount", "partner_code", "date", "description"])
    for code, currency in codes.items():
        for number in range(rng.randint(0, 40)):
            kind = rng.choices(KINDS, weights=(6, 2, 2))[0]
            day = FIRST_DAY + timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
            minor = rng.choice((1, rng.randint(1, 10**EXPONENTS[currency] * 50), rng.randint(1, 10**9)))
            writer.writerow([f"{code}-{number}", kind, decimal_text(minor, currency), code, day.isoformat(), ""])
    return out.getvalue()


def _fail_some_lines(rng: random.Random, db, batch_id: str) -> None:
    """Each paid line of the batch fails with a chance of one in three; some twice, which changes nothing."""
    with db.read() as session:
        paid, _ = batches.frozen_lines(batches.get_batch(session, batch_id))
    for line in paid:
        if rng.random() < 1 / 3:
            for _ in range(rng.choice((1, 1, 2))):
                with db.write() as session:
                    batches.fail_batch_line(session, batch_id, line.partner_code, actor="cli:test",
                                            reason="returned", now=NOW)


def _post_and_void_batches(rng: random.Random, db) -> None:
    """A few batches for random months, each posted; some with failed lines; some voided afterwards."""
    for number in range(rng.randint(1, 4)):
        month = month_range(2013 + rng.randint(0, 1), rng.randint(1, 12))
        options = BatchOptions(
            period=month, method=rng.choice(batches.METHODS), payment_type="Check",
            payment_date=month.end + timedelta(days=rng.randint(0, 20)), batch_id=f"B-{number}",
            allow_overlap=True,
        )
        try:
            with db.write() as session:
                batches.request_batch(session, options, actor="cli:test", now=NOW)
        except BatchError:
            continue
        with db.write() as session:
            batches.approve_batch(session, options.batch_id, actor="cli:test", policy=OPERATOR, now=NOW)
        if rng.random() < 0.5:
            _fail_some_lines(rng, db, options.batch_id)
        if rng.random() < 0.5:
            with db.write() as session:
                batches.void_batch(session, options.batch_id, actor="cli:test", reason="sent twice", now=NOW)


def build_random_ledger(db, seed: int) -> Ledger:
    rng = random.Random(seed)
    currencies = list(EXPONENTS)
    codes = {f"P{index:02d}": currencies[index % len(currencies)] for index in range(rng.randint(4, 8))}
    partners_csv = "code,name,currency\n" + "".join(f"{code},Partner {code},{cur}\n" for code, cur in codes.items())
    with db.write() as session:
        imports.import_partners(session, io.StringIO(partners_csv), source="partners.csv", actor="cli:test",
                                default_currency="USD")
        imports.import_entries(session, io.StringIO(_random_entries_csv(rng, codes)), source="entries.csv",
                               actor="cli:test")
    _post_and_void_batches(rng, db)
    with db.read() as session:
        first = session.scalar(select(Entry.effective_date).order_by(Entry.effective_date).limit(1))
    return Ledger(codes, first or FIRST_DAY)


def write_journal(db, path: Path, *, leaving_out: tuple[str, str] | None = None) -> None:
    """Every stored entry as an hledger transaction: the partner's account against its kind's.
    `leaving_out` (batch ID, partner code) leaves out that partner's entries of that batch."""
    lines = ["decimal-mark .", *(f"commodity 1000.{'0' * places} {cur}" for cur, places in EXPONENTS.items()), ""]
    with db.read() as session:
        entries = session.execute(
            select(Entry.effective_date, Entry.kind, Entry.amount, Entry.currency, Entry.reference, Partner.code)
            .join(Partner, Partner.id == Entry.partner_id)
            .order_by(Entry.id)
        )
        for day, kind, amount, currency, reference, code in entries:
            if leaving_out and code == leaving_out[1] and reference.split(":")[0] == leaving_out[0]:
                continue
            effect = amount if kind == "commission" else -amount
            lines += [
                f"{day.isoformat()} {kind} {reference}",
                f"    partner:{code}    {decimal_text(effect, currency)} {currency}",
                f"    {kind}:{code}",
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")


def hledger_balances(journal: Path, query: str, *period_flags: str) -> dict[str, str]:
    """`hledger balance` as {account: amount text}, read from its CSV output."""
    output = subprocess.run(
        [HLEDGER, "-f", str(journal), "balance", query, "--flat", "--no-total", "-O", "csv", *period_flags],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["account", "balance"], output
    return {account: amount for account, amount in rows[1:]}


def hledger_figures(journal: Path, period: DateRange, codes: dict[str, str]) -> dict[str, tuple[int, ...]]:
    """(beginning, commissions, clawbacks, payments, ending) per partner, as hledger computes them."""
    after_end = (period.end + timedelta(days=1)).isoformat()
    before = hledger_balances(journal, "^partner:", "-e", period.start.isoformat())
    ending = hledger_balances(journal, "^partner:", "-H", "-b", period.start.isoformat(), "-e", after_end)
    within = hledger_balances(journal, "^(commission|clawback|payment):", "-b", period.start.isoformat(), "-e", after_end)
    return {
        code: (
            minor_units(before.get(f"partner:{code}", "0"), currency),
            -minor_units(within.get(f"commission:{code}", "0"), currency),
            minor_units(within.get(f"clawback:{code}", "0"), currency),
            minor_units(within.get(f"payment:{code}", "0"), currency),
            minor_units(ending.get(f"partner:{code}", "0"), currency),
        )
        for code, currency in codes.items()
    }


def report_figures(db, period: DateRange) -> dict[str, tuple[int, ...]]:
    with db.read() as session:
        rows = ledger_report(session, period, include_all=True).rows
    return {
        row.partner_code: (row.beginning_balance, row.commissions, row.clawbacks, row.payments, row.ending_balance)
        for row in rows
    }


def ranges_to_compare(rng: random.Random, ledger: Ledger) -> list[DateRange]:
    """Ranges a finance team asks for, plus the edges: one day, before everything, after everything."""
    day_count = (LAST_DAY - FIRST_DAY).days + 60
    ranges = [
        DateRange(date(2012, 1, 1), date(2012, 12, 31)),
        DateRange(ledger.first_entry - timedelta(days=1), ledger.first_entry - timedelta(days=1)),
        DateRange(ledger.first_entry, ledger.first_entry),
        DateRange(date(2015, 6, 1), date(2015, 6, 30)),
        DateRange(FIRST_DAY, LAST_DAY + timedelta(days=60)),
        month_range(2014, 2),
    ]
    for _ in range(6):
        start = FIRST_DAY + timedelta(days=rng.randint(0, day_count))
        ranges.append(DateRange(start, start + timedelta(days=rng.choice((0, 0, 6, 30, 200)))))
    return ranges


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_report_figures_equal_hledger_balances_for_every_partner_and_range(db, tmp_path, seed):
    ledger = build_random_ledger(db, seed)
    journal = tmp_path / "ledger.journal"
    write_journal(db, journal)
    for period in ranges_to_compare(random.Random(seed), ledger):
        assert report_figures(db, period) == hledger_figures(journal, period, ledger.codes), str(period)


def test_voided_batches_read_in_hledger_as_if_never_posted(db, tmp_path):
    ledger = build_random_ledger(db, seed=5)
    with db.write() as session:
        posted = batches.request_batch(
            session, BatchOptions(month_range(2014, 12), "ending-balance", "Check", date(2014, 12, 31), "B-void"),
            actor="cli:test", now=NOW,
        ).batch_id
    with db.write() as session:
        batches.approve_batch(session, posted, actor="cli:test", policy=OPERATOR, now=NOW)
        batches.void_batch(session, posted, actor="cli:test", reason="wrong month", now=NOW)
    journal = tmp_path / "ledger.journal"
    write_journal(db, journal)
    december = month_range(2014, 12)
    figures = hledger_figures(journal, december, ledger.codes)
    assert report_figures(db, december) == figures
    with db.read() as session:
        voided_lines = [line for line in batches.get_batch(session, posted).lines if line.skip_reason is None]
    assert voided_lines
    for line in voided_lines:
        assert figures[line.partner.code][3] == line.payments


def test_a_failed_line_restores_exactly_that_partners_figures_for_every_range(db, tmp_path):
    """SPEC §10: a failed line reads, for every range, as if that partner had never been paid by the
    batch, while every other partner of the batch stays paid."""
    ledger = build_random_ledger(db, seed=10)
    december = month_range(2014, 12)
    with db.write() as session:
        batches.request_batch(session, BatchOptions(december, "ending-balance", "Check", date(2014, 12, 31), "B-fail",
                                                    allow_overlap=True), actor="cli:test", now=NOW)
    with db.write() as session:
        approval = batches.approve_batch(session, "B-fail", actor="cli:test", policy=OPERATOR, now=NOW)
    assert len(approval.lines) >= 2
    failed, kept = approval.lines[0].partner_code, approval.lines[1].partner_code
    with db.write() as session:
        batches.fail_batch_line(session, "B-fail", failed, actor="cli:test", reason="unclaimed", now=NOW)
    as_posted, never_paid = tmp_path / "posted.journal", tmp_path / "never-paid.journal"
    write_journal(db, as_posted)
    write_journal(db, never_paid, leaving_out=("B-fail", failed))
    for period in [december, *ranges_to_compare(random.Random(10), ledger)]:
        report = report_figures(db, period)
        assert report == hledger_figures(as_posted, period, ledger.codes), str(period)
        assert report[failed] == hledger_figures(never_paid, period, ledger.codes)[failed], str(period)
    assert report_figures(db, december)[kept][3] == approval.lines[1].amount + approval.lines[1].payments


# ---- hold periods (SPEC §12) ---------------------------------------------------------------------

HOLD_SETTINGS = (0, 14, 30)
OWN_HOLDS = (None, None, 0, 7, 45)


def give_partners_holds(db, rng: random.Random, codes: dict[str, str]) -> dict[str, int | None]:
    """Some partners get a hold of their own; the others follow HOLD_DAYS."""
    own = {code: rng.choice(OWN_HOLDS) for code in codes}
    with db.write() as session:
        for code, days in own.items():
            session.execute(update(Partner).where(Partner.code == code).values(hold_days=days))
    return own


def hledger_commissions(journal: Path, first: date, last: date) -> dict[str, str]:
    """hledger's commission balances dated first..last (both included); an empty window is nothing."""
    if first > last:
        return {}
    return hledger_balances(journal, "^commission:", f"date:{first.isoformat()}..{(last + timedelta(days=1)).isoformat()}")


def hledger_held(journal: Path, codes: dict[str, str], holds: dict[str, int], as_of: date, until: date,
                 since: date = date.min) -> dict[str, int]:
    """Per partner, the commissions dated since..until not payable on as_of: dated after as_of − hold."""
    held = {}
    for days in set(holds.values()):
        first = max(since, as_of - timedelta(days=days) + timedelta(days=1))
        balances = hledger_commissions(journal, first, until)
        for code, hold in holds.items():
            if hold == days:
                held[code] = -minor_units(balances.get(f"commission:{code}", "0"), codes[code])
    return held


@pytest.mark.parametrize("seed", [6, 7])
def test_on_hold_and_payable_equal_hledger_with_holds_of_0_14_and_30_days_and_partners_own(db, tmp_path, seed):
    ledger = build_random_ledger(db, seed)
    rng = random.Random(seed)
    own = give_partners_holds(db, rng, ledger.codes)
    journal = tmp_path / "ledger.journal"
    write_journal(db, journal)
    for setting in HOLD_SETTINGS:
        holds = {code: partner_hold_days(days, setting) for code, days in own.items()}
        for period in ranges_to_compare(rng, ledger):
            with db.read() as session:
                rows = {row.partner_code: row for row in ledger_report(session, period, include_all=True,
                                                                       hold_days=setting).rows}
            figures = hledger_figures(journal, period, ledger.codes)
            held = hledger_held(journal, ledger.codes, holds, period.end, period.end)
            for code in ledger.codes:
                assert rows[code].on_hold == held[code], (setting, str(period), code)
                assert rows[code].payable == figures[code][4] - held[code], (setting, str(period), code)


@pytest.mark.parametrize("seed", [8, 9])
def test_each_methods_amount_with_holds_equals_hledger_for_payment_dates_around_the_end(db, tmp_path, seed):
    ledger = build_random_ledger(db, seed)
    rng = random.Random(seed)
    own = give_partners_holds(db, rng, ledger.codes)
    journal = tmp_path / "ledger.journal"
    write_journal(db, journal)
    for setting in HOLD_SETTINGS:
        holds = {code: partner_hold_days(days, setting) for code, days in own.items()}
        period = month_range(2014, rng.randint(1, 12))
        figures = hledger_figures(journal, period, ledger.codes)
        for paid in (period.end, period.end + timedelta(days=rng.randint(1, 20)), period.end + timedelta(days=45)):
            in_range = hledger_held(journal, ledger.codes, holds, paid, period.end, period.start)
            every = hledger_held(journal, ledger.codes, holds, paid, period.end)
            for method in batches.METHODS:
                with db.read() as session:
                    plan = batches.plan_batch(session, BatchOptions(period, method, "Check", paid), hold_days=setting)
                for line in plan.lines + plan.skipped:
                    beginning, commissions, _, _, ending = figures[line.partner_code]
                    expected = {
                        "commission": commissions - in_range[line.partner_code],
                        "beginning-plus-commission": beginning + commissions - in_range[line.partner_code],
                        "ending-balance": ending - every[line.partner_code],
                    }[method]
                    assert line.amount == expected, (setting, method, str(period), paid, line.partner_code)
