"""What Keap's affiliate records mean for the ledger (SPEC §11): plain functions over plain records.

Records are the JSON objects of Keap's REST API, read with decimals for numbers (never floats):
affiliates (v2 `RestAffiliate`: id, code, name, status, contact_id), commissions (v1
`/affiliates/commissions`: sales_affiliate_id, invoice_id, product_name, contact_id, date_earned,
amount_earned, description), clawbacks (v1 `/affiliates/{id}/clawbacks`: the same with `amount`)
and payments (v2 `RestAffiliatePayment`: id, pay_date, pay_amount, pay_type, pay_notes).

Every record becomes a row of the entries import (`date, partner_code, kind, amount, reference,
description`), so the import's rules apply unchanged. References come from Keap's identifiers, so
reading a record again finds the entry it made: a payment has an ID; commissions and clawbacks have
none, so theirs is built from the invoice, product and contact, numbered when one invoice holds
several alike. The amount and date stay out of the reference: a record whose amount or date
changed upstream keeps its reference and is reported as changed, never imported a second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.dates import zone
from domain.kinds import CLAWBACK, COMMISSION, PAYMENT
from domain.text import is_control

Record = Mapping[str, Any]
DESCRIPTION_LENGTH = 500
KEAP_STATUSES = {"active": "active", "inactive": "inactive"}


class KeapRecordError(ValueError):
    """A record the ledger cannot take as it is; the reason names the record."""


@dataclass(frozen=True)
class Affiliate:
    """An affiliate as the ledger needs it; `code` is None when Keap gives none."""

    id: str
    code: str | None
    name: str
    status: str | None
    contact_id: str | None
    email: str | None = None

    def label(self) -> str:
        return f"affiliate {self.id}" + (f" ({self.code})" if self.code else "")


@dataclass(frozen=True)
class Mapped:
    """The entry rows made from one affiliate's records, and the records left out with why."""

    rows: list[dict[str, str]]
    skipped: list[str]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def affiliate(record: Record) -> Affiliate:
    """A v2 (or v1) affiliate record; the code is kept exactly as Keap has it, or None."""
    status = _text(record.get("status")).lower()
    return Affiliate(
        id=_text(record.get("id")), code=_text(record.get("code")) or None, name=_text(record.get("name")),
        status=KEAP_STATUSES.get(status), contact_id=_text(record.get("contact_id")) or None,
    )


def usable_affiliates(affiliates: Iterable[Affiliate]) -> tuple[list[Affiliate], list[str]]:
    """The affiliates whose code names one partner, and why each other one is left out.

    A missing code or one two affiliates share is reported, never guessed: crediting the wrong
    partner is worse than crediting none until someone fixes the code in Keap.
    """
    by_code: dict[str, list[Affiliate]] = {}
    problems = []
    for item in affiliates:
        if item.code is None:
            problems.append(f"{item.label()} has no referral partner code in Keap; it was not synced")
        else:
            by_code.setdefault(item.code, []).append(item)
    usable = []
    for code, group in by_code.items():
        if len(group) == 1:
            usable.append(group[0])
            continue
        ids = ", ".join(item.id for item in group)
        problems.append(f"affiliates {ids} share the code '{code}' in Keap; none of them was synced")
    return sorted(usable, key=sort_key), problems


def sort_key(item: Affiliate) -> tuple[int, str]:
    """Keap's numeric IDs in numeric order, so a checkpoint (the last ID done) means the same on every run."""
    return (int(item.id), "") if item.id.isdigit() else (1 << 62, item.id)


def primary_email(contact: Record) -> str | None:
    """EMAIL1 of a v2 contact (`email_addresses: [{email, field}]`), else its first address, else None."""
    addresses = [entry for entry in contact.get("email_addresses") or [] if _text(entry.get("email"))]
    first = next((entry for entry in addresses if entry.get("field") == "EMAIL1"), addresses[0] if addresses else None)
    return _text(first.get("email")) if first else None


def partner_row(item: Affiliate, currency: str) -> dict[str, str]:
    """The affiliate as a row of the partners import: columns left empty keep what is stored."""
    return {"code": item.code or "", "name": item.name, "email": item.email or "", "payout_email": "",
            "currency": currency, "status": item.status or ""}


def local_date(value: Any, timezone: str) -> date:
    """The calendar day, in the organisation's zone, of one of Keap's ISO-8601 times.

    A time without an offset is read as UTC, the zone Keap's API answers in.
    """
    text = _text(value)
    if not text:
        raise KeapRecordError("no date")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise KeapRecordError(f"'{text}' is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(timezone)).date()


def decimal_amount(value: Any) -> Decimal:
    """A JSON number read as a decimal (ints and Decimals only: the client never builds floats)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise KeapRecordError(f"amount {value!r} is not a number")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise KeapRecordError(f"amount {value!r} is not a number") from None
    if not amount.is_finite():
        raise KeapRecordError(f"amount {value!r} is not a number")
    return amount


def _plain(amount: Decimal) -> str:
    """A decimal as the import's number grammar reads it, without an exponent."""
    return format(amount, "f")


def _clean(text: str) -> str:
    """Keap's free text without the control characters the ledger refuses, cut to the column's width."""
    flat = "".join(" " if is_control(char) else char for char in text)
    return " ".join(flat.split())[:DESCRIPTION_LENGTH]


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(_text(part) for part in parts).encode("utf-8")).hexdigest()[:16]


def _sale_rows(kind: str, code: str, records: Iterable[Record], amount_field: str, timezone: str) -> Mapped:
    """Commissions or clawbacks: one row each, referenced by invoice, product and contact.

    Records alike in all three are numbered in the order of their time and amount, so the same
    records always get the same numbers. The row's amount is the magnitude: Keap writes clawbacks
    with either sign, and the kind says which way the entry goes.
    """
    keyed: dict[str, list[Record]] = {}
    for record in records:
        key = _digest(record.get("invoice_id"), record.get("product_name"), record.get("contact_id"))
        keyed.setdefault(key, []).append(record)
    rows, skipped = [], []
    prefix = "keap-c" if kind == COMMISSION else "keap-cb"
    for key, group in keyed.items():
        group.sort(key=lambda r: (_text(r.get("date_earned")), _text(r.get(amount_field))))
        for number, record in enumerate(group, start=1):
            reference = f"{prefix}:{_text(record.get('invoice_id')) or '-'}:{key}:{number}"
            try:
                row = _sale_row(kind, code, record, amount_field, timezone, reference)
            except KeapRecordError as exc:
                skipped.append(f"{kind} {reference}: {exc}")
                continue
            if row is not None:
                rows.append(row)
    return Mapped(rows, skipped)


def _sale_row(kind: str, code: str, record: Record, amount_field: str, timezone: str,
              reference: str) -> dict[str, str] | None:
    amount = decimal_amount(record.get(amount_field))
    if kind == COMMISSION and amount < 0:
        raise KeapRecordError(f"a negative commission ({_plain(amount)}) is not a commission; "
                              "Keap lists clawbacks separately")
    if amount == 0:
        return None
    words = [_text(record.get("description")), _text(record.get("product_name"))]
    description = _clean(" · ".join(word for word in words if word))
    return {"date": local_date(record.get("date_earned"), timezone).isoformat(), "partner_code": code,
            "kind": kind, "amount": _plain(abs(amount)), "reference": reference, "description": description}


def commission_rows(code: str, records: Iterable[Record], timezone: str) -> Mapped:
    """An affiliate's commissions, dated by the day they were earned in the organisation's zone."""
    return _sale_rows(COMMISSION, code, records, "amount_earned", timezone)


def clawback_rows(code: str, records: Iterable[Record], timezone: str) -> Mapped:
    """An affiliate's clawbacks, each as its magnitude whatever sign Keap gives it."""
    return _sale_rows(CLAWBACK, code, records, "amount", timezone)


def payment_rows(code: str, records: Iterable[Record], timezone: str, until: date | None) -> Mapped:
    """Payments recorded in Keap on or before `until` (the switch-over day); None reads none.

    After the switch-over payments are recorded here, so a later one read from Keap would be
    counted twice. A zero payment records nothing; a negative one (Keap's REFUND or CREDIT) is
    reported, since a payment entry here is reversed only by a void.
    """
    rows, skipped = [], []
    if until is None:
        return Mapped(rows, skipped)
    for record in records:
        reference = f"keap-p:{_text(record.get('id'))}"
        try:
            day = local_date(record.get("pay_date"), timezone)
            amount = decimal_amount(record.get("pay_amount"))
        except KeapRecordError as exc:
            skipped.append(f"payment {reference}: {exc}")
            continue
        if not _text(record.get("id")):
            skipped.append("a payment without an ID cannot be told apart from another; it was not synced")
        elif day > until or amount == 0:
            continue
        elif amount < 0:
            skipped.append(f"payment {reference}: a negative payment ({_plain(amount)}, "
                           f"{_text(record.get('pay_type')) or 'no type'}) is not synced; record it here")
        else:
            words = [_text(record.get("pay_type")), _text(record.get("pay_notes"))]
            rows.append({"date": day.isoformat(), "partner_code": code, "kind": PAYMENT, "amount": _plain(amount),
                         "reference": reference, "description": _clean(" · ".join(w for w in words if w))})
    return Mapped(rows, skipped)
