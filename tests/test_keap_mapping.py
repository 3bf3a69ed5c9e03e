"""What Keap's records mean for the ledger (domain.keap_mapping), and how the client reads Keap's answers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.keap_client import KeapClient, KeapError, Pacer, keap_time, mask, retry_after
from domain.keap_mapping import (
    Affiliate,
    affiliate,
    clawback_rows,
    commission_rows,
    local_date,
    payment_rows,
    primary_email,
    usable_affiliates,
)
from tests.keap_double import KEY, KeapDouble, SimClock, generate


def commission(**fields):  # type: ignore[no-untyped-def]
    return {"invoice_id": "17", "product_name": "Gold", "contact_id": "5", "date_earned": "2015-06-01T03:00:00.000Z",
            "amount_earned": Decimal("12.50"), "description": "Sale", **fields}


def test_a_commission_is_dated_by_the_day_it_was_earned_in_timezone():
    """03:00 UTC on 1 June is still 31 May in New York (SPEC §2: dates in the organisation's zone)."""
    [row] = commission_rows("ANN", [commission()], "America/New_York").rows
    assert row["date"] == "2015-05-31"
    assert commission_rows("ANN", [commission()], "Europe/Berlin").rows[0]["date"] == "2015-06-01"


def test_a_time_without_an_offset_is_read_as_utc():
    assert local_date("2015-06-01T02:00:00", "America/New_York") == date(2015, 5, 31)


@pytest.mark.parametrize("amount", [Decimal("-7.25"), Decimal("7.25")])
def test_a_clawback_of_either_sign_is_its_magnitude(amount):
    """Keap's clawback amounts come signed either way; the entry's kind says which way it goes."""
    [row] = clawback_rows("ANN", [{**commission(), "amount": amount}], "UTC").rows
    assert (row["kind"], row["amount"]) == ("clawback", "7.25")


def test_a_negative_commission_is_reported_not_guessed():
    mapped = commission_rows("ANN", [commission(amount_earned=Decimal("-3.00"))], "UTC")
    assert mapped.rows == [] and "negative commission (-3.00)" in mapped.skipped[0]


def test_a_zero_commission_records_nothing():
    assert commission_rows("ANN", [commission(amount_earned=0)], "UTC") .rows == []


def test_commissions_alike_in_invoice_product_and_contact_get_numbered_references():
    rows = commission_rows("ANN", [commission(), commission(date_earned="2015-06-02T03:00:00.000Z")], "UTC").rows
    first, second = sorted(row["reference"] for row in rows)
    assert first.endswith(":1") and second.endswith(":2") and first[:-2] == second[:-2]
    assert first.startswith("keap-c:17:")


def test_a_commission_keeps_its_reference_when_its_amount_or_date_changes():
    """So that a record changed upstream is found as changed, never imported a second time."""
    before = commission_rows("ANN", [commission()], "UTC").rows[0]
    after = commission_rows("ANN", [commission(amount_earned=Decimal("99"), date_earned="2015-06-09T00:00:00Z")],
                            "UTC").rows[0]
    assert before["reference"] == after["reference"] and before["amount"] != after["amount"]


def test_keap_text_loses_its_control_characters_and_fits_the_description():
    [row] = commission_rows("ANN", [commission(description="Line\none\u202e" + "x" * 600)], "UTC").rows
    assert row["description"].startswith("Line one x") and len(row["description"]) == 500


def test_payments_are_read_up_to_the_switch_over_day_included():
    records = [{"id": "1", "pay_date": "2015-01-31T23:30:00Z", "pay_amount": Decimal("10"), "pay_type": "CHECK"},
               {"id": "2", "pay_date": "2015-02-01T00:30:00Z", "pay_amount": Decimal("10"), "pay_type": "CHECK"}]
    rows = payment_rows("ANN", records, "UTC", date(2015, 1, 31)).rows
    assert [row["reference"] for row in rows] == ["keap-p:1"]
    assert rows[0]["description"] == "CHECK"


def test_a_negative_payment_is_reported_not_recorded():
    records = [{"id": "9", "pay_date": "2015-01-03T00:00:00Z", "pay_amount": Decimal("-5"), "pay_type": "REFUND"}]
    mapped = payment_rows("ANN", records, "UTC", date(2015, 1, 31))
    assert mapped.rows == [] and "negative payment (-5, REFUND)" in mapped.skipped[0]


def test_an_affiliate_takes_keaps_status_in_lower_case():
    assert affiliate({"id": 12, "code": "ANN", "name": "Ann", "status": "INACTIVE"}).status == "inactive"


def test_an_affiliate_without_a_code_and_affiliates_sharing_one_are_left_out_with_reasons():
    kept, problems = usable_affiliates([Affiliate("1", None, "A", None, None), Affiliate("2", "X", "B", None, None),
                                        Affiliate("3", "X", "C", None, None), Affiliate("10", "Y", "D", None, None)])
    assert [item.id for item in kept] == ["10"]
    assert problems == ["affiliate 1 has no referral partner code in Keap; it was not synced",
                        "affiliates 2, 3 share the code 'X' in Keap; none of them was synced"]


def test_the_primary_email_is_email1():
    contact = {"email_addresses": [{"email": "b@example.com", "field": "EMAIL2"},
                                   {"email": "a@example.com", "field": "EMAIL1"}]}
    assert primary_email(contact) == "a@example.com"
    assert primary_email({"email_addresses": []}) is None


# ---- the client ---------------------------------------------------------------------------------


def test_keaps_amounts_are_read_as_decimals_never_floats():
    """Keap types amounts as doubles; 0.1 + 0.2 must stay 0.3 to the cent."""
    account = generate(seed=2, affiliates=1, commissions=1, clawbacks=0, payments=0)
    account.commissions[0]["amount_earned"] = Decimal("0.10")
    with KeapDouble(account) as double:
        [(following, page)] = KeapClient(KEY, double.base_url, clock=double.clock).commissions(None, datetime.now(UTC))
    assert page[0]["amount_earned"] == Decimal("0.1") and isinstance(page[0]["amount_earned"], Decimal)
    assert following is None


def test_retry_after_is_read_in_seconds_or_as_an_http_date():
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date."""
    now = datetime(2015, 7, 15, 12, 0, tzinfo=UTC).timestamp()
    assert retry_after("7", now) == 7.0
    assert retry_after("Wed, 15 Jul 2015 12:00:30 GMT", now) == 30.0
    assert retry_after("soon", now) is None


def test_the_pacer_never_lets_more_than_10_requests_into_a_second():
    clock = SimClock()
    pacer = Pacer(clock)
    times = []
    for _ in range(25):
        pacer.before_request()
        times.append(clock.time())
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) == 10


def test_keap_times_are_utc_with_milliseconds():
    assert keap_time(datetime(2015, 7, 15, 12, 0, 1, 250_000, tzinfo=UTC)) == "2015-07-15T12:00:01.250Z"


def test_the_key_is_masked_to_its_last_four_characters():
    assert mask("KeapAK-abcdefgh-1234") == "••••1234" and mask("short") == "••••"


def test_a_keap_that_keeps_failing_is_an_error_after_a_few_attempts():
    with KeapDouble(generate(seed=1, affiliates=1, commissions=0, clawbacks=0, payments=0)) as double:
        double.fail_next(20, 503)
        with pytest.raises(KeapError, match="kept refusing GET /v2/affiliates after 8 attempts"):
            list(KeapClient(KEY, double.base_url, clock=double.clock).affiliates())


def test_an_unreachable_keap_is_named_without_the_key():
    client = KeapClient(KEY, "http://127.0.0.1:9", clock=SimClock())
    with pytest.raises(KeapError) as caught:
        list(client.affiliates())
    assert "cannot reach Keap at http://127.0.0.1:9" in str(caught.value) and KEY not in str(caught.value)


def test_the_key_is_kept_out_of_the_clients_and_the_settings_repr():
    """A traceback or a log line that prints the client or the settings must not print the key."""
    from commands.keap_sync import KeapSettings

    assert KEY not in repr(KeapClient(KEY, "http://127.0.0.1:9", clock=SimClock()))
    assert KEY not in repr(KeapSettings(api_key=KEY))


def test_v2_lists_are_read_page_by_page_with_page_token_until_next_page_token_is_empty():
    """`page_size` at most 1000 and `next_page_token` (keap-sdk sdks/v2/swagger.yml, listAffiliate)."""
    account = generate(seed=1, affiliates=2_500, commissions=0, clawbacks=0, payments=0)
    with KeapDouble(account) as double:
        pages = list(KeapClient(KEY, double.base_url, clock=double.clock).affiliates())
    assert [len(page) for _, page in pages] == [1000, 1000, 500]
    assert [bool(hit.query.get("page_token")) for hit in double.hits] == [False, True, True]
    assert [bool(token) for token, _ in pages] == [True, True, False]
    assert len({a["id"] for _, page in pages for a in page}) == 2_500


def test_v1_lists_are_read_page_by_page_with_offset_and_limit_until_a_short_page():
    """v1 pages with `offset` and `limit` (infusionsoft-php AffiliateService; the v1 document)."""
    account = generate(seed=1, affiliates=1, commissions=0, clawbacks=1_500, payments=0)
    affiliate_id = account.affiliates[0]["id"]
    with KeapDouble(account) as double:
        found = KeapClient(KEY, double.base_url, clock=double.clock).clawbacks(affiliate_id, None,
                                                                              datetime(2016, 1, 1, tzinfo=UTC))
    assert len(found) == 1_500
    assert [hit.query["offset"] for hit in double.hits] == ["0", "1000"]
