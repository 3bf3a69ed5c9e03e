"""Organisation settings read from the environment (SPEC §6), shared by every transport."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.dates import today_in, zone
from domain.money import MoneyError, normalize_currency

DEFAULT_PAYMENT_TYPES = (
    "Check", "PayPal", "Bank transfer", "Wise", "Cash", "Credit card", "Money order", "Adjustment", "Other",
)


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


MAX_PAYMENT_TYPE = 75  # a payment type is a choice in Slack's form, whose options show at most 75 characters


def _payment_types(value: str | None) -> tuple[str, ...]:
    """PAYMENT_TYPES, refused at start-up by name when an entry is too long to offer as a choice."""
    types = _split(value) or DEFAULT_PAYMENT_TYPES
    for entry in types:
        if len(entry) > MAX_PAYMENT_TYPE:
            raise ValueError(f"PAYMENT_TYPES: '{entry[:40]}…' has {len(entry)} characters; "
                             f"each payment type may have at most {MAX_PAYMENT_TYPE}")
    return types


def _default_currency(value: str | None) -> str:
    """DEFAULT_CURRENCY, refused at start-up by name: every partner imported without one gets it."""
    try:
        return normalize_currency((value or "").strip() or "USD")
    except MoneyError as exc:
        raise MoneyError(f"DEFAULT_CURRENCY: {exc}") from None


MAX_HOLD_DAYS = 365
_DIGITS = re.compile(r"^[0-9]+$")


def parse_hold_days(text: str) -> int:
    """A hold in whole days, 0 to MAX_HOLD_DAYS, written in ASCII digits (no sign, no '1e3', no '٣')."""
    value = text.strip()
    if not _DIGITS.match(value):
        raise ValueError(f"'{text}' must be a whole number of days from 0 to {MAX_HOLD_DAYS}, like 30")
    days = int(value)
    if days > MAX_HOLD_DAYS:
        raise ValueError(f"'{text}' is more than {MAX_HOLD_DAYS} days")
    return days


def _hold_days(value: str | None) -> int:
    """HOLD_DAYS (SPEC §12), refused at start-up by name; unset or empty is no hold."""
    if value is None or not value.strip():
        return 0
    try:
        return parse_hold_days(value)
    except ValueError as exc:
        raise ValueError(f"HOLD_DAYS: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """What the organisation configures; the clock (`now`) can be fixed for tests and `clock --now`."""

    timezone: str = "UTC"
    default_currency: str = "USD"
    organisation: str = "Referral program"
    payment_types: tuple[str, ...] = DEFAULT_PAYMENT_TYPES
    require_separate_approver: bool = True
    hold_days: int = 0
    fixed_now: datetime | None = field(default=None, compare=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        timezone = source.get("TIMEZONE", "").strip() or "UTC"
        zone(timezone)
        return cls(
            timezone=timezone,
            default_currency=_default_currency(source.get("DEFAULT_CURRENCY")),
            organisation=source.get("ORGANISATION_NAME", "").strip() or "Referral program",
            payment_types=_payment_types(source.get("PAYMENT_TYPES")),
            require_separate_approver=_truthy(source.get("REQUIRE_SEPARATE_APPROVER"), True),
            hold_days=_hold_days(source.get("HOLD_DAYS")),
        )

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(tz=zone("UTC"))

    def today(self) -> date:
        return today_in(self.timezone, self.now())

    def payment_type(self, text: str | None) -> str:
        """The configured payment type matching `text` case-insensitively (default: the first)."""
        if text is None or not text.strip():
            return self.payment_types[0]
        wanted = text.strip().lower()
        for known in self.payment_types:
            if known.lower() == wanted or known.lower().replace(" ", "-") == wanted:
                return known
        raise ValueError(f"unknown payment type '{text}' (one of: {', '.join(self.payment_types)})")
