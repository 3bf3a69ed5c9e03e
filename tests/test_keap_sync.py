"""`payouts sync keap` against the Keap double (SPEC §11, issue 17): the ledger Keap's records make.

The double (tests/keap_double.py) follows Keap's OpenAPI documents and enforces a key's limits on
a simulated clock; the expected ledgers here are computed straight from the double's records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.keap_client import KeapClient
from commands.keap_sync import KeapSettings, KeapSync, estimate_seconds
from domain import audit, keap_state
from domain.models import Entry, Partner
from domain.settings import Settings
from tests.keap_double import KEY, Account, KeapDouble, all_records, generate, keap_iso

TIMEZONE = "America/New_York"
NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)
SWITCH_OVER = date(2015, 1, 31)


@pytest.fixture
def org() -> Settings:
    return Settings(timezone=TIMEZONE, fixed_now=NOW)


def keap_settings(double: KeapDouble, **changes) -> KeapSettings:  # type: ignore[no-untyped-def]
    return replace(KeapSettings(api_key=KEY, api_url=double.base_url, currency="USD", payments_until=SWITCH_OVER),
                   **changes)


def run_sync(db, org, double, *, source=None, **changes):  # type: ignore[no-untyped-def]
    options = {key: changes.pop(key) for key in ("since", "until") if key in changes}
    client = source or KeapClient(KEY, double.base_url, clock=double.clock)
    return KeapSync(db, org, keap_settings(double, **changes), client, "cli:test", **options).run()


def local_day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(ZoneInfo(TIMEZONE)).date()


def cents(value: Decimal) -> int:
    return int(abs(value) * 100)


def expected_entries(account: Account, payments_until: date | None = SWITCH_OVER) -> Counter:
    """(code, kind, day, cents) of every entry the account should make, computed from its raw records."""
    codes = {affiliate["id"]: affiliate["code"] for affiliate in account.affiliates}
    found: Counter = Counter()
    for kind, record in all_records(account):
        if kind == "commission":
            found[(codes[record["sales_affiliate_id"]], kind, local_day(record["date_earned"]),
                   cents(record["amount_earned"]))] += 1
        elif kind == "clawback":
            found[(codes[record["sale_affiliate_id"]], kind, local_day(record["date_earned"]),
                   cents(record["amount"]))] += 1
        else:
            day = local_day(record["pay_date"])
            if payments_until is not None and day <= payments_until:
                owner = next(a for a, records in account.payments.items() if record in records)
                found[(codes[owner], kind, day, cents(record["pay_amount"]))] += 1
    return found


def ledger_entries(db) -> Counter:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.execute(select(Partner.code, Entry.kind, Entry.effective_date, Entry.amount)
                               .join(Partner, Partner.id == Entry.partner_id))
        return Counter((code, kind, day if isinstance(day, date) else date.fromisoformat(day), amount)
                       for code, kind, day, amount in rows)


def entry_rows(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return sorted(session.execute(select(Entry.partner_id, Entry.kind, Entry.reference, Entry.amount,
                                             Entry.effective_date, Entry.recorded_at)).all())


@pytest.fixture
def account() -> Account:
    """100 affiliates, 5,000 commissions, 300 clawbacks, 200 payments on both sides of the switch-over."""
    return generate(seed=17)


def test_a_first_sync_gives_exactly_the_ledger_computed_from_keaps_records(db, org, account):
    with KeapDouble(account) as double:
        summary = run_sync(db, org, double)
    expected = expected_entries(account)
    assert sum(1 for (_, kind, _, _) in expected.elements() if kind == "payment") < 200  # some are after it
    assert ledger_entries(db) == expected
    assert summary.added == sum(expected.values()) and not summary.problems and not summary.changed


def test_a_first_sync_makes_a_partner_of_every_affiliate_with_its_name_status_and_email(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double)
    with db.read() as session:
        partners = {p.code: (p.name, p.status, p.email, p.currency) for p in session.scalars(select(Partner))}
    assert partners["AFF00001"] == ("Partner 1", "active", "partner1@example.com", "USD")
    assert partners["AFF00009"] == ("Partner 9", "inactive", "partner9@example.com", "USD")
    assert partners["AFF00005"][2] is None  # that contact has no e-mail address in Keap
    assert len(partners) == 100


def test_a_second_sync_over_the_same_window_writes_nothing(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double, since=date(2000, 1, 1))
        before = entry_rows(db)
        again = run_sync(db, org, double, since=date(2000, 1, 1))
    assert entry_rows(db) == before
    assert again.added == 0 and again.unchanged == len(before)


class Killed(BaseException):
    """The process dying between two requests."""


class DiesAfter:
    """A Keap client that is killed after `clawback_requests` affiliates' clawbacks were asked for."""

    def __init__(self, client: KeapClient, clawback_requests: int) -> None:
        self.client, self.left = client, clawback_requests

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.client, name)

    def clawbacks(self, *args):  # type: ignore[no-untyped-def]
        self.left -= 1
        if self.left < 0:
            raise Killed
        return self.client.clawbacks(*args)


class DiesInCommissions:
    """A Keap client that is killed after reading `pages` pages of commissions."""

    def __init__(self, client: KeapClient, pages: int) -> None:
        self.client, self.pages = client, pages

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.client, name)

    def commissions(self, *args):  # type: ignore[no-untyped-def]
        for number, page in enumerate(self.client.commissions(*args)):
            if number == self.pages:
                raise Killed
            yield page


def test_a_sync_killed_while_paging_resumes_after_the_last_page_it_read(db, org, account):
    """Checkpoints after each page (issue 17): the rerun reads neither the affiliates nor the
    contacts again, and asks for commissions from the page after the last one kept."""
    with KeapDouble(account) as double:
        with pytest.raises(Killed):
            run_sync(db, org, double, source=DiesInCommissions(KeapClient(KEY, double.base_url, clock=double.clock), 2))
        double.hits.clear()
        run_sync(db, org, double)
    paths = [hit.path for hit in double.hits]
    assert "/v2/affiliates" not in paths and "/v2/contacts" not in paths
    offsets = [hit.query["offset"] for hit in double.hits if hit.path == "/v1/affiliates/commissions"]
    assert offsets == ["2000", "3000", "4000", "5000"]
    assert ledger_entries(db) == expected_entries(account)


def test_a_finished_sync_keeps_no_pages(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double)
    with db.read() as session:
        assert keap_state.staged(session, "commissions") == [] and keap_state.staged(session, "affiliates") == []


def test_a_sync_killed_midway_and_run_again_gives_the_same_ledger(db, org, account):
    with KeapDouble(account) as double:
        with pytest.raises(Killed):
            run_sync(db, org, double, source=DiesAfter(KeapClient(KEY, double.base_url, clock=double.clock), 40))
        partial = ledger_entries(db)
        with db.read() as session:
            interrupted = keap_state.interrupted(session)
        resumed = run_sync(db, org, double)
    assert 0 < sum(partial.values()) < sum(expected_entries(account).values())
    assert interrupted is not None and interrupted.done_through == account.affiliates[39]["id"]
    assert resumed.resumed
    assert ledger_entries(db) == expected_entries(account)


def test_a_resumed_sync_asks_keap_only_for_the_affiliates_not_yet_written(db, org, account):
    with KeapDouble(account) as double:
        with pytest.raises(Killed):
            run_sync(db, org, double, source=DiesAfter(KeapClient(KEY, double.base_url, clock=double.clock), 40))
        double.hits.clear()
        run_sync(db, org, double)
    asked = {hit.path.split("/")[3] for hit in double.hits if hit.path.endswith("/clawbacks")}
    assert asked == {affiliate["id"] for affiliate in account.affiliates[40:]}


def test_429_and_retry_after_are_honoured_and_the_rate_never_passes_10_a_second(db, org, account):
    """Keap answers 429 over a limit and asks for back-off (developer.infusionsoft.com/faqs/how-does-throttling-work)."""
    with KeapDouble(account) as double:
        double.fail_next(2, 429, retry_after="7")
        started = double.clock.time()
        run_sync(db, org, double)
        refused = [hit for hit in double.hits if hit.status == 429]
    assert [hit.at - refused[0].at for hit in refused] == [0.0, 7.0]
    retried = double.hits[2]
    assert retried.status == 200 and retried.at - refused[1].at >= 7.0
    assert double.most_in_any_second() <= 10 and double.most_in_any_minute() <= 240
    assert ledger_entries(db) == expected_entries(account)
    assert double.clock.time() - started >= len(double.hits) / 240 * 60 - 60


def test_a_sync_never_draws_a_429_from_keaps_own_limits(db, org, account):
    """Paced within 10 a second and 240 a minute, no request is refused (the double enforces both)."""
    with KeapDouble(account) as double:
        run_sync(db, org, double)
    assert not [hit for hit in double.hits if hit.status == 429]
    assert double.most_in_any_second() == 10


def test_the_sync_paces_itself_from_the_throttle_available_header(db, org, account):
    """A key whose minute allows fewer requests than 240 is read from `x-keap-product-throttle-available`
    (developer.infusionsoft.com/api-token-quota-and-usage-measurements): the sync waits, and draws no 429."""
    with KeapDouble(account, per_minute=100) as double:
        run_sync(db, org, double)
    assert len(double.hits) > 200
    assert not [hit for hit in double.hits if hit.status == 429]
    assert double.most_in_any_minute() <= 100


def test_a_spent_daily_quota_waits_for_the_quota_expiry_time(db, org):
    """At `x-keap-product-quota-available: 0` the sync waits for `x-keap-product-quota-expiry-time`
    (00:00 UTC) instead of drawing 429s."""
    account = generate(seed=4, affiliates=30, commissions=100, clawbacks=10, payments=10)
    with KeapDouble(account, per_day=40) as double:
        run_sync(db, org, double)
    assert not [hit for hit in double.hits if hit.status == 429]
    days = {datetime.fromtimestamp(hit.at, UTC).date() for hit in double.hits}
    assert days == {date(2015, 7, 15), date(2015, 7, 16)}
    assert ledger_entries(db) == expected_entries(account)


def test_an_affiliate_without_a_code_or_sharing_one_is_reported_and_not_synced(db, org):
    account = generate(seed=3, affiliates=6, commissions=60, clawbacks=6, payments=0)
    account.affiliates[1]["code"] = ""
    account.affiliates[3]["code"] = account.affiliates[4]["code"]
    left_out = {account.affiliates[i]["id"] for i in (1, 3, 4)}
    with KeapDouble(account) as double:
        summary = run_sync(db, org, double)
    with db.read() as session:
        codes = set(session.scalars(select(Partner.code)))
    assert codes == {account.affiliates[i]["code"] for i in (0, 2, 5)}
    assert any("has no referral partner code" in line and account.affiliates[1]["id"] in line for line in summary.problems)
    assert any("share the code 'AFF00004'" in line for line in summary.problems)
    kept = [c for c in account.commissions if c["sales_affiliate_id"] not in left_out]
    assert sum(1 for (_, kind, _, _) in ledger_entries(db).elements() if kind == "commission") == len(kept)


def test_a_record_changed_in_keap_after_import_is_reported_and_never_overwritten(db, org):
    account = generate(seed=5, affiliates=3, commissions=30, clawbacks=0, payments=0)
    with KeapDouble(account) as double:
        run_sync(db, org, double)
        before = entry_rows(db)
        account.commissions[4]["amount_earned"] += Decimal("1.00")
        again = run_sync(db, org, double, since=date(2000, 1, 1))
        with db.read() as session:
            logged = [line for line in audit.read_log(session) if line.action == "keap.changed"]
    assert entry_rows(db) == before
    assert len(again.changed) == 1 and "amount" in again.changed[0] and "keeps what it recorded" in again.changed[0]
    assert len(logged) == 1 and logged[0].detail["change"] == again.changed[0]


def test_payments_dated_after_keap_payments_until_are_not_read_into_the_ledger(db, org, account):
    """Payments after the switch-over are recorded here; reading them from Keap would count them twice."""
    with KeapDouble(account) as double:
        run_sync(db, org, double)
    paid = [day for (_, kind, day, _) in ledger_entries(db).elements() if kind == "payment"]
    assert paid and max(paid) <= SWITCH_OVER


def test_without_keap_payments_until_no_payment_is_read(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double, payments_until=None)
    assert not [hit for hit in double.hits if hit.path.endswith("/payments")]
    assert ledger_entries(db) == expected_entries(account, payments_until=None)


def test_a_sync_after_the_switch_over_asks_keap_for_no_payments(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double)
        double.hits.clear()
        run_sync(db, org, double, since=date(2015, 3, 1))
    assert not [hit for hit in double.hits if hit.path.endswith("/payments")]


def test_an_incremental_sync_reads_from_the_last_success_less_seven_days(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double)
        double.hits.clear()
        later = replace(org, fixed_now=datetime(2015, 7, 20, 12, 0, tzinfo=UTC))
        run_sync(db, later, double)
    asked = next(hit for hit in double.hits if hit.path == "/v1/affiliates/commissions")
    assert asked.query["since"] == "2015-07-08T12:00:00.000Z"
    assert asked.query["until"] == "2015-07-20T12:00:00.000Z"


def test_a_back_dated_record_inside_the_overlap_is_picked_up_by_the_next_sync(db, org, account):
    with KeapDouble(account) as double:
        run_sync(db, org, double)
        account.commissions.append({**account.commissions[0], "invoice_id": "LATE-1",
                                    "date_earned": keap_iso(datetime(2015, 7, 12, 15, 0, tzinfo=UTC)),
                                    "amount_earned": Decimal("12.34")})
        later = replace(org, fixed_now=datetime(2015, 7, 16, 12, 0, tzinfo=UTC))
        summary = run_sync(db, later, double)
    assert summary.added == 1
    assert ledger_entries(db) == expected_entries(account)


def test_the_sync_is_in_the_audit_log_with_its_counts(db, org, account):
    with KeapDouble(account) as double:
        summary = run_sync(db, org, double)
    with db.read() as session:
        logged = [line for line in audit.read_log(session) if line.action == "keap.sync"]
        synced = keap_state.last_success(session)
    assert len(logged) == 1 and logged[0].detail["added"] == summary.added and logged[0].actor == "cli:test"
    assert synced == NOW


def test_a_sync_refused_for_one_affiliate_writes_none_of_its_entries_and_goes_on(db, org):
    """All of one sync's entries for a partner land together (SPEC §11), through the import's rules."""
    account = generate(seed=9, affiliates=3, commissions=30, clawbacks=0, payments=0)
    victim = account.commissions[0]["sales_affiliate_id"]
    account.commissions[0]["amount_earned"] = Decimal("1.005")
    with KeapDouble(account) as double:
        summary = run_sync(db, org, double)
    codes = {a["id"]: a["code"] for a in account.affiliates}
    written = {code for (code, _, _, _) in ledger_entries(db)}
    assert codes[victim] not in written and len(written) == 2
    assert any("1.005" in line and "more decimals than USD allows" in line for line in summary.problems)


def test_a_sync_reports_its_progress_and_the_time_left(db, org, account):
    updates = []
    with KeapDouble(account) as double:
        client = KeapClient(KEY, double.base_url, clock=double.clock)
        KeapSync(db, org, keap_settings(double), client, "cli:test", progress=updates.append,
                 elapsed=double.clock.time).run()
    assert [update.done for update in updates] == list(range(1, 101))
    assert {update.total for update in updates} == {100}
    assert updates[0].seconds_left > 0 and updates[-1].seconds_left == 0


def test_a_sync_says_at_the_start_how_long_it_will_take(db, org, account):
    said = []
    with KeapDouble(account) as double:
        client = KeapClient(KEY, double.base_url, clock=double.clock)
        KeapSync(db, org, keap_settings(double), client, "cli:test", say=said.append).run()
    assert said == ["keap: 100 affiliate(s), 100 to read: about 200 request(s), at least 1 min at Keap's "
                    "240 requests a minute"]


def test_the_estimate_counts_240_requests_a_minute_and_a_day_past_30000():
    assert estimate_seconds(240) == 60.0
    assert estimate_seconds(20_000) == 5_000.0
    assert estimate_seconds(30_001) == 30_001 / 4 + 86_400


def test_the_same_command_with_since_run_again_after_a_kill_resumes_its_window(db, org, account):
    with KeapDouble(account) as double:
        with pytest.raises(Killed):
            run_sync(db, org, double, since=date(2014, 6, 1),
                     source=DiesAfter(KeapClient(KEY, double.base_url, clock=double.clock), 40))
        resumed = run_sync(db, org, double, since=date(2014, 6, 1))
    assert resumed.resumed
