"""Demo data: a believable referral program dated up to today, so `last-month` has rows."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from domain import audit
from domain.kinds import CLAWBACK, COMMISSION, PAYMENT
from domain.models import Entry, Partner
from domain.payout_details import BANK, CHECK, PAYPAL, WISE_EMAIL, BankDetails
from domain.secret_box import SecretBox

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


# A mix of payout methods, so that every kind of payout file can be tried; PayPal does not pay in
# KWD and Wise has no bank template for JPY or KWD, so those partners are paid another way.
_METHODS = (PAYPAL, WISE_EMAIL, BANK, CHECK, PAYPAL)
_NOT_PAYABLE = {("KWD", PAYPAL): CHECK, ("KWD", BANK): CHECK, ("JPY", BANK): WISE_EMAIL}


def _method(index: int, currency: str, can_encrypt: bool) -> str:
    """Without a key there are no bank details to store, so would-be bank partners are paid by Wise e-mail."""
    method = _METHODS[index % len(_METHODS)]
    method = _NOT_PAYABLE.get((currency, method), method)
    return WISE_EMAIL if method == BANK and not can_encrypt else method


def _address(number: int, country: str) -> dict[str, str | None]:
    code = "GB" if country == "uk" else country.upper()
    return {"address_line1": f"{number} Example Street", "city": "Springfield", "postcode": f"{10000 + number}",
            "state": "IL" if code == "US" else None, "country": code}


def _bank(number: int, currency: str) -> BankDetails:
    """Fake details that pass every check: a valid IBAN checksum, a valid ABA routing number."""
    if currency == "GBP":
        return BankDetails(sort_code="601613", account_number=f"{number:08d}")
    if currency == "USD":
        return BankDetails(ach_routing="021000021", account_number=f"{4_000_000 + number}", account_type="checking")
    from schwifty import IBAN

    return BankDetails(iban=str(IBAN.generate("DE", bank_code="37040044", account_code=f"{number:010d}").compact))


def _payout_details(number: int, currency: str, country: str, secrets: SecretBox | None) -> dict[str, str | None]:
    method = _method(number - 1, currency, secrets is not None)
    details: dict[str, str | None] = {"payout_method": method, "entity": "business" if number % 7 == 0 else "person"}
    if method in (BANK, CHECK):
        details.update(_address(number, country))
    if method == BANK and secrets is not None:
        bank = _bank(number, currency)
        details.update(bank_details=secrets.encrypt(bank.to_json()), bank_mask=bank.masked())
    return details


def partner_count(session: Session) -> int:
    return session.scalar(select(func.count(Partner.id))) or 0


def load_demo(session: Session, *, partners: int, seed: int, today: date, actor: str,
              secrets: SecretBox | None = None) -> tuple[int, int]:
    """Add `partners` partners with 18 months of commissions, clawbacks and monthly payments.

    Meant for an empty database: the partner codes start at P00001. Partners get a mix of payout
    methods; bank details only when `secrets` (PAYOUTS_SECRET_KEY) can encrypt them.
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
                **_payout_details(number, currency, country, secrets),
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
