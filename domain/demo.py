"""Demo data: a believable referral program dated up to today, so `last-month` has rows."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from domain import audit
from domain.models import CLAWBACK, COMMISSION, PAYMENT, Entry, Partner

_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Amelia Johnson", "USD", "us"), ("Carlos Mendoza", "USD", "mx"), ("Zoë Ångström", "EUR", "se"),
    ("François Lefèvre", "EUR", "fr"), ("Jürgen Müller", "EUR", "de"), ("Giulia Rossi", "EUR", "it"),
    ("Αλέξανδρος Παπαδόπουλος", "EUR", "gr"), ("Дмитрий Иванов", "EUR", "ru"), ("Olena Shevchenko", "EUR", "ua"),
    ("محمد العلي", "USD", "ae"), ("فاطمة الزهراء", "KWD", "kw"), ("王小明", "USD", "cn"),
    ("山田太郎", "JPY", "jp"), ("佐藤花子", "JPY", "jp"), ("김민준", "USD", "kr"), ("Priya Sharma", "GBP", "in"),
    ("Oliver Smith", "GBP", "uk"), ("Siobhán O'Connor", "EUR", "ie"), ("Ngozi Okafor", "USD", "ng"),
    ("João Silva", "USD", "br"), ("Søren Kierkegaard", "EUR", "dk"), ("Łukasz Nowak", "EUR", "pl"),
    ("Ayşe Yılmaz", "EUR", "tr"), ("Nguyễn Văn An", "USD", "vn"), ("Mateo García", "EUR", "es"),
    ("Chloé Dubois", "EUR", "fr"), ("Emily Chen", "USD", "us"), ("Liam Murphy", "USD", "us"),
    ("Hana Novák", "EUR", "cz"), ("Kwame Mensah", "USD", "gh"),
)
_PRODUCTS = ("Annual plan", "Monthly plan", "Starter bundle", "Pro upgrade", "Team seats", "Add-on pack")
_SCALE = {"USD": 100, "EUR": 100, "GBP": 100, "JPY": 1, "KWD": 1000}
_JPY_FACTOR = 150


def _email(name: str, country: str, index: int) -> str:
    local = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())
    return f"{local or 'partner'}{index}@example.{country if country != 'us' else 'com'}"


def partner_count(session: Session) -> int:
    return session.scalar(select(func.count(Partner.id))) or 0


def load_demo(session: Session, *, partners: int, seed: int, today: date, actor: str) -> tuple[int, int]:
    """Add `partners` partners with 18 months of commissions, clawbacks and monthly payments.

    Meant for an empty database: the partner codes start at P00001.
    """
    rng = random.Random(seed)
    first_month = today.year * 12 + today.month - 1 - 17
    start = date(first_month // 12, first_month % 12 + 1, 1)
    recorded = audit.utcnow()
    new_partners = []
    for i in range(partners):
        name, currency, country = _NAMES[i % len(_NAMES)]
        if i >= len(_NAMES):
            name = f"{name} {i // len(_NAMES) + 1}"
        number = i + 1
        new_partners.append(
            Partner(
                code=f"P{number:05d}", name=name, email=_email(name, country, number),
                payout_email=_email(name, country, number) if rng.random() < 0.5 else None,
                currency=currency, status="active", balance=0, created_at=recorded,
            )
        )
    session.add_all(new_partners)
    session.flush()
    rows: list[dict] = []
    for partner in new_partners:
        rows.extend(_partner_history(rng, partner, start, today, recorded, actor))
    for offset_rows in range(0, len(rows), 5000):
        session.execute(insert(Entry), rows[offset_rows : offset_rows + 5000])
    audit.record(session, actor, "demo.load", f"{partners} partners", entries=len(rows), seed=seed)
    return len(new_partners), len(rows)


def _partner_history(
    rng: random.Random, partner: Partner, start: date, today: date, recorded: datetime, actor: str
) -> list[dict]:
    scale = _SCALE.get(partner.currency, 100) * (_JPY_FACTOR if partner.currency == "JPY" else 1)
    rows: list[dict] = []
    balance = 0
    month = start
    sequence = 0
    while month <= today:
        following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        last_day = min(following - timedelta(days=1), today)
        for _ in range(rng.randint(0, 6)):
            sequence += 1
            day = month + timedelta(days=rng.randint(0, (last_day - month).days))
            amount = rng.randint(5, 400) * scale // (10 if partner.currency == "KWD" else 1)
            product = rng.choice(_PRODUCTS)
            rows.append(_row(partner, COMMISSION, amount, day, f"ORD-{partner.code}-{sequence}",
                             f"{product}, order {sequence}", recorded, actor))
            balance += amount
            if rng.random() < 0.12:
                refund_day = min(day + timedelta(days=rng.randint(3, 40)), today)
                rows.append(_row(partner, CLAWBACK, amount, refund_day, f"RFD-{partner.code}-{sequence}",
                                 f"Refund of order {sequence}", recorded, actor))
                balance -= amount
        if following <= today - timedelta(days=40) and balance > 0 and rng.random() < 0.85:
            pay_day = following + timedelta(days=rng.randint(2, 9))
            rows.append(_row(partner, PAYMENT, balance, pay_day, f"PAY-{partner.code}-{pay_day:%Y%m}",
                             "Monthly payout", recorded, actor, payment_type="Check"))
            balance = 0
        month = following
    return rows


def _row(partner: Partner, kind: str, amount: int, day: date, reference: str, description: str,
         recorded: datetime, actor: str, payment_type: str | None = None) -> dict:
    return {
        "partner_id": partner.id, "kind": kind, "amount": amount, "currency": partner.currency,
        "effective_date": day, "reference": reference, "description": description,
        "recorded_at": recorded, "recorded_by": actor, "payment_type": payment_type,
    }
