"""Small builders for test data, written straight to the database as the domain would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

from sqlalchemy import insert
from sqlalchemy.orm import Session

from domain.models import Entry, Partner

_references = count(1)
RECORDED = datetime(2015, 1, 1, tzinfo=UTC)


def add_partner(
    session: Session, code: str, name: str | None = None, *, currency: str = "USD",
    email: str | None = "partner@example.com", payout_email: str | None = None,
) -> Partner:
    partner = Partner(
        code=code, name=name or f"Partner {code}", email=email, payout_email=payout_email,
        currency=currency, status="active", balance=0, created_at=RECORDED,
    )
    session.add(partner)
    session.flush()
    return partner


def add_entry(
    session: Session, partner: Partner, kind: str, amount: int, day: date | str, *,
    reference: str | None = None, description: str = "",
) -> None:
    """Append one entry (amount in minor units) with a fresh reference unless one is given."""
    session.execute(
        insert(Entry),
        [{
            "partner_id": partner.id, "kind": kind, "amount": amount, "currency": partner.currency,
            "effective_date": date.fromisoformat(day) if isinstance(day, str) else day,
            "reference": reference or f"T-{next(_references)}", "description": description,
            "recorded_at": RECORDED, "recorded_by": "test",
        }],
    )


def post_june_batch(db, now: datetime, payment_type: str = "PayPal") -> str:  # type: ignore[no-untyped-def]
    """Request and approve, as the terminal operator, an ending-balance batch for June 2015 paid on
    24 June; returns its batch ID."""
    from domain import batches
    from domain.dates import DateRange

    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", payment_type,
                                   date(2015, 6, 24))
    operator = batches.ApprovalPolicy(frozenset(), trusted_operator=True)
    with db.write() as s:
        batch_id = batches.request_batch(s, options, actor="cli:test", now=now).batch_id
    with db.write() as s:
        batches.approve_batch(s, batch_id, actor="cli:test", policy=operator, now=now)
    return batch_id
