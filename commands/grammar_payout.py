"""`/payout`: a batch for a range (preview or form), list, status, void, fail and help (SPEC §4, §10)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from commands.batch_options import GivenOptions, OptionErrors, given_options
from commands.grammar_remind import RemindCommand, parse_remind
from commands.grammar_tokens import UsageError, resolve_range, split_options, unescaped, words
from domain.batches import VOID_REASON_LENGTH, BatchOptions
from domain.settings import Settings

PREVIEW_EXAMPLE = "/payout 2015-06 method=ending-balance type=Check batch=Batch-20150701 date=2015-07-01 min=25"
FORM_EXAMPLE = "/payout last-month"
STATUS_EXAMPLE = "/payout status Batch-20150701"
VOID_EXAMPLE = "/payout void Batch-20150701 the checks were never sent"
FAIL_EXAMPLE = "/payout fail Batch-20150701 ANN unclaimed after 30 days"
OPTIONS = ("method", "type", "batch", "date", "min", "overlap", "partners")
OPTION_EXAMPLES = {
    "method": "/payout 2015-06 method=commission", "type": '/payout 2015-06 type="Bank transfer"',
    "batch": "/payout 2015-06 batch=Batch-20150701", "date": "/payout 2015-06 date=2015-07-01",
    "min": "/payout 2015-06 min=25", "overlap": "/payout 2015-06 overlap=allow",
    "partners": "/payout 2015-06 partners=ANN,BOB",
}
_VOID = re.compile(r"\s*void\s+(\S+)\s+(.*\S)\s*", re.IGNORECASE | re.DOTALL)
_FAIL = re.compile(r"\s*fail\s+(\S+)\s+(\S+)\s+(.*\S)\s*", re.IGNORECASE | re.DOTALL)


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
class PayoutFail:
    """One line of a posted batch whose payment came back (SPEC §10)."""

    batch_id: str
    partner_code: str
    reason: str


@dataclass(frozen=True)
class PayoutRange(GivenOptions):
    """A batch for a range; any option left out is asked for in a form, prefilled with defaults."""

    @property
    def complete(self) -> bool:
        """Every choice made, so a preview can be shown without asking anything."""
        return None not in (self.method, self.payment_type, self.batch_id, self.payment_date, self.minimum)

    def options(self) -> BatchOptions:
        assert self.period and self.method and self.payment_type and self.payment_date
        return BatchOptions(self.period, self.method, self.payment_type, self.payment_date, self.batch_id,
                            self.minimum, self.allow_overlap, self.partners)


PayoutCommand = PayoutHelp | PayoutList | PayoutStatus | PayoutVoid | PayoutFail | PayoutRange | RemindCommand


def parse_payout(text: str, settings: Settings) -> PayoutCommand:
    tokens = words(text, FORM_EXAMPLE)
    if not tokens:
        raise UsageError("say which range to pay, or list, status, void, fail, remind or help", FORM_EXAMPLE)
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
    if first == "fail":
        return _fail(text)
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


def _fail(text: str) -> PayoutFail:
    match = _FAIL.fullmatch(unescaped(text))
    if not match:
        raise UsageError("fail needs the batch ID, the partner code and a reason", FAIL_EXAMPLE)
    if len(match[3]) > VOID_REASON_LENGTH:
        raise UsageError(f"the reason for a failed payment is at most {VOID_REASON_LENGTH} characters "
                         f"(it has {len(match[3])})", FAIL_EXAMPLE)
    return PayoutFail(match[1], match[2], match[3])


def _payout_range(tokens: list[str], settings: Settings) -> PayoutRange:
    period = resolve_range(tokens[0], settings.today(), FORM_EXAMPLE)
    plain, options = split_options(tokens[1:], OPTIONS, PREVIEW_EXAMPLE)
    if plain:
        raise UsageError(f"'{plain[0]}' is not understood here (options look like method=ending-balance)",
                         PREVIEW_EXAMPLE)
    try:
        given = given_options(options, settings)
    except OptionErrors as bad:
        name, message = next(iter(bad.errors.items()))
        raise UsageError(f"payment date: {message}" if name == "date" else message, OPTION_EXAMPLES[name]) from None
    return PayoutRange(**{**vars(given), "period": period})
