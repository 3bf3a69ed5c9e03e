"""Provider-ready payout files (SPEC §9), each rule held against the provider's own page.

The pages are named beside each test; the README's Files section lists them too.
"""

from __future__ import annotations

from datetime import date

import pytest

from commands.payout_files import (
    ExportError,
    PayoutFile,
    customer_ids,
    payout_files,
    provider_file_name,
    provider_files,
)
from domain.batches import PlannedLine
from domain.models import Batch, Partner
from domain.payout_details import BankDetails

IBAN = "DE89370400440532013000"


def _batch() -> Batch:
    return Batch(batch_id="Batch-20150624", status="posted", payment_type="PayPal", payment_date=date(2015, 6, 24))


def _partner(pid: int, code: str, currency: str = "USD", **details: str | None) -> Partner:
    name = details.pop("name", None) or f"Partner {code}"
    values = {"email": f"p{pid}@example.com", **details}
    return Partner(id=pid, code=code, name=name, currency=currency, **values)


def _line(partner: Partner, amount: int) -> PlannedLine:
    return PlannedLine(partner.id, partner.code, partner.name, partner.currency, amount, 0, amount, 0, 0, amount, None)


def _export(partners: list[tuple[Partner, int]], bank: dict[int, BankDetails] | None = None,
            **options: str) -> list[PayoutFile]:
    lines = [_line(partner, amount) for partner, amount in partners]
    return provider_files(_batch(), lines, {p.id: p for p, _ in partners}, bank or {}, **options)


def _rows(payout: PayoutFile) -> list[str]:
    return payout.text.splitlines()


# ---- PayPal: https://developer.paypal.com/docs/api/reference/currency-codes/ -----------------------


def test_paypal_refuses_kwd_naming_every_partner_paid_in_it():
    kal, dana = _partner(1, "KAL", "KWD"), _partner(2, "DANA", "KWD")
    with pytest.raises(ExportError, match=r"KAL \(Partner KAL\): PayPal Payouts does not pay in KWD; "
                                          r"DANA \(Partner DANA\): PayPal Payouts does not pay in KWD"):
        _export([(kal, 1_250), (dana, 3_000)])


@pytest.mark.parametrize(("currency", "minor", "written"), [("JPY", 1_500, "1500"), ("HUF", 1_234_500, "12345"),
                                                            ("TWD", 98_700, "987")])
def test_paypal_amounts_in_jpy_huf_and_twd_are_whole_numbers(currency, minor, written):
    [payout] = _export([(_partner(1, "P1", currency), minor)])
    assert _rows(payout)[0].split(",")[1:3] == [written, currency]


def test_a_huf_amount_with_filler_is_refused_for_paypal_not_rounded():
    with pytest.raises(ExportError, match=r"P1 \(Partner P1\): PayPal pays HUF in whole units only and 123.45 HUF"):
        _export([(_partner(1, "P1", "HUF"), 12_345)])


def test_paypal_eur_amounts_have_a_quoted_decimal_comma():
    """https://docs.paypal.ai/send/use-web-ui: "use 100.5 for USD and "100,45" for EUR"."""
    [payout] = _export([(_partner(1, "P1", "EUR"), 10_045)])
    assert _rows(payout)[0].startswith('p1@example.com,"100,45",EUR,')


# ---- PayPal: https://developer.paypal.com/api/payments.payouts-batch/v1/definitions/payout_item_request --


def test_a_40_character_partner_code_gets_a_unique_customer_id_of_at_most_30_characters_without_spaces():
    long_a, long_b = "A" * 35 + "-0001", "A" * 35 + "-0002"
    ids = customer_ids([long_a, long_b, "SHORT"])
    assert ids["SHORT"] == "SHORT"
    assert ids[long_a] != ids[long_b]
    assert all(len(value) <= 30 and " " not in value for value in ids.values())


def test_the_customer_id_of_a_long_code_is_listed_beside_the_file():
    code = "PARTNER-" + "X" * 32
    [payout] = _export([(_partner(1, code), 1_000)])
    customer_id = _rows(payout)[0].split(",")[3]
    assert payout.customer_ids == ((code, customer_id),)


def test_a_recipient_starting_with_a_dash_is_written_unchanged():
    [payout] = _export([(_partner(1, "BOB", email="-bob@example.com"), 1_000)])
    assert _rows(payout)[0].startswith("-bob@example.com,10.00,USD,BOB,")


def test_a_recipient_that_is_no_e_mail_address_is_refused_not_altered():
    with pytest.raises(ExportError, match=r"BOB \(Partner BOB\): '=2\+2' is not an e-mail address PayPal can pay"):
        _export([(_partner(1, "BOB", email="=2+2"), 1_000)])


def test_a_recipient_longer_than_127_characters_is_refused_for_paypal():
    address = "a" * 120 + "@example.com"
    with pytest.raises(ExportError, match=r"LONG \(Partner LONG\): e-mail address longer than PayPal's 127 characters"):
        _export([(_partner(1, "LONG", email=address), 1_000)])


def test_paypal_files_split_at_5000_rows_into_numbered_parts():
    partners = [(_partner(i, f"P{i}"), 100) for i in range(1, 5_002)]
    files = _export(partners)
    assert [(f.part, len(_rows(f))) for f in files] == [(1, 5_000), (2, 1)]
    assert [provider_file_name("Batch-20150624", f) for f in files] == [
        "Batch-20150624-paypal-USD-1.csv", "Batch-20150624-paypal-USD-2.csv"]


# ---- Wise: https://wise.com/help/articles/2663296 and https://wise.com/help/articles/2663302 -------


def test_wise_receiver_type_is_person_or_business_from_the_partners_entity():
    ann = _partner(1, "ANN", payout_method="wise-email", entity="person")
    acme = _partner(2, "ACME", payout_method="wise-email", entity="business")
    [payout] = _export([(ann, 1_000), (acme, 2_000)])
    assert [row.split(",")[3] for row in _rows(payout)[1:]] == ["PERSON", "BUSINESS"]


def test_wise_source_currency_is_the_one_given_and_the_amount_stays_in_the_partners_currency():
    yuki = _partner(1, "YUKI", "JPY", payout_method="wise-email")
    [payout] = _export([(yuki, 1_500)], source_currency="USD")
    assert _rows(payout)[1].split(",")[4:] == ["target", "1500", "USD", "JPY"]


def test_wise_names_are_written_unchanged():
    odd = _partner(1, "ODD", payout_method="wise-email", name="=2+2")
    [payout] = _export([(odd, 1_000)])
    assert _rows(payout)[1].startswith("=2+2,p1@example.com,")


def test_wise_files_split_at_1000_rows():
    partners = [(_partner(i, f"P{i}", payout_method="wise-email"), 100) for i in range(1, 1_002)]
    assert [(f.part, len(_rows(f)) - 1) for f in _export(partners)] == [(1, 1_000), (2, 1)]


def test_the_single_wise_format_says_person_and_takes_the_source_currency():
    partner = _partner(1, "ANN", "EUR")
    [payout] = payout_files(_batch(), [_line(partner, 1_000)], {1: partner}, "wise", source_currency="GBP")
    assert _rows(payout)[1] == "Partner ANN,p1@example.com,Batch-20150624,PERSON,target,10.00,GBP,EUR"


# ---- Wise bank template per currency ---------------------------------------------------------------


def test_a_eur_bank_payout_carries_the_iban_in_full():
    ann = _partner(1, "ANN", "EUR", payout_method="bank")
    [payout] = _export([(ann, 1_000)], {1: BankDetails(iban=IBAN)})
    assert _rows(payout)[0].endswith(",IBAN")
    assert _rows(payout)[1].endswith(f",10.00,EUR,EUR,{IBAN}")
    assert provider_file_name("Batch-20150624", payout) == "Batch-20150624-bank-EUR.csv"


def test_a_gbp_bank_payout_carries_sort_code_and_account_number():
    olly = _partner(1, "OLLY", "GBP", payout_method="bank")
    [payout] = _export([(olly, 1_000)], {1: BankDetails(sort_code="601613", account_number="31926819")})
    assert _rows(payout)[0].endswith(",sortCode,accountNumber")
    assert _rows(payout)[1].endswith(",601613,31926819")


def test_a_usd_bank_payout_carries_routing_account_type_and_address():
    us = _partner(1, "US1", "USD", payout_method="bank", address_line1="1 Main St", city="Springfield",
                  state="IL", postcode="62701", country="US")
    bank = BankDetails(ach_routing="021000021", account_number="987654321012", account_type="checking")
    [payout] = _export([(us, 1_000)], {1: bank})
    assert _rows(payout)[0].endswith(",abartn,accountNumber,accountType,addressCountryCode,addressCity,"
                                     "addressFirstLine,addressState,addressPostCode")
    assert _rows(payout)[1].endswith(",021000021,987654321012,CHECKING,US,Springfield,1 Main St,IL,62701")


def test_an_aud_bank_payout_carries_bsb_and_account_number():
    au = _partner(1, "AU1", "AUD", payout_method="bank")
    [payout] = _export([(au, 1_000)], {1: BankDetails(bsb="062000", account_number="12345678")})
    assert _rows(payout)[1].endswith(",12345678,062000")


def test_a_currency_with_no_bank_template_is_refused_naming_the_partners():
    yuki = _partner(1, "YUKI", "JPY", payout_method="bank")
    with pytest.raises(ExportError, match=r"YUKI \(Partner YUKI\): no Wise bank template for JPY"):
        _export([(yuki, 1_000)], {1: BankDetails(iban=IBAN)})


def test_every_partner_lacking_details_for_its_method_is_named_and_nothing_is_exported():
    ann = _partner(1, "ANN", "EUR", payout_method="bank")
    us = _partner(2, "US1", "USD", payout_method="bank")
    cash = _partner(3, "CHK", payout_method="check")
    ok = _partner(4, "OK")
    with pytest.raises(ExportError) as refused:
        _export([(ann, 100), (us, 100), (cash, 100), (ok, 100)])
    message = str(refused.value)
    assert "3 partner(s)" in message
    assert "ANN (Partner ANN): bank payouts in EUR need iban" in message
    assert "US1 (Partner US1): bank payouts in USD need ach_routing, account_number, account_type, address_line1" in message
    assert "CHK (Partner CHK): a check needs address_line1, city, postcode, country" in message


def test_a_partner_without_a_method_or_an_email_is_paid_by_check():
    post = _partner(1, "POST", email=None, address_line1="1 Rue X", city="Paris", postcode="75001", country="FR")
    [payout] = _export([(post, 1_000)])
    assert payout.method == "check"
    assert _rows(payout) == [
        "payee_name,address_line1,city,state,postcode,country,amount,currency,memo",
        "Partner POST,1 Rue X,Paris,,75001,FR,10.00,USD,Referral commission Batch-20150624",
    ]


def test_files_are_one_per_method_and_currency():
    partners = [
        (_partner(1, "A"), 100), (_partner(2, "B", "EUR"), 100),
        (_partner(3, "C", "EUR", payout_method="wise-email"), 100),
        (_partner(4, "D", "EUR", payout_method="bank"), 100),
    ]
    files = _export(partners, {4: BankDetails(iban=IBAN)})
    assert sorted(provider_file_name("B1", f) for f in files) == [
        "B1-bank-EUR.csv", "B1-paypal-EUR.csv", "B1-paypal-USD.csv", "B1-wise-email-EUR.csv"]
