"""The request items and answers of the HTTP API, as pydantic models.

pydantic v2 is the request-model library: widely used and maintained, its validation reports every
problem of an item with where it is, and `model_json_schema` gives JSON Schema 2020-12, the dialect
OpenAPI 3.1 embeds, so the document at /api/v1/openapi.json comes from the models that check the
requests. The models check only the shape (which fields, text or number); what a value means is
checked by the import's own row checks, the same for a JSON item as for a CSV row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Text = str | None


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PartnerItem(_Item):
    """A partner, as a row of the partners import file (SPEC §5, §9, §12); upserted by code."""

    code: str = Field(description="unique, at most 64 characters, no spaces", examples=["ACME"])
    name: str = Field(description="at most 200 characters", examples=["Acme Referrals"])
    email: Text = None
    payout_email: Text = None
    currency: Text = Field(None, description="ISO 4217 code; DEFAULT_CURRENCY for a new partner when absent")
    status: Text = Field(None, description="active or inactive")
    hold_days: str | Decimal | None = Field(None, description="whole days from 0; absent: HOLD_DAYS applies")
    payout_method: Text = None
    entity: Text = None
    address_line1: Text = None
    city: Text = None
    state: Text = None
    postcode: Text = None
    country: Text = None
    iban: Text = None
    bic: Text = None
    sort_code: Text = None
    account_number: Text = None
    ach_routing: Text = None
    account_type: Text = None
    bsb: Text = None


class EntryItem(_Item):
    """A ledger entry, as a row of the entries import file (SPEC §5); idempotent by reference."""

    date: str = Field(description="YYYY-MM-DD", examples=["2015-06-01"])
    partner_code: str = Field(examples=["ACME"])
    kind: str = Field(description="commission, clawback or payment", examples=["commission"])
    amount: str | Decimal = Field(
        description="positive, with no more decimals than the partner's currency allows; a JSON string or number "
        "(read exactly, never as a binary float)", examples=["120.50"])
    reference: str = Field(description="unique per partner and kind, at most 200 characters", examples=["ORD-1"])
    description: Text = Field(None, description="at most 500 characters")


class PartnerCounts(BaseModel):
    received: int
    added: int
    updated: int
    unchanged: int


class EntryCounts(BaseModel):
    received: int
    added: int = Field(description="entries recorded by this request")
    unchanged: int = Field(description="entries already recorded with the same values (a retried request)")


class Problem(BaseModel):
    index: int | None = Field(None, description="the item's position in the array, from 0")
    field: str | None = None
    reason: str


class Error(BaseModel):
    error: str
    problems: list[Problem] = Field(default_factory=list)


class LedgerRow(BaseModel):
    partner_code: str
    partner_name: str
    currency: str
    beginning_balance: str
    commissions: str
    clawbacks: str
    payments: str
    ending_balance: str
    on_hold: str | None = Field(None, description="only when a hold period is configured (SPEC §12)")
    payable: str | None = Field(None, description="only when a hold period is configured (SPEC §12)")


class LedgerTotal(BaseModel):
    currency: str
    beginning_balance: str
    commissions: str
    clawbacks: str
    payments: str
    ending_balance: str
    on_hold: str | None = None
    payable: str | None = None


class LedgerReport(BaseModel):
    """`payouts ledger RANGE --format json`, byte for byte."""

    start: str
    end: str
    rows: list[LedgerRow]
    totals: list[LedgerTotal]


class LedgerEntry(BaseModel):
    date: str
    kind: str
    reference: str
    description: str
    amount: str
    balance: str
    payable_on: str | None = None


class PartnerLedger(BaseModel):
    """`payouts ledger RANGE --partner CODE --format json`, byte for byte."""

    partner_code: str
    partner_name: str
    currency: str
    start: str
    end: str
    beginning_balance: str
    entries: list[LedgerEntry]
    ending_balance: str
    on_hold: str | None = None
    payable: str | None = None


class BatchLine(BaseModel):
    partner_code: str
    amount: str
    currency: str
    on_hold: str | None = None
    held_until: str | None = None
    status: str = Field(description="paid, failed, pending, rejected or voided (SPEC §10)")
    failed_by: str | None = Field(None, description="only on a failed line: who recorded the failure")
    failed_at: str | None = Field(None, description="only on a failed line: when the failure was recorded")
    fail_reason: str | None = Field(None, description="only on a failed line: why the payment came back")


class Skipped(BaseModel):
    partner_code: str
    reason: str


class BatchTotal(BaseModel):
    currency: str
    amount: str
    count: int


class Batch(BaseModel):
    """`payouts batch show ID --format json`, byte for byte."""

    batch_id: str
    status: str
    method: str
    payment_type: str
    payment_date: str
    start: str
    end: str
    lines: list[BatchLine]
    skipped: list[Skipped]
    totals: list[BatchTotal] = Field(description="the lines paid (failed lines are counted in failed_totals)")
    failed_totals: list[BatchTotal] = Field(description="the lines whose payment failed after posting (SPEC §10)")
    requested_by: str
    approved_by: str | None = None
    rejected_by: str | None = None
    voided_by: str | None = None
    void_reason: str | None = None


def schemas() -> dict[str, Any]:
    """Every model's JSON Schema, as OpenAPI's components.schemas."""
    from pydantic.json_schema import models_json_schema

    models = [PartnerItem, EntryItem, PartnerCounts, EntryCounts, Error, LedgerReport, PartnerLedger, Batch]
    _, document = models_json_schema([(model, "validation") for model in models],
                                     ref_template="#/components/schemas/{model}")
    return document["$defs"]
