"""`/payout`: a batch for a range (preview or form), list, status, void and help (SPEC §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from commands.grammar_remind import RemindCommand, parse_remind
from commands.grammar_tokens import UsageError, resolve_range, split_options, unescaped, words
from domain.batches import METHODS, VOID_REASON_LENGTH, BatchError, BatchOptions, parse_minimum, validate_options
from domain.dates import DateError, DateRange, parse_date
from domain.settings import Settings

PREVIEW_EXAMPLE = "/payout 2015-06 method=ending-balance type=Check batch=Batch-20150701 date=2015-07-01 min=25"
FORM_EXAMPLE = "/payout last-month"
STATUS_EXAMPLE = "/payout status Batch-20150701"
VOID_EXAMPLE = "/payout void Batch-20150701 the checks were never sent"
OPTIONS = ("method", "type", "batch", "date", "min", "overlap")
_VOID = re.compile(r"\s*void\s+(\S+)\s+(.*\S)\s*", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class PayoutHelp:
    pass


@dataclass(frozen=True)
class PayoutList:
    pass


@dataclass(frozen=True)
class PayoutStatus:
    batch_id: str


@dataclass(frozen=True)
class PayoutVoid:
    batch_id: str
    reason: str


@dataclass(frozen=True)
class PayoutRange:
    """A batch for a range; any option left out is asked for in a form, prefilled with defaults."""

    period: DateRange
    method: str | None = None
    payment_type: str | None = None
    batch_id: str | None = None
    payment_date: date | None = None
    minimum: str | None = None
    allow_overlap: bool = False

    @property
    def complete(self) -> bool:
        """Every choice made, so a preview can be shown without asking anything."""
        return None not in (self.method, self.payment_type, self.batch_id, self.payment_date, self.minimum)

    def options(self) -> BatchOptions:
        assert self.method and self.payment_type and self.payment_date
        return BatchOptions(self.period, self.method, self.payment_type, self.payment_date, self.batch_id,
                            self.minimum, self.allow_overlap)


PayoutCommand = PayoutHelp | PayoutList | PayoutStatus | PayoutVoid | PayoutRange | RemindCommand


def parse_payout(text: str, settings: Settings) -> PayoutCommand:
    tokens = words(text, FORM_EXAMPLE)
    if not tokens:
        raise UsageError("say which range to pay, or list, status, void, remind or help", FORM_EXAMPLE)
    first = tokens[0].lower()
    if first in ("help", "list"):
        if len(tokens) > 1:
            raise UsageError(f"{first} takes nothing after it", f"/payout {first}")
        return PayoutHelp() if first == "help" else PayoutList()
    if first == "status":
        if len(tokens) != 2:
            raise UsageError("status takes one batch ID", STATUS_EXAMPLE)
        return PayoutStatus(tokens[1])
    if first == "void":
        return _void(text)
    if first == "remind":
        return parse_remind(tokens[1:], settings.today())
    return _payout_range(tokens, settings)


def _void(text: str) -> PayoutVoid:
    match = _VOID.fullmatch(unescaped(text))
    if not match:
        raise UsageError("void needs the batch ID and a reason", VOID_EXAMPLE)
    if len(match[2]) > VOID_REASON_LENGTH:
        raise UsageError(f"the reason for a void is at most {VOID_REASON_LENGTH} characters (it has {len(match[2])})",
                         VOID_EXAMPLE)
    return PayoutVoid(match[1], match[2])


def _payout_range(tokens: list[str], settings: Settings) -> PayoutRange:
    today = settings.today()
    period = resolve_range(tokens[0], today, FORM_EXAMPLE)
    plain, options = split_options(tokens[1:], OPTIONS, PREVIEW_EXAMPLE)
    if plain:
        raise UsageError(f"'{plain[0]}' is not understood here (options look like method=ending-balance)",
                         PREVIEW_EXAMPLE)
    return PayoutRange(
        period,
        method=_method(options.get("method")),
        payment_type=_payment_type(options.get("type"), settings),
        batch_id=_batch_id(options.get("batch"), period, today),
        payment_date=_payment_date(options.get("date")),
        minimum=_minimum(options.get("min")),
        allow_overlap=_overlap(options.get("overlap")),
    )


def _method(value: str | None) -> str | None:
    if value is None:
        return None
    if value.lower() not in METHODS:
        raise UsageError(f"method '{value}' is not one of: {', '.join(METHODS)}", "/payout 2015-06 method=commission")
    return value.lower()


def _payment_type(value: str | None, settings: Settings) -> str | None:
    if value is None:
        return None
    try:
        return settings.payment_type(value)
    except ValueError as exc:
        raise UsageError(str(exc), '/payout 2015-06 type="Bank transfer"') from None


def _batch_id(value: str | None, period: DateRange, today: date) -> str | None:
    if value is None:
        return None
    try:  # the domain's rule for batch IDs lives in validate_options; the other options here are placeholders
        validate_options(BatchOptions(period, METHODS[-1], "", today, value))
    except BatchError as exc:
        raise UsageError(str(exc), "/payout 2015-06 batch=Batch-20150701") from None
    return value


def _payment_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateError as exc:
        raise UsageError(f"payment date: {exc}", "/payout 2015-06 date=2015-07-01") from None


def _minimum(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_minimum(value)
    except (BatchError, ArithmeticError) as exc:
        raise UsageError(str(exc), "/payout 2015-06 min=25") from None
    return value


def _overlap(value: str | None) -> bool:
    if value is None or value.lower() == "no":
        return False
    if value.lower() == "allow":
        return True
    raise UsageError(f"overlap '{value}' is not 'allow' or 'no'", "/payout 2015-06 overlap=allow")
