"""Partners' payout details (SPEC §9): how each is paid, validated on import, masked when shown.

Bank details are validated here and encrypted by domain.secret_box; only `mask` of them is ever
shown outside a payout file. IBAN and BIC are checked with `schwifty` (ISO 13616 checksum and each
country's IBAN length, ISO 9362 BIC structure) and countries with `pycountry` (ISO 3166-1), both
loaded only while payout details are read, so a ledger report starts without them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import audit
from domain.models import Partner
from domain.secret_box import SecretBox, require_box

PAYPAL, WISE_EMAIL, BANK, CHECK = "paypal", "wise-email", "bank", "check"
PAYOUT_METHODS = (PAYPAL, WISE_EMAIL, BANK, CHECK)
PERSON, BUSINESS = "person", "business"
ENTITIES = (PERSON, BUSINESS)
ACCOUNT_TYPES = ("checking", "savings")
ADDRESS_COLUMNS = ("address_line1", "city", "state", "postcode", "country")
BANK_COLUMNS = ("iban", "bic", "sort_code", "account_number", "ach_routing", "account_type", "bsb")
DETAIL_COLUMNS = ("payout_method", "entity", *ADDRESS_COLUMNS, *BANK_COLUMNS)
_ADDRESS_LENGTHS = {"address_line1": 200, "city": 100, "state": 100, "postcode": 20}
MASK = "••••"
# Currencies paid to an IBAN in Wise's send-to-bank-accounts template: the euro and the other
# currencies of IBAN countries whose domestic payments Wise takes by IBAN.
IBAN_CURRENCIES = frozenset({"EUR", "CHF", "DKK", "NOK", "SEK", "PLN", "CZK", "HUF", "RON", "BGN"})


class DetailError(ValueError):
    """A payout detail that cannot be stored; the message never holds a bank detail in clear."""


def mask(value: str | None) -> str:
    """`••••1234`: the last four characters of a secret, as every output but a payout file shows it."""
    if not value:
        return ""
    return MASK + value[-4:] if len(value) > 4 else MASK


@dataclass(frozen=True)
class BankDetails:
    """A partner's bank details in clear; they exist only in memory, between decryption and a file."""

    iban: str | None = None
    bic: str | None = None
    sort_code: str | None = None
    account_number: str | None = None
    ach_routing: str | None = None
    account_type: str | None = None
    bsb: str | None = None

    def merged(self, given: dict[str, str]) -> BankDetails:
        """These details with the values a file gives; what it leaves out stays."""
        return replace(self, **given)

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def to_json(self) -> str:
        return json.dumps({key: value for key, value in asdict(self).items() if value}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BankDetails:
        stored = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in stored.items() if key in known})

    def masked(self) -> str:
        """What may be shown: the account's kind and its last four characters."""
        if self.iban:
            return f"IBAN {mask(self.iban)}"
        if self.account_number:
            return f"account {mask(self.account_number)}"
        return ""


def _digits(value: str) -> str:
    """A number as people type it, with its spaces and hyphens taken out."""
    return re.sub(r"[\s-]", "", value)


def check_iban(value: str) -> str:
    """The IBAN in compact form, if its ISO 13616 checksum and its country's length are right."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise DetailError(f"{mask(_digits(value))} is not a valid IBAN: {str(exc).lower()}") from None


def check_bic(value: str) -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise DetailError(f"'{value}' is not a BIC (8 or 11 characters): {str(exc).lower()}") from None


def aba_checksum_ok(routing: str) -> bool:
    """The ABA routing number check: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) is a multiple of 10."""
    d = [int(ch) for ch in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def check_routing(value: str) -> str:
    routing = _digits(value)
    if not re.fullmatch(r"\d{9}", routing):
        raise DetailError(f"{mask(routing)} is not an ABA routing number (9 digits)")
    if not aba_checksum_ok(routing):
        raise DetailError(f"{mask(routing)} is not an ABA routing number: its check digit is wrong")
    return routing


def _six_digits(value: str, what: str) -> str:
    number = _digits(value)
    if not re.fullmatch(r"\d{6}", number):
        raise DetailError(f"{mask(number)} is not a {what} (6 digits)")
    return number


def check_account_number(value: str, *, uk: bool) -> str:
    """Digits only; a UK account number has 8, others 4 to 17 (the most an ACH entry holds)."""
    number = _digits(value)
    if uk and not re.fullmatch(r"\d{8}", number):
        raise DetailError(f"{mask(number)} is not a UK account number (8 digits, with a sort code)")
    if not re.fullmatch(r"\d{4,17}", number):
        raise DetailError(f"{mask(number)} is not an account number (4 to 17 digits)")
    return number


def check_country(value: str) -> str:
    import pycountry

    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise DetailError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (like US, GB, DE)")
    return code


def check_choice(value: str, choices: tuple[str, ...]) -> str:
    chosen = value.strip().lower()
    if chosen not in choices:
        raise DetailError(f"'{value}' is not one of {', '.join(choices)}")
    return chosen


def check_address_part(column: str, value: str) -> str:
    if len(value) > _ADDRESS_LENGTHS[column]:
        raise DetailError(f"longer than {_ADDRESS_LENGTHS[column]} characters")
    return value


def check_bank_column(column: str, value: str, row: dict[str, str]) -> str:
    """One bank column's value in stored form; `row` tells a UK account number by its sort code."""
    if column == "iban":
        return check_iban(value)
    if column == "bic":
        return check_bic(value)
    if column == "sort_code":
        return _six_digits(value, "UK sort code")
    if column == "bsb":
        return _six_digits(value, "BSB")
    if column == "ach_routing":
        return check_routing(value)
    if column == "account_type":
        return check_choice(value, ACCOUNT_TYPES)
    return check_account_number(value, uk=bool(row.get("sort_code")))


def effective_method(payout_method: str | None, recipient: str | None) -> str:
    """The partner's method, else `paypal` when it has an e-mail address, else `check` (SPEC §9)."""
    if payout_method:
        return payout_method
    return PAYPAL if recipient else CHECK


def bank_fields_for(currency: str) -> tuple[str, ...] | None:
    """The bank details a Wise bank payout in `currency` needs, or None for a currency with no template."""
    if currency in IBAN_CURRENCIES:
        return ("iban",)
    return {
        "GBP": ("sort_code", "account_number"),
        "USD": ("ach_routing", "account_number", "account_type"),
        "AUD": ("bsb", "account_number"),
    }.get(currency)


def missing_address(address: dict[str, str | None], *, needs_state: bool) -> list[str]:
    """The address columns a check or a USD bank payout needs that the partner lacks."""
    wanted = ["address_line1", "city", "postcode", "country"] + (["state"] if needs_state else [])
    return [column for column in wanted if not address.get(column)]


def read_bank_details(partners: Iterable[Partner], box: SecretBox | None) -> dict[int, BankDetails]:
    """The bank details in clear of the partners that have some, for a payout file only."""
    holding = [partner for partner in partners if partner.bank_details]
    if not holding:
        return {}
    box = require_box(box, f"reading the bank details of {len(holding)} partner(s)")
    return {partner.id: BankDetails.from_json(box.decrypt(partner.bank_details or "")) for partner in holding}


def rotate_bank_details(session: Session, box: SecretBox, *, actor: str) -> int:
    """Re-encrypt every stored bank detail with the first key; how many partners' were rewritten.

    Every value is read before any is written, so a key missing from the list refuses the whole
    rotation instead of leaving some values under one key and some under another.
    """
    holding = session.execute(select(Partner.id, Partner.bank_details).where(Partner.bank_details.is_not(None))).all()
    rotated = {pid: box.rotate(token) for pid, token in holding}
    for pid, token in rotated.items():
        session.execute(update(Partner).where(Partner.id == pid).values(bank_details=token))
    audit.record(session, actor, "secrets.rotate", "partner bank details", partners=len(rotated))
    return len(rotated)
