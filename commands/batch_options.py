"""BatchOptions from text, written once: chat key=values, form fields and the CLI's arguments.

Each transport hands over what was typed by the form's field names (range, method, type, batch,
date, min, overlap, partners); a bad value comes back as OptionErrors naming its field, which the chat
grammar shows with an example, a form beside the field, and the CLI on one line (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.batches import METHODS, BatchError, BatchOptions, parse_minimum, validate_options
from domain.dates import DateError, DateRange, parse_date, parse_range
from domain.settings import Settings

FIELDS = ("range", "method", "type", "batch", "date", "min", "overlap", "partners")
PARTNER_CODE_LENGTH = 64  # the width of partner.code
OVERLAP_CHOICES = ("no", "allow")


class OptionErrors(ValueError):
    """Bad batch options: a message by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass(frozen=True)
class GivenOptions:
    """The options a person gave, each parsed; None where they gave nothing (a form asks for it)."""

    period: DateRange | None = None
    method: str | None = None
    payment_type: str | None = None
    batch_id: str | None = None
    payment_date: date | None = None
    minimum: str | None = None
    allow_overlap: bool = False
    partners: tuple[str, ...] = ()


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _method(text: str, settings: Settings) -> str:
    if text.strip().lower() not in METHODS:
        raise BatchError(f"method '{text}' is not one of: {', '.join(METHODS)}")
    return text.strip().lower()


def _batch_id(text: str, settings: Settings) -> str:
    """The domain's rule for batch IDs lives in validate_options; the other options here are placeholders."""
    batch_id = text.strip()
    validate_options(BatchOptions(DateRange(date.min, date.min), METHODS[-1], "", date.min, batch_id))
    return batch_id


def _minimum(text: str, settings: Settings) -> str:
    parse_minimum(text)
    return text.strip()


def _overlap(text: str, settings: Settings) -> bool:
    if text.strip().lower() not in OVERLAP_CHOICES:
        raise BatchError(f"overlap '{text}' is not 'allow' or 'no'")
    return text.strip().lower() == "allow"


def _partners(text: str, settings: Settings) -> tuple[str, ...]:
    """CODE,CODE,…: the partners a batch is limited to (SPEC §10), each once, in the order given."""
    codes = [code.strip() for code in text.split(",")]
    if any(not code for code in codes):
        raise BatchError(f"partners '{text}' has an empty code; list them like partners=ANN,BOB")
    too_long = [code for code in codes if len(code) > PARTNER_CODE_LENGTH]
    if too_long:
        raise BatchError(f"partner code '{too_long[0][:20]}…' is longer than {PARTNER_CODE_LENGTH} characters")
    return tuple(dict.fromkeys(codes))


_PARSERS: dict[str, tuple[str, Callable[[str, Settings], object]]] = {
    "range": ("period", lambda text, settings: parse_range(text, settings.today())),
    "method": ("method", _method),
    "type": ("payment_type", lambda text, settings: settings.payment_type(text)),
    "batch": ("batch_id", _batch_id),
    "date": ("payment_date", lambda text, settings: parse_date(text)),
    "min": ("minimum", _minimum),
    "overlap": ("allow_overlap", _overlap),
    "partners": ("partners", _partners),
}


def given_options(values: Mapping[str, str | None], settings: Settings) -> GivenOptions:
    """Parse every option given; a blank one stays None. OptionErrors names every bad field at once."""
    parsed: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        text = values.get(name)
        if _blank(text):
            continue
        attribute, parse = _PARSERS[name]
        try:
            parsed[attribute] = parse(str(text), settings)
        except (BatchError, DateError, ValueError, ArithmeticError) as exc:
            errors[name] = str(exc)
    if errors:
        raise OptionErrors(errors)
    return GivenOptions(**parsed)  # type: ignore[arg-type]


def batch_options(values: Mapping[str, str | None], settings: Settings) -> BatchOptions:
    """Complete options: the range and method are required; the type defaults to the first configured
    one, the payment date to today, the batch ID to Batch-YYYYMMDD, no minimum, no overlap, every partner."""
    given = given_options(values, settings)
    missing = {name: f"{name} is required" for name, value in (("range", given.period), ("method", given.method))
               if value is None}
    if missing:
        raise OptionErrors(missing)
    assert given.period is not None and given.method is not None
    return BatchOptions(given.period, given.method, given.payment_type or settings.payment_type(None),
                        given.payment_date or settings.today(), given.batch_id, given.minimum, given.allow_overlap,
                        given.partners)
