"""The tables: partners, append-only ledger entries, batches, audit events and reminder schedules.

Money columns are BigInteger minor units. `partner.balance` is the net of every entry the partner
has (commissions minus clawbacks minus payments); the database keeps it with an insert trigger
(see the initial migration), so reports need only the entries on and after a range's start.
`partner.turnover`, the sum of the absolute amounts of its entries, is kept the same way and
bounds every sum of them (domain.limits).
`partner_period` holds each partner's commission, clawback and payment sums per calendar month and
per calendar year, kept by the same insert trigger (migration 0011), so a report over a long range
reads a few period rows per partner instead of every entry in it.
Entries cannot be updated or deleted: triggers refuse it.
`partner.bank_details` is ciphertext only (domain.secret_box); `bank_mask` is what may be shown of it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Id = BigInteger().with_variant(Integer(), "sqlite")

PENDING, POSTED, REJECTED, VOIDED = "pending", "posted", "rejected", "voided"  # a batch's status


class Base(DeclarativeBase):
    pass


class Partner(Base):
    __tablename__ = "partner"
    # Half of each page free on PostgreSQL (migration 0016): the trigger's balance updates stay on
    # their page and touch no index.
    __table_args__ = {"postgresql_with": {"fillfactor": 50}}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    payout_email: Mapped[str | None] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="active")
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    turnover: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    hold_days: Mapped[int | None] = mapped_column(Integer, index=True)  # None: HOLD_DAYS applies
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payout_method: Mapped[str | None] = mapped_column(String(16))
    entity: Mapped[str | None] = mapped_column(String(16))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    bank_details: Mapped[str | None] = mapped_column(Text)
    bank_mask: Mapped[str | None] = mapped_column(String(64))


class Entry(Base):
    __tablename__ = "entry"
    __table_args__ = (
        # Keys in the order entries arrive, so that a batch of new entries writes few index pages (0013).
        UniqueConstraint("reference", "kind", "partner_id", name="uq_entry_partner_kind_reference"),
        Index("ix_entry_date_partner", "effective_date", "id", "partner_id", "kind", "amount"),
        # A batch's entries are found by (batch, partner), where its new entries sit side by side; in a
        # partner-first index each would dirty a page of its own (0017).
        Index("ix_entry_partner_date", "partner_id", "effective_date", "id",
              sqlite_where=text("batch_pk IS NULL"), postgresql_where=text("batch_pk IS NULL")),
        Index("ix_entry_batch_partner", "batch_pk", "partner_id",
              sqlite_where=text("batch_pk IS NOT NULL"), postgresql_where=text("batch_pk IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # On PostgreSQL this key and batch_pk's are checked once per statement by triggers (migration 0019).
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    effective_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))
    batch_pk: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))  # a payment dated on its batch's payment date
    payment_type: Mapped[str | None] = mapped_column(String(50))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"))

    partner: Mapped[Partner] = relationship(lazy="raise")


class PartnerPeriod(Base):
    """A partner's sums by kind over one calendar month (months=1) or year (months=12), from `start`.

    Kept by the entry insert trigger, never written by the application; equal to the entries' sums.
    """

    __tablename__ = "partner_period"
    # On SQLite the key's tree holds the sums (migration 0014): one descent per lookup, not two. On
    # PostgreSQL the key's index includes them (0015): a report's lookups are index-only scans.
    __table_args__ = {"sqlite_with_rowid": False}

    months: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    # A foreign key on SQLite only (migration 0016): checkpoints come from entries, whose own key names
    # the partner, so on PostgreSQL the check per new checkpoint row is left out.
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True)
    commissions: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    clawbacks: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    payments: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Batch(Base):
    __tablename__ = "batch"
    # `batch-20150703` beside `Batch-20150703` would be two batches no one can tell apart by name.
    __table_args__ = (Index("uq_batch_batch_id_lower", text("lower(batch_id)"), unique=True),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    payment_type: Mapped[str] = mapped_column(String(50))
    payment_date: Mapped[date] = mapped_column(Date)
    minimum: Mapped[str | None] = mapped_column(String(32))
    allow_overlap: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(100))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)
    origin_channel: Mapped[str | None] = mapped_column(String(64))
    announcement_channel: Mapped[str | None] = mapped_column(String(64))
    announcement_ref: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list[BatchLine]] = relationship(
        back_populates="batch", order_by="BatchLine.id", lazy="select"
    )


class BatchLine(Base):
    """A partner's line in a batch, frozen at request time with the figures it came from.

    Skipped partners are lines too, with `skip_reason` set and nothing to pay. A paid line of a
    posted batch whose payment came back is `failed` (`failed_at` set); its payment is reversed.
    """

    __tablename__ = "batch_line"
    __table_args__ = (UniqueConstraint("batch_pk", "partner_id", name="uq_batch_line_partner"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # On PostgreSQL both keys are checked once per statement by a trigger, and partner_id has no
    # index of its own (migration 0020).
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    beginning_balance: Mapped[int] = mapped_column(BigInteger)
    commissions: Mapped[int] = mapped_column(BigInteger)
    clawbacks: Mapped[int] = mapped_column(BigInteger)
    payments: Mapped[int] = mapped_column(BigInteger)
    ending_balance: Mapped[int] = mapped_column(BigInteger)
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    held: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    held_until: Mapped[date | None] = mapped_column(Date)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # SPEC §10: set once, never cleared
    failed_by: Mapped[str | None] = mapped_column(String(100))
    fail_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[Batch] = relationship(back_populates="lines")
    partner: Mapped[Partner] = relationship(lazy="joined")


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class ApiToken(Base):
    """A bearer token of the HTTP API: only its SHA-256 is kept, so the table cannot be used to call the API."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class ReminderSchedule(Base):
    """Its partial unique index (one active schedule per slot) is in `declare_partial_indexes`."""

    __tablename__ = "reminder_schedule"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    frequency: Mapped[str] = mapped_column(String(16))
    day: Mapped[int] = mapped_column(Integer)
    at_time: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(64))
    range_expression: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(100))


class ReminderSent(Base):
    """One row per schedule and due time: the database, not the clock, decides a reminder went out."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("schedule_id", "period", name="uq_reminder_schedule_period"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("reminder_schedule.id"))
    period: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


ACTIVE_SCHEDULE_INDEX = "uq_reminder_schedule_active"
PAYMENT_REFERENCE_INDEX = "ix_entry_payment_reference"


def declare_partial_indexes() -> None:
    """Add to the metadata the unique index on active reminder schedules (migration 0009 creates it)
    and the index of payments by reference in lower case (migration 0012).

    Its WHERE clause is a dialect option, and SQLAlchemy loads every dialect named in one (PostgreSQL's
    with its drivers) to check it: declared with the table, it would weigh on every command's start-up,
    while only the migrations environment compares the metadata with a database. Adding it twice adds it
    once.
    """
    table = ReminderSchedule.__table__
    if any(index.name == ACTIVE_SCHEDULE_INDEX for index in table.indexes):
        return
    active = "removed_at IS NULL"
    Index(ACTIVE_SCHEDULE_INDEX, table.c.frequency, table.c.day, table.c.at_time, table.c.channel,
          table.c.range_expression, unique=True, sqlite_where=text(active), postgresql_where=text(active))
    payment = "kind = 'payment'"
    Index(PAYMENT_REFERENCE_INDEX, func.lower(Entry.__table__.c.reference).label("reference_lower"),
          sqlite_where=text(payment), postgresql_where=text(payment),
          postgresql_ops={"reference_lower": "text_pattern_ops"})
