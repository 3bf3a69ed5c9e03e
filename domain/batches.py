"""Payment batches (SPEC §3): plan, request, approve (post exactly once), reject, void.

A batch's lines are computed and frozen when it is requested. Approval posts them in one write
transaction: the status moves from `pending` to `posted` through a conditional UPDATE whose row
count must be 1, in the same transaction as the payment entries, and the entries' unique
(partner, kind, reference) key is the batch ID, so no path can post a batch twice. On PostgreSQL
every batch state change also takes one transaction-scoped advisory lock, which serialises the
double-payment check with the posting it guards (SQLite's BEGIN IMMEDIATE already does).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, lru_cache, partial
from itertools import compress, repeat
from operator import add, eq, itemgetter, le, or_
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, object_session

from domain import audit
from domain.currencies import not_money_reason
from domain.dates import DateRange
from domain.driver_rows import RowInserter
from domain.holds import Held, held_commissions
from domain.kinds import PAYMENT
from domain.ledger import code_point_order, ledger_rows
from domain.ledger_data import LedgerRow, ending_balances, row_blocks
from domain.ledger_marks import LedgerMarks, read_marks
from domain.limits import CURRENCY_LIMIT, PARTNER_LIMIT
from domain.models import PENDING, POSTED, REJECTED, VOIDED, Batch, BatchLine, Entry, Partner
from domain.money import MoneyError, format_display, parse_decimal, to_decimal

METHODS = ("commission", "beginning-plus-commission", "ending-balance")
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BATCH_LOCK_KEY = 7_420_150_624
POSTING_CHUNK = 2_000
_LINE_COLUMNS = ("partner_id", "amount", "currency", "beginning_balance", "commissions", "clawbacks", "payments",
                 "ending_balance", "skip_reason", "held", "held_until", "batch_pk")
_line_values = itemgetter(0, 4, 3, 5, 6, 7, 8, 9, 10, 11, 12)  # a PlannedLine's values in `_LINE_COLUMNS` order
_PARTNERS_PER_QUERY = 500  # codes to an IN list: well inside every database's limit on bound parameters
VOID_SUFFIX = ":void"
FAIL_SUFFIX = ":failed"
VOID_REASON_LENGTH = 400  # it goes into each reversing entry's description, at most 500 characters
MINIMUM_LENGTH = 32  # the width of batch.minimum, where the minimum is kept as written
FAR_PAYMENT_DAYS = 366  # a payment date further ahead than a year and a day is most likely a typo


class BatchError(ValueError):
    """A batch request or decision that cannot be carried out; the message says why."""


class BatchIdTaken(BatchError):
    pass


class UnknownBatch(BatchError, LookupError):
    pass


class NotAllowed(BatchError):
    pass


class AlreadyDecided(BatchError):
    pass


class OverlapRefused(BatchError):
    def __init__(self, conflicts: dict[str, list[str]]) -> None:
        self.conflicts = conflicts
        ids = sorted({batch_id for ids in conflicts.values() for batch_id in ids})
        partners = ", ".join(sorted(conflicts)[:5]) + (" …" if len(conflicts) > 5 else "")
        super().__init__(
            f"{len(conflicts)} partner(s) ({partners}) were already paid for an overlapping range "
            f"in batch {', '.join(ids)}; void that batch or allow the overlap explicitly"
        )


class PastLimits(BatchError):
    """Recording the batch would take a partner or a currency past what the ledger may accumulate."""


class StaleBatch(BatchError):
    def __init__(self, batch_id: str, changes: list[str], *, rejected: bool = True) -> None:
        self.changes = changes
        shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
        outcome = ("It is now rejected; request a fresh batch." if rejected
                   else "Nothing was recorded; run it again.")
        super().__init__(f"{batch_id} was not posted: the ledger changed since it was requested ({shown}). {outcome}")


@dataclass(frozen=True)
class BatchOptions:
    period: DateRange
    method: str
    payment_type: str
    payment_date: date
    batch_id: str | None = None
    minimum: str | None = None
    allow_overlap: bool = False
    partners: tuple[str, ...] = ()  # only these partner codes (SPEC §10); empty: everyone on the report


@dataclass(frozen=True)
class Failure:
    """Who recorded a paid line's payment as failed, when and why (SPEC §10)."""

    at: datetime
    by: str
    reason: str


class PlannedLine(NamedTuple):
    """One partner's line of a batch; a tuple because a batch of a large program has 100,000."""

    partner_id: int
    partner_code: str
    partner_name: str
    currency: str
    amount: int
    beginning_balance: int
    commissions: int
    clawbacks: int
    payments: int
    ending_balance: int
    skip_reason: str | None = None
    held: int = 0  # what a hold kept out of the amount (SPEC §12)
    held_until: date | None = None  # the day the last of it becomes payable
    failure: Failure | None = None  # a posted line whose payment came back (SPEC §10)

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def figures(self) -> tuple[int, int, int, int, int, int]:
        return (self.amount, self.beginning_balance, self.commissions, self.clawbacks, self.payments,
                self.ending_balance)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: int
    count: int


@dataclass
class Plan:
    """A batch as it would be: what a preview shows and what a request freezes."""

    batch_id: str
    options: BatchOptions
    lines: list[PlannedLine]
    skipped: list[PlannedLine]
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def totals(self) -> list[CurrencyTotal]:
        """Asked by the request, its audit record and the views: summed once (a plan's lines are final)."""
        return currency_totals(self.lines)


def currency_totals(lines: Iterable[PlannedLine]) -> list[CurrencyTotal]:
    """The amount and count of lines per currency, summed a currency at a time in C (a batch of a
    large program has 100,000 lines, nearly always in one currency)."""
    every = lines if isinstance(lines, Sequence) else list(lines)
    currencies = list(map(_line_currency, every))
    amounts = list(map(_line_amount, every))
    counts = Counter(currencies)
    if len(counts) == 1:
        sums = dict.fromkeys(counts, sum(amounts))
    else:
        sums = {currency: sum(compress(amounts, map(eq, currencies, repeat(currency)))) for currency in counts}
    return [CurrencyTotal(currency, sums[currency], counts[currency]) for currency in sorted(counts)]


_line_currency, _line_amount = itemgetter(3), itemgetter(4)  # PlannedLine.currency, PlannedLine.amount


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who may decide a batch. The transport supplies the approvers it resolved (users and groups)."""

    approvers: frozenset[str]
    require_separate_approver: bool = True
    trusted_operator: bool = False

    def check(self, actor: str, requested_by: str) -> None:
        if self.trusted_operator:
            return
        if actor not in self.approvers:
            raise NotAllowed("you are not one of the payout approvers")
        if self.require_separate_approver and actor == requested_by:
            raise NotAllowed("the person who requested a batch cannot approve it; another approver must")

    def check_fail(self, actor: str) -> None:
        """A failed line reverses a recorded payment, as a void does: the approvers' alone (SPEC §8, §10)."""
        if not self.trusted_operator and actor not in self.approvers:
            raise NotAllowed("only a payout approver can record a failed payment")

    def check_void(self, actor: str) -> None:
        """Voiding reverses money already recorded as paid, so it is the approvers' alone (SPEC §8)."""
        if not self.trusted_operator and actor not in self.approvers:
            raise NotAllowed("only a payout approver can void a batch")


# ---- planning ---------------------------------------------------------------------------------


def parse_minimum(text: str | None) -> Decimal | None:
    """A minimum is an amount, so it is read by the amount grammar: '1e3' or '+25' is refused here
    as it is in an imported file."""
    if text is None or not str(text).strip():
        return None
    try:
        value = parse_decimal(str(text))
    except MoneyError as exc:
        raise BatchError(f"minimum {exc}") from None
    if value < 0:
        raise BatchError(f"minimum '{text}' must be zero or more")
    if len(_plain_minimum(value)) > MINIMUM_LENGTH:
        raise BatchError(f"minimum '{text}' has too many digits (at most {MINIMUM_LENGTH} characters, like 25.00)")
    return value


def _plain_minimum(value: Decimal) -> str:
    """The minimum as the batch keeps it: positional notation, since str() writes 0.0000001 as 1E-7."""
    return format(value, "f")


def _kept_minimum(text: str | None) -> str | None:
    """The text a new batch keeps of its minimum, which the approval reads back."""
    value = parse_minimum(text)
    return None if value is None else _plain_minimum(value)


def _stored_minimum(text: str | None) -> Decimal | None:
    """A batch's minimum was checked when the batch was requested; it is read back as it was kept."""
    return Decimal(text) if text else None


def amount_for(method: str, row: LedgerRow) -> int:
    """The amount a method pays with no hold (SPEC §3)."""
    if method == "commission":
        return row.commissions
    if method == "beginning-plus-commission":
        return row.beginning_balance + row.commissions
    if method == "ending-balance":
        return row.ending_balance
    raise BatchError(f"unknown method '{method}' (one of: {', '.join(METHODS)})")


def _held_note(held: int, until: date | None, currency: str) -> str:
    return f"; {format_display(held, currency)} on hold until {until}" if held else ""


_not_money_reason = lru_cache(maxsize=256)(not_money_reason)  # asked once per line, of a few currencies


def _plan_line(
    row: LedgerRow, method: str, minimum: Decimal | None, inactive: bool, held: Held | None = None
) -> PlannedLine:
    """A row's line: what `method` pays less what a hold keeps out, or why it is skipped.

    A hold keeps out the range's commissions not payable on the payment date, or for `ending-balance`
    every such commission dated on or before the end (SPEC §12). The figures are taken from the row
    once and the amount worked out in place: a preview of a large program plans 100,000 lines.
    """
    partner_id, code, name, _email, currency, beginning, commissions, clawbacks, payments = row[:9]
    ending = beginning + commissions - clawbacks - payments
    if method == "ending-balance":
        amount = ending
    elif method == "commission":
        amount = commissions
    else:
        amount = amount_for(method, row)
    kept, until = 0, None
    if held is not None:
        kept = held.amount if method == "ending-balance" else held.in_range
        if kept:
            amount, until = amount - kept, held.until
    reason = None
    if inactive:
        reason = "partner is inactive"
    elif (not_money := _not_money_reason(currency)) is not None:
        reason = not_money
    elif amount <= 0:
        reason = f"nothing owed ({format_display(amount, currency)}{_held_note(kept, until, currency)})"
    elif minimum is not None and to_decimal(amount, currency) < minimum:
        reason = (f"under the minimum of {minimum} {currency} "
                  f"({format_display(amount, currency)}{_held_note(kept, until, currency)})")
    return PlannedLine(partner_id, code, name, currency, amount, beginning, commissions, clawbacks, payments, ending,
                       reason, kept, until)


def _planned_block(
    block: Sequence[LedgerRow], method: str, minimum: Decimal | None, inactive: set[int], held: dict[int, Held]
) -> list[PlannedLine]:
    """`_plan_line` of each row of a block, worked out a column at a time in C where it can be.

    A line that pays its whole amount with nothing to note is made by `tuple.__new__` from the
    columns; only the rows that need a look (nothing owed, an inactive partner, a hold, a currency
    that is not money, a minimum) go through `_plan_line`. A preview of a large program plans
    100,000 lines, nearly all of the first kind.
    """
    columns = list(zip(*block, strict=True))
    ids, codes, names, _emails, currencies, beginning, commissions, clawbacks, payments = columns[:9]
    ending = ending_balances(beginning, commissions, clawbacks, payments)
    amounts = _method_amounts(method, beginning, commissions, ending)
    nothing = repeat(None)
    lines = list(map(_new_line, zip(ids, codes, names, currencies, amounts, beginning, commissions, clawbacks,
                                    payments, ending, nothing, repeat(0), nothing, nothing)))
    if minimum is not None or any(_not_money_reason(currency) is not None for currency in set(currencies)):
        looked_at: Iterable[bool] = repeat(True, len(block))
    else:
        looked_at = map(le, amounts, repeat(0))
        if inactive:
            looked_at = map(or_, looked_at, map(inactive.__contains__, ids))
        if held:
            looked_at = map(or_, looked_at, map(held.__contains__, ids))
    for index in compress(range(len(block)), looked_at):
        row = block[index]
        lines[index] = _plan_line(row, method, minimum, row.partner_id in inactive, held.get(row.partner_id))
    return lines


_new_line = partial(tuple.__new__, PlannedLine)


def _method_amounts(method: str, beginning: Sequence[int], commissions: Sequence[int],
                    ending: Sequence[int]) -> Sequence[int]:
    """`amount_for` of a block's rows, a column at a time."""
    if method == "ending-balance":
        return ending
    if method == "commission":
        return commissions
    if method == "beginning-plus-commission":
        return list(map(add, beginning, commissions))
    raise BatchError(f"unknown method '{method}' (one of: {', '.join(METHODS)})")


def payment_date_warning(options: BatchOptions, today: date) -> str | None:
    """Why the payment date looks mistyped, or None: a date before the range's START pays for days
    not yet over, and one more than FAR_PAYMENT_DAYS ahead (9999-12-31) is seldom meant. Such a date
    is allowed, but only once someone has confirmed it."""
    paid = options.payment_date
    if paid < options.period.start:
        return f"the payment date {paid} is before the range starts ({options.period.start})"
    if (paid - today).days > FAR_PAYMENT_DAYS:
        return f"the payment date {paid} is more than {FAR_PAYMENT_DAYS} days after today ({today})"
    return None


def validate_options(options: BatchOptions) -> None:
    if options.method not in METHODS:
        raise BatchError(f"unknown method '{options.method}' (one of: {', '.join(METHODS)})")
    if options.batch_id is not None and not _BATCH_ID.match(options.batch_id):
        raise BatchError(
            f"batch ID '{options.batch_id}' must be 1-64 letters, digits, '.', '_' or '-' (like Batch-20150624)"
        )
    parse_minimum(options.minimum)


def _lock_batches(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BATCH_LOCK_KEY})


def _payment_references(session: Session, partner_ids: Sequence[int], lowered: ColumnElement[bool]) -> set[str]:
    """The partners' payment references that match: posting or voiding a batch under one of them
    would collide with a payment recorded by import, so that batch could never be approved or voided.

    `lowered` selects on `lower(reference)`, which the partial index of payments (migration 0012)
    holds: the matches are read from it directly and kept for the partners here. A batch's partners
    are many and the matches few (nearly always none): a seek per partner cost 0.7 s at 100,000
    partners, and sending their ids to filter on 0.2 s on PostgreSQL. `kind` is written out, not
    bound, so that the planner can see the index's condition holds.
    """
    if not partner_ids:
        return set()
    query = select(Entry.reference, Entry.partner_id).where(Entry.kind == literal_column(f"'{PAYMENT}'"), lowered)
    wanted = set(partner_ids)
    return {reference for reference, partner_id in session.execute(query.distinct()) if partner_id in wanted}


def _lowered_prefix(session: Session, prefix: str) -> ColumnElement[bool]:
    """References starting with `prefix` (Batch-YYYYMMDD, which holds no LIKE wildcard) in any case.
    SQLite compares text byte by byte, so the prefix is also an index range there; PostgreSQL reads a
    prefix LIKE from its text_pattern_ops index."""
    lowered, start = func.lower(Entry.reference), prefix.lower()
    like = lowered.like(f"{start}%")
    if session.get_bind().dialect.name != "sqlite":
        return like
    return and_(lowered >= start, lowered < start[:-1] + chr(ord(start[-1]) + 1), like)


def void_reference(batch_id: str) -> str:
    """The reference of the reversing entries a void records."""
    return f"{batch_id}{VOID_SUFFIX}"


def fail_reference(batch_id: str) -> str:
    """The reference of the reversing entry a failed line records (one per partner and batch)."""
    return f"{batch_id}{FAIL_SUFFIX}"


def _same_id(column: ColumnElement[str], batch_id: str) -> ColumnElement[bool]:
    """Batch IDs are compared without regard to case, as the unique index on lower(batch_id) does."""
    return func.lower(column) == batch_id.lower()


def _next_batch_id(session: Session, payment_date: date, partner_ids: Sequence[int]) -> str:
    """The first of Batch-YYYYMMDD, -2, -3… that no batch holds in any case, nor any payment reference."""
    base = f"Batch-{payment_date:%Y%m%d}"
    taken = {
        batch_id.lower()
        for batch_id in session.scalars(select(Batch.batch_id).where(func.lower(Batch.batch_id).like(f"{base.lower()}%")))
    }
    used = _payment_references(session, partner_ids, _lowered_prefix(session, base))
    taken |= {reference.removesuffix(VOID_SUFFIX).removesuffix(FAIL_SUFFIX).lower() for reference in used}
    if base.lower() not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}".lower() in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _describe_batch(batch: Batch) -> str:
    who = batch.decided_by or batch.requested_by
    return f"{batch.batch_id} ({batch.status}, {batch.start_date}..{batch.end_date}, by {who})"


def _choose_batch_id(session: Session, options: BatchOptions, partner_ids: Sequence[int]) -> str:
    if options.batch_id is None:
        return _next_batch_id(session, options.payment_date, partner_ids)
    existing = session.scalar(select(Batch).where(_same_id(Batch.batch_id, options.batch_id)))
    if existing is not None:
        raise BatchIdTaken(f"batch ID '{options.batch_id}' is already taken by {_describe_batch(existing)}"
                           + ("; batch IDs are unique without regard to case" if existing.batch_id != options.batch_id else ""))
    ours = [options.batch_id, void_reference(options.batch_id), fail_reference(options.batch_id)]
    exactly = and_(func.lower(Entry.reference).in_([reference.lower() for reference in ours]), Entry.reference.in_(ours))
    if _payment_references(session, partner_ids, exactly):
        raise BatchIdTaken(
            f"batch ID '{options.batch_id}' is already the reference of a payment recorded for a partner it would pay"
        )
    return options.batch_id


def find_conflicts(
    session: Session, period: DateRange, partner_ids: Sequence[int], *, excluding: int | None = None
) -> dict[str, list[str]]:
    """Partners already paid by a posted, not voided, batch whose range overlaps `period`; a failed
    line paid nothing, so it is no conflict (SPEC §10)."""
    wanted = set(partner_ids)
    query = (
        select(Partner.code, BatchLine.partner_id, Batch.batch_id)
        .join(Batch, Batch.id == BatchLine.batch_pk)
        .join(Partner, Partner.id == BatchLine.partner_id)
        .where(
            Batch.status == POSTED,
            Batch.start_date <= period.end,
            Batch.end_date >= period.start,
            BatchLine.skip_reason.is_(None),
            BatchLine.failed_at.is_(None),
        )
        .order_by(Batch.batch_id)
    )
    if excluding is not None:
        query = query.where(Batch.id != excluding)
    conflicts: dict[str, list[str]] = {}
    for code, partner_id, batch_id in session.execute(query):
        if partner_id in wanted:
            conflicts.setdefault(code, []).append(batch_id)
    return conflicts


def held_on_payment_date(session: Session, period: DateRange, payment_date: date, hold_days: int) -> dict[int, Held]:
    """Per partner, the commissions dated on or before the range's end not payable on the payment date."""
    return held_commissions(session, as_of=payment_date, until=period.end, since=period.start,
                            default_days=hold_days)


def _chosen_partners(session: Session, codes: Sequence[str]) -> set[int] | None:
    """The partner IDs a batch is limited to (SPEC §10), None for everyone; unknown codes are refused by name."""
    if not codes:
        return None
    wanted = {code.lower() for code in codes}
    found: dict[str, int] = {}
    in_order = sorted(wanted)
    for offset in range(0, len(in_order), _PARTNERS_PER_QUERY):
        chunk = in_order[offset : offset + _PARTNERS_PER_QUERY]
        found.update((code, pid) for code, pid in session.execute(
            select(func.lower(Partner.code), Partner.id).where(func.lower(Partner.code).in_(chunk))))
    unknown = sorted(code for code in codes if code.lower() not in found)
    if unknown:
        raise BatchError(f"no partner with code {', '.join(repr(code) for code in unknown)}")
    return set(found.values())


def _planned_lines(
    session: Session, options: BatchOptions, hold_days: int
) -> tuple[list[PlannedLine], list[PlannedLine]]:
    minimum = parse_minimum(options.minimum)
    inactive = set(session.scalars(select(Partner.id).where(Partner.status != "active")))
    held = held_on_payment_date(session, options.period, options.payment_date, hold_days)
    wanted = _chosen_partners(session, options.partners)
    rows = ledger_rows(session, options.period, with_email=False).rows
    if wanted is not None:
        rows = (row for row in rows if row.partner_id in wanted)
    planned = []
    for block in row_blocks(rows):
        planned += _planned_block(block, options.method, minimum, inactive, held)
    return [p for p in planned if p.skip_reason is None], [p for p in planned if p.skip_reason is not None]


def plan_batch(session: Session, options: BatchOptions, *, hold_days: int = 0) -> Plan:
    """What the batch would pay; reserves nothing (a preview). `hold_days` is HOLD_DAYS (SPEC §12)."""
    validate_options(options)
    lines, skipped = _planned_lines(session, options, hold_days)
    batch_id = _choose_batch_id(session, options, [line.partner_id for line in lines])
    conflicts = find_conflicts(session, options.period, [line.partner_id for line in lines])
    return Plan(batch_id, options, lines, skipped, conflicts)


def fingerprint(lines: Iterable[PlannedLine]) -> str:
    """A digest of what the batch pays: each line's partner, currency and figures as the `repr` of
    their tuple, in partner order. Kept byte for byte, since batches already stored carry it; the
    tuples are picked and written in C and hashed at once (a batch can have 100,000 lines)."""
    texts = map(repr, map(_fingerprinted, sorted(lines, key=_partner_id)))
    return hashlib.sha256("".join(texts).encode()).hexdigest()


_partner_id = itemgetter(0)  # PlannedLine.partner_id
_fingerprinted = itemgetter(0, 3, 4, 5, 6, 7, 8, 9)  # partner_id, currency, then `PlannedLine.figures`


# ---- requesting -------------------------------------------------------------------------------


def request_batch(
    session: Session, options: BatchOptions, *, actor: str, now: datetime, origin_channel: str | None = None,
    hold_days: int = 0,
) -> Batch:
    """Freeze a plan as a pending batch; refused when it would pay someone twice, unless overridden."""
    return _request(session, options, actor=actor, now=now, origin_channel=origin_channel, hold_days=hold_days)[0]


def _request(
    session: Session, options: BatchOptions, *, actor: str, now: datetime, origin_channel: str | None,
    hold_days: int,
) -> tuple[Batch, Plan]:
    """The pending batch and the plan it froze, which a request that posts at once hands on."""
    _lock_batches(session)
    plan = plan_batch(session, options, hold_days=hold_days)
    if not plan.lines:
        raise BatchError(f"nobody is owed anything for {options.period} by the {options.method} method")
    if plan.conflicts and not options.allow_overlap:
        raise OverlapRefused(plan.conflicts)
    batch = Batch(
        batch_id=plan.batch_id, status=PENDING, method=options.method,
        start_date=options.period.start, end_date=options.period.end,
        payment_type=options.payment_type, payment_date=options.payment_date,
        minimum=_kept_minimum(options.minimum),
        allow_overlap=options.allow_overlap, fingerprint=fingerprint(plan.lines),
        requested_by=actor, requested_at=now, origin_channel=origin_channel,
    )
    session.add(batch)
    session.flush()
    RowInserter(session.connection(), BatchLine.__table__, _LINE_COLUMNS).insert(
        list(map(add, map(_line_values, plan.lines + plan.skipped), repeat((batch.id,))))
    )
    audit.record(
        session, actor, "batch.request", plan.batch_id, range=str(options.period), method=options.method,
        payment_type=options.payment_type, payment_date=options.payment_date.isoformat(),
        lines=len(plan.lines), skipped=len(plan.skipped), allow_overlap=options.allow_overlap,
        totals={t.currency: t.amount for t in plan.totals},
        **({"partners": list(options.partners)} if options.partners else {}),
    )
    session.expire(batch, ["lines"])
    return batch, plan


# ---- deciding ---------------------------------------------------------------------------------


def get_batch(session: Session, batch_id: str) -> Batch:
    """The batch with that ID in any case: `batch-20150703` finds Batch-20150703."""
    batch = session.scalar(select(Batch).where(_same_id(Batch.batch_id, batch_id)))
    if batch is None:
        raise UnknownBatch(f"no batch with ID '{batch_id}'")
    return batch


def list_batches(session: Session, limit: int = 50) -> list[Batch]:
    return list(session.scalars(select(Batch).order_by(Batch.requested_at.desc(), Batch.id.desc()).limit(limit)))


def pending_batches(session: Session, limit: int) -> tuple[list[Batch], int]:
    """The `limit` most recently requested batches awaiting a decision, and how many await in all."""
    waiting = select(Batch).where(Batch.status == PENDING)
    found = list(session.scalars(waiting.order_by(Batch.requested_at.desc(), Batch.id.desc()).limit(limit)))
    count = session.scalar(select(func.count()).select_from(Batch).where(Batch.status == PENDING)) or 0
    return found, int(count)


def paid_totals(session: Session, batches: Sequence[Batch]) -> dict[int, list[CurrencyTotal]]:
    """Totals per currency of the paid lines of several batches, summed by the database; a failed
    line's payment was reversed, so it is not counted."""
    totals: dict[int, list[CurrencyTotal]] = {batch.id: [] for batch in batches}
    query = (
        select(BatchLine.batch_pk, BatchLine.currency, func.sum(BatchLine.amount), func.count(BatchLine.id))
        .where(BatchLine.batch_pk.in_(list(totals)), BatchLine.skip_reason.is_(None), BatchLine.failed_at.is_(None))
        .group_by(BatchLine.batch_pk, BatchLine.currency)
        .order_by(BatchLine.batch_pk, BatchLine.currency)
    )
    for batch_pk, currency, amount, count in session.execute(query):
        totals[batch_pk].append(CurrencyTotal(currency, int(amount), int(count)))
    return totals


def batch_options(batch: Batch) -> BatchOptions:
    return BatchOptions(
        DateRange(batch.start_date, batch.end_date), batch.method, batch.payment_type, batch.payment_date,
        batch.batch_id, batch.minimum, batch.allow_overlap,
    )


def _line_columns() -> tuple:
    """A line's columns in the order of PlannedLine's fields, its failure's three last."""
    return (
        BatchLine.partner_id, Partner.code, Partner.name, BatchLine.currency, BatchLine.amount,
        BatchLine.beginning_balance, BatchLine.commissions, BatchLine.clawbacks, BatchLine.payments,
        BatchLine.ending_balance, BatchLine.skip_reason, BatchLine.held, BatchLine.held_until,
        BatchLine.failed_at, BatchLine.failed_by, BatchLine.fail_reason,
    )


def _line_records(session: Session, batch: Batch) -> Iterable[tuple]:
    """A batch's lines as plain rows in the fields of PlannedLine, in the order they were frozen."""
    return session.execute(
        select(*_line_columns())
        .join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch.id)
        .order_by(BatchLine.id)
    )


def _failure(at: datetime | None, by: str | None, reason: str | None) -> Failure | None:
    return None if at is None else Failure(at, by or "", reason or "")


def _planned_from(*record: object) -> PlannedLine:
    """A PlannedLine from _line_records' row: its last three columns are the failure's."""
    return PlannedLine(*record[:-3], failure=_failure(*record[-3:]))  # type: ignore[arg-type]


def frozen_lines(batch: Batch) -> tuple[list[PlannedLine], list[PlannedLine]]:
    """The paid and the skipped lines as they were frozen at the request.

    Read as plain rows while the batch is in a session: building 10,000 BatchLine objects with
    their partners takes most of a second. An approval reads them once and hands them on.
    """
    session = object_session(batch)
    if session is not None:
        planned = [_planned_from(*record) for record in _line_records(session, batch)]
    else:
        planned = [
            PlannedLine(
                line.partner_id, line.partner.code, line.partner.name, line.currency, line.amount,
                line.beginning_balance, line.commissions, line.clawbacks, line.payments, line.ending_balance,
                line.skip_reason, line.held, line.held_until,
                _failure(line.failed_at, line.failed_by, line.fail_reason),
            )
            for line in batch.lines
        ]
    return [p for p in planned if p.skip_reason is None], [p for p in planned if p.skip_reason is not None]


class Payee(NamedTuple):
    """What a payout file reads of a paid partner, as a plain row: a mapped Partner per line of a
    100,000-line batch would hold several times the memory."""

    id: int
    email: str | None
    payout_email: str | None
    entity: str | None
    payout_method: str | None
    address_line1: str | None
    city: str | None
    state: str | None
    postcode: str | None
    country: str | None
    bank_details: str | None


def payees(session: Session, batch_pk: int) -> dict[int, Payee]:
    """The partners a batch pays, by ID, read in one query through its lines."""
    query = (
        select(Partner.id, Partner.email, Partner.payout_email, Partner.entity, Partner.payout_method,
               Partner.address_line1, Partner.city, Partner.state, Partner.postcode, Partner.country,
               Partner.bank_details)
        .join(BatchLine, BatchLine.partner_id == Partner.id)
        .where(BatchLine.batch_pk == batch_pk, BatchLine.skip_reason.is_(None))
    )
    return {row[0]: Payee(*row) for row in session.execute(query)}


STREAMED_LINES = 2000  # lines fetched at a time while a batch is written out


def _payee_columns() -> tuple:
    """A payee's columns in the order of Payee's fields."""
    return (Partner.id, Partner.email, Partner.payout_email, Partner.entity, Partner.payout_method,
            Partner.address_line1, Partner.city, Partner.state, Partner.postcode, Partner.country,
            Partner.bank_details)


def streamed_lines(session: Session, batch_pk: int, *, skipped: bool = False) -> Iterator[PlannedLine]:
    """The paid lines (failed ones included, as frozen_lines gives them) or the skipped ones, in the
    order they were frozen, a few thousand at a time (a server-side cursor on PostgreSQL): a
    100,000-line batch is shown or exported without holding its lines."""
    query = (
        select(*_line_columns())
        .join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch_pk,
               BatchLine.skip_reason.is_not(None) if skipped else BatchLine.skip_reason.is_(None))
        .order_by(BatchLine.id)
        .execution_options(yield_per=STREAMED_LINES)
    )
    for record in _streamed(session, query):
        yield _planned_from(*record)


def _streamed(session: Session, query: Select) -> Iterator[Row]:
    """Plain rows straight from the connection, a few thousand at a time: without the ORM's row
    handling, which costs more than reading the rows twice."""
    return iter(session.connection().execute(query))


def streamed_payees(session: Session, batch_pk: int) -> Iterator[tuple[PlannedLine, Payee]]:
    """The paid lines as `streamed_lines` gives them, each with its payee read in the same query."""
    width = len(_line_columns())
    query = (
        select(*_line_columns(), *_payee_columns())
        .join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch_pk, BatchLine.skip_reason.is_(None))
        .order_by(BatchLine.id)
        .execution_options(yield_per=STREAMED_LINES)
    )
    for record in _streamed(session, query):
        yield _planned_from(*record[:width]), Payee(*record[width:])


def paid_partner_ids(session: Session, batch_pk: int) -> array[int]:
    """The partners a posted batch paid (a failed line's partner was not: SPEC §10), by partner code
    in code point order on every database; plain integers, a few bytes a partner."""
    query = (
        select(BatchLine.partner_id).join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch_pk, BatchLine.skip_reason.is_(None), BatchLine.failed_at.is_(None))
        .order_by(code_point_order(session))
        .execution_options(yield_per=STREAMED_LINES)
    )
    return array("q", session.scalars(query))


def paid_amounts(session: Session, batch_pk: int, partner_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """What the batch paid each of these partners (at most a few hundred at a time): amount and currency."""
    query = select(BatchLine.partner_id, BatchLine.amount, BatchLine.currency).where(
        BatchLine.batch_pk == batch_pk, BatchLine.skip_reason.is_(None), BatchLine.failed_at.is_(None),
        BatchLine.partner_id.in_(list(partner_ids)))
    return {partner_id: (amount, currency) for partner_id, amount, currency in session.execute(query)}


def bank_detail_holders(session: Session, batch_pk: int) -> int:
    """How many of a batch's paid partners have bank details stored: what an export would decrypt."""
    return session.scalar(
        select(func.count()).select_from(BatchLine).join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch_pk, BatchLine.skip_reason.is_(None), Partner.bank_details.is_not(None))
    ) or 0


def _refuse_if_decided(batch: Batch, wanted: str) -> None:
    if batch.status == wanted == POSTED:
        raise AlreadyDecided(f"{batch.batch_id} was already posted by {batch.decided_by} at {batch.decided_at:%Y-%m-%d %H:%M} UTC")
    if batch.status != PENDING:
        by = batch.voided_by if batch.status == VOIDED else batch.decided_by
        raise AlreadyDecided(f"{batch.batch_id} is already {batch.status} (by {by}); nothing was changed")


def _changes(batch: Batch, paid: list[PlannedLine], session: Session, hold_days: int) -> list[str]:
    """What moved in the ledger of each paid partner since the batch was requested, figure by figure.

    The paid partners' rows are planned again a block at a time, as the request planned them, and
    compared whole; only a batch with a change is gone through line by line (a batch of a large
    program has 100,000 lines, nearly always unchanged).
    """
    period = DateRange(batch.start_date, batch.end_date)
    rows = ledger_rows(session, period, include_all=True, with_email=False).rows
    held = held_on_payment_date(session, period, batch.payment_date, hold_days)
    minimum = _stored_minimum(batch.minimum)
    wanted = set(map(_partner_id, paid))
    current: dict[int, PlannedLine] = {}
    for block in row_blocks(rows):
        kept = list(compress(block, map(wanted.__contains__, map(_partner_id, block))))
        if kept:
            lines = _planned_block(kept, batch.method, minimum, set(), held)
            current.update(zip(map(_partner_id, lines), lines, strict=True))
    now_lines = list(map(current.get, map(_partner_id, paid)))
    if None not in now_lines and list(map(_compared, now_lines)) == list(map(_compared, paid)):
        return []
    changes = []
    for line, now_line in zip(paid, now_lines, strict=True):
        if now_line is None:
            changes.append(f"{line.partner_code}: amount {format_display(line.amount, line.currency)} → gone")
        elif _compared(now_line) != _compared(line):
            changes.append(f"{line.partner_code}: {', '.join(_figure_changes(line, now_line))}")
    return changes


_compared = itemgetter(4, 5, 6, 7, 8, 9, 11)  # PlannedLine.figures and .held: what a stale check compares


def _figure_changes(before: PlannedLine, after: PlannedLine) -> list[str]:
    """Each figure that moved, old → new; the amount only when it moved, so a commission-method
    amount that a new clawback leaves alone never reads as a change. The ending balance is left
    out: it is the other four figures added up, so one of them is always named when it moves."""
    names = ("amount", "beginning balance", "commissions", "clawbacks", "payments", "on hold")
    return [
        f"{name} {format_display(old, before.currency)} → {format_display(new, before.currency)}"
        for name, old, new in zip(names, (*before.figures[:5], before.held), (*after.figures[:5], after.held),
                                  strict=True)
        if old != new
    ]


def _refuse_past_limits(session: Session, batch: Batch, doing: str) -> None:
    """Checked after the entries went in, inside the transaction the refusal rolls back: the bounds
    (domain.limits) leave room for one more batch without any sum overflowing on the way.

    What is past a bound is looked for first, in the partners' rows alone, and only then among the
    batch's lines: it is nearly always nothing, and the lines just written have no statistics yet,
    so a query starting from them looked each of 100,000 partners up (0.17 s on PostgreSQL).
    """
    past = dict(session.execute(select(Partner.id, Partner.code).where(Partner.turnover > PARTNER_LIMIT)).all())
    if past:
        named_ids = session.scalars(select(BatchLine.partner_id).where(
            BatchLine.batch_pk == batch.id, BatchLine.skip_reason.is_(None), BatchLine.partner_id.in_(list(past)))).all()
        partners = sorted(past[partner_id] for partner_id in named_ids)
        if partners:
            named = ", ".join(partners[:5]) + (" …" if len(partners) > 5 else "")
            raise PastLimits(f"{doing} {batch.batch_id} would take partner(s) {named} past the most one partner's "
                             "entries may add up to; nothing was recorded")
    totals = session.execute(select(Partner.currency, func.sum(Partner.turnover)).group_by(Partner.currency)).all()
    crossed = sorted(
        currency for currency, total in totals
        if total > CURRENCY_LIMIT and session.scalar(select(BatchLine.id).where(
            BatchLine.batch_pk == batch.id, BatchLine.skip_reason.is_(None), BatchLine.currency == currency).limit(1))
        is not None
    )
    if crossed:
        raise PastLimits(f"{doing} {batch.batch_id} would take the {', '.join(crossed)} entries past the most one "
                         "currency may add up to; nothing was recorded")


def _claim(session: Session, batch: Batch, source: str, target: str, **values: object) -> None:
    """The state transition itself: one row must move from `source`, or someone else got there first."""
    moved = session.execute(
        update(Batch).where(Batch.id == batch.id, Batch.status == source).values(status=target, **values)
    ).rowcount
    if moved != 1:
        raise AlreadyDecided(f"{batch.batch_id} was decided by someone else at the same moment; nothing was changed")


_PAYMENT_COLUMNS = ("kind", "effective_date", "reference", "description", "recorded_at", "recorded_by", "batch_pk",
                    "payment_type", "partner_id", "amount", "currency")


_paid_values = itemgetter(0, 4, 3)  # a PlannedLine's partner_id, amount and currency, the last of `_PAYMENT_COLUMNS`


def _payment_values(session: Session, common: tuple) -> tuple:
    """The values every payment of a batch shares (the first of `_PAYMENT_COLUMNS`) as the driver
    takes them, converted once for the whole batch rather than once a row."""
    inserter = RowInserter(session.connection(), Entry.__table__, _PAYMENT_COLUMNS)
    return tuple(inserter.converter(name)(value) for name, value in zip(_PAYMENT_COLUMNS, common, strict=False))


def _insert_payment_chunk(session: Session, rows: list[tuple]) -> None:
    """Payment rows (values in the order of `_PAYMENT_COLUMNS`, as `_payment_values` gives them; the
    partner, amount and currency need no conversion) straight to the driver, many to a statement."""
    if rows:
        RowInserter(session.connection(), Entry.__table__, _PAYMENT_COLUMNS).insert_ready(rows)


@dataclass(frozen=True)
class Approval:
    """What an approval did: posted the batch, or (with `changes`) rejected it as stale instead."""

    batch: Batch
    lines: list[PlannedLine]
    skipped: list[PlannedLine]
    changes: list[str] = field(default_factory=list)

    @property
    def posted(self) -> bool:
        return not self.changes

    def stale(self) -> StaleBatch:
        return StaleBatch(self.batch.batch_id, self.changes)


def approve_batch(
    session: Session, batch_id: str, *, actor: str, policy: ApprovalPolicy, now: datetime,
    insert_chunk: Callable[[Session, list[tuple]], None] = _insert_payment_chunk, record_stale: bool = True,
    hold_days: int = 0,
) -> Approval:
    """Post a pending batch: one payment entry per line, dated at the payment date, exactly once.

    A batch whose ledgers changed since the request is not posted: it is rejected in the caller's
    unit of work, which commits that refusal so it is on record, and the Approval names the
    changes. With `record_stale` False StaleBatch is raised instead, leaving the caller's
    transaction to roll back.
    """
    _lock_batches(session)
    marks = read_marks(session)
    batch = get_batch(session, batch_id)
    _refuse_if_decided(batch, POSTED)
    policy.check(actor, batch.requested_by)
    paid, skipped = frozen_lines(batch)
    if not batch.allow_overlap:
        conflicts = find_conflicts(session, batch_options(batch).period, [p.partner_id for p in paid], excluding=batch.id)
        if conflicts:
            raise OverlapRefused(conflicts)
    return _post(session, batch, paid, skipped, actor=actor, now=now, insert_chunk=insert_chunk,
                 record_stale=record_stale, changes=_changes(batch, paid, session, hold_days), marks=marks)


def _post(
    session: Session, batch: Batch, paid: list[PlannedLine], skipped: list[PlannedLine], *, actor: str,
    now: datetime, insert_chunk: Callable[[Session, list[tuple]], None], record_stale: bool, changes: list[str],
    marks: LedgerMarks | None,
) -> Approval:
    """Post the checked batch, or with `changes` reject it as stale (or raise StaleBatch).

    With `marks` (domain.ledger_marks), a ledger another writer changed after they were read, which
    only the payments' own row locks can make sure of, raises StaleBatch after the payments are
    written: the caller's transaction rolls them back and the batch is as it was.
    """
    batch_id = batch.batch_id  # as stored, whatever case it was typed in
    if changes and not record_stale:
        raise StaleBatch(batch_id, changes, rejected=False)
    if changes:
        _claim(session, batch, PENDING, REJECTED, decided_by=actor, decided_at=now,
               decision_note="ledger changed since the request: " + "; ".join(changes[:20]))
        audit.record(session, actor, "batch.stale", batch_id, changes=changes[:100])
        session.refresh(batch)
        return Approval(batch, paid, skipped, changes)
    _claim(session, batch, PENDING, POSTED, decided_by=actor, decided_at=now)
    common = _payment_values(session, (PAYMENT, batch.payment_date, batch.batch_id,
                                       f"{batch.payment_type} payment, {batch.batch_id}", now, actor, batch.id,
                                       batch.payment_type))
    for offset in range(0, len(paid), POSTING_CHUNK):
        insert_chunk(session, list(map(add, repeat(common), map(_paid_values, paid[offset : offset + POSTING_CHUNK]))))
    moved = marks.moved(session, paid) if marks is not None else []
    if moved:
        raise StaleBatch(batch_id, moved, rejected=False)
    _refuse_past_limits(session, batch, "posting")
    audit.record(session, actor, "batch.post", batch_id, lines=len(paid),
                 totals={t.currency: t.amount for t in currency_totals(paid)})
    session.refresh(batch)
    return Approval(batch, paid, skipped)


def request_and_post_batch(
    session: Session, options: BatchOptions, *, actor: str, policy: ApprovalPolicy, now: datetime,
    insert_chunk: Callable[[Session, list[tuple]], None] = _insert_payment_chunk, hold_days: int = 0,
) -> Approval:
    """Request and post in the caller's one transaction (the terminal's `pay --yes`).

    Two commits would leave a pending batch behind whenever the second one failed, lost a race or
    the process was killed in between; a pending leftover could be approved later and pay again.

    The lines posted are the plan just frozen, and its overlap check stands (the batch lock is held
    throughout). Where another writer could commit meanwhile (not SQLite, where the transaction
    holds the write lock from its first statement), the partners' marks read before the plan show
    whether it did, once the payments hold their partners' rows.
    """
    _lock_batches(session)
    marks = read_marks(session)
    batch, plan = _request(session, options, actor=actor, now=now, origin_channel=None, hold_days=hold_days)
    policy.check(actor, batch.requested_by)
    return _post(session, batch, plan.lines, plan.skipped, actor=actor, now=now, insert_chunk=insert_chunk,
                 record_stale=False, changes=[], marks=marks)


def reject_batch(session: Session, batch_id: str, *, actor: str, policy: ApprovalPolicy, now: datetime,
                 reason: str = "") -> Batch:
    """Decline a pending batch; approvers may, and so may the person who requested it."""
    _lock_batches(session)
    batch = get_batch(session, batch_id)
    batch_id = batch.batch_id  # as stored, whatever case it was typed in
    _refuse_if_decided(batch, REJECTED)
    if actor != batch.requested_by:
        ApprovalPolicy(policy.approvers, False, policy.trusted_operator).check(actor, batch.requested_by)
    _claim(session, batch, PENDING, REJECTED, decided_by=actor, decided_at=now, decision_note=reason or None)
    audit.record(session, actor, "batch.reject", batch_id, reason=reason)
    session.refresh(batch)
    return batch


def _insert_reversals(session: Session, batch: Batch, originals: Sequence[tuple], reference: str, description: str,
                      *, actor: str, now: datetime) -> None:
    """One negative payment per original (id, partner, amount, currency, date, type), dated like it."""
    if not originals:
        return
    session.execute(
        insert(Entry),
        [
            {
                "partner_id": partner_id, "kind": PAYMENT, "amount": -amount, "currency": currency,
                "effective_date": day, "reference": reference, "description": description,
                "recorded_at": now, "recorded_by": actor, "batch_pk": batch.id, "payment_type": payment_type,
                "reverses_id": entry_id,
            }
            for entry_id, partner_id, amount, currency, day, payment_type in originals
        ],
    )


def void_batch(session: Session, batch_id: str, *, actor: str, reason: str, now: datetime,
               policy: ApprovalPolicy | None = None) -> Batch:
    """Record reversing entries dated like the payments they reverse; the originals stay. A failed
    line's payment is reversed already, so it is left out (SPEC §10).

    Without a policy the caller has checked who may void (ApprovalPolicy.check_void)."""
    if policy is not None:
        policy.check_void(actor)
    if not reason.strip():
        raise BatchError("voiding a batch needs a reason")
    if len(reason.strip()) > VOID_REASON_LENGTH:
        raise BatchError(f"the reason for a void is at most {VOID_REASON_LENGTH} characters (it has {len(reason.strip())})")
    _lock_batches(session)
    batch = get_batch(session, batch_id)
    batch_id = batch.batch_id  # as stored, whatever case it was typed in
    if batch.status != POSTED:
        raise BatchError(f"{batch_id} is {batch.status}; only a posted batch can be voided")
    _claim(session, batch, POSTED, VOIDED, voided_by=actor, voided_at=now, void_reason=reason.strip())
    reversed_already = select(Entry.reverses_id).where(Entry.batch_pk == batch.id, Entry.reverses_id.is_not(None))
    originals = session.execute(
        select(Entry.id, Entry.partner_id, Entry.amount, Entry.currency, Entry.effective_date, Entry.payment_type)
        .where(Entry.batch_pk == batch.id, Entry.kind == PAYMENT, Entry.reverses_id.is_(None),
               Entry.id.not_in(reversed_already))
    ).all()
    _insert_reversals(session, batch, originals, void_reference(batch_id), f"Void of {batch_id}: {reason.strip()}",
                      actor=actor, now=now)
    _refuse_past_limits(session, batch, "voiding")
    audit.record(session, actor, "batch.void", batch_id, reason=reason.strip(), entries=len(originals))
    session.refresh(batch)
    return batch


def remember_announcement(session: Session, batch_id: str, channel: str, ref: str) -> None:
    """Where the approval request was posted, so its message can be updated after the decision."""
    session.execute(
        update(Batch).where(Batch.batch_id == batch_id).values(announcement_channel=channel, announcement_ref=ref)
    )


# ---- failed lines (SPEC §10) --------------------------------------------------------------------


@dataclass(frozen=True)
class FailedLine:
    """A line recorded as failed; `recorded` is False when it already was, and nothing changed."""

    batch: Batch
    line: PlannedLine
    recorded: bool


def check_fail_reason(reason: str) -> str:
    """The reason as kept: it goes into the reversing entry's description, like a void's."""
    if not reason.strip():
        raise BatchError("recording a failed payment needs a reason")
    if len(reason.strip()) > VOID_REASON_LENGTH:
        raise BatchError(f"the reason for a failed payment is at most {VOID_REASON_LENGTH} characters "
                         f"(it has {len(reason.strip())})")
    return reason.strip()


def locked_posted_batch(session: Session, batch_id: str) -> Batch:
    """A posted batch, under the batch lock: only its lines were paid, and so only they can fail."""
    _lock_batches(session)
    batch = get_batch(session, batch_id)
    if batch.status != POSTED:
        raise BatchError(f"{batch.batch_id} is {batch.status}; only a line of a posted batch can fail")
    return batch


def batch_line(session: Session, batch: Batch, partner_code: str) -> PlannedLine:
    """The paid line of that partner (code in any case); a skipped or absent one is refused by name."""
    record = session.execute(
        select(*_line_columns()).join(Partner, Partner.id == BatchLine.partner_id)
        .where(BatchLine.batch_pk == batch.id, func.lower(Partner.code) == partner_code.strip().lower())
    ).first()
    if record is None:
        raise BatchError(f"{batch.batch_id} has no line for partner '{partner_code}'")
    line = _planned_from(*record)
    if line.skip_reason is not None:
        raise BatchError(f"{line.partner_code} was skipped in {batch.batch_id} ({line.skip_reason}); nothing was paid")
    return line


def fail_line(session: Session, batch: Batch, line: PlannedLine, *, actor: str, reason: str,
              now: datetime) -> FailedLine:
    """Reverse one paid line's payment, dated at the payment date as a void's reversal is, and mark
    the line failed; exactly once: the conditional UPDATE moves one row or none, and the reversal's
    (partner, kind, reference) key is unique. The batch stays posted. The caller holds locked_posted_batch's lock."""
    if line.failed:
        return FailedLine(batch, line, False)
    marked = session.execute(
        update(BatchLine)
        .where(BatchLine.batch_pk == batch.id, BatchLine.partner_id == line.partner_id, BatchLine.failed_at.is_(None))
        .values(failed_at=now, failed_by=actor, fail_reason=reason)
    ).rowcount
    if marked != 1:
        return FailedLine(batch, line, False)
    original = session.execute(
        select(Entry.id, Entry.partner_id, Entry.amount, Entry.currency, Entry.effective_date, Entry.payment_type)
        .where(Entry.batch_pk == batch.id, Entry.partner_id == line.partner_id, Entry.kind == PAYMENT,
               Entry.reverses_id.is_(None))
    ).all()
    _insert_reversals(session, batch, original, fail_reference(batch.batch_id),
                      f"Failed payment, {batch.batch_id}: {reason}", actor=actor, now=now)
    audit.record(session, actor, "batch.fail", batch.batch_id, partner=line.partner_code, reason=reason,
                 amount=line.amount, currency=line.currency)
    return FailedLine(batch, line._replace(failure=Failure(now, actor, reason)), True)


def fail_lines(session: Session, batch: Batch, failures: Sequence[tuple[PlannedLine, str]], *, actor: str,
               now: datetime) -> list[FailedLine]:
    """Several lines of one batch failed at once (a results file), in the caller's unit of work."""
    done = [fail_line(session, batch, line, actor=actor, reason=check_fail_reason(reason), now=now)
            for line, reason in failures]
    if any(failed.recorded for failed in done):
        _refuse_past_limits(session, batch, "recording failed payments in")
    return done


def fail_batch_line(session: Session, batch_id: str, partner_code: str, *, actor: str, reason: str,
                    now: datetime) -> FailedLine:
    """One failed line, in the caller's unit of work (the CLI's and chat's `fail`)."""
    kept = check_fail_reason(reason)
    batch = locked_posted_batch(session, batch_id)
    return fail_lines(session, batch, [(batch_line(session, batch, partner_code), kept)], actor=actor, now=now)[0]
