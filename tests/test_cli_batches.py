"""`payouts pay`, `payouts batch …` and `payouts audit` as a script sees them (SPEC §5)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.cli import main
from domain import batches
from domain.dates import DateRange
from domain.db import Database
from domain.settings import Settings
from tests.factories import add_entry, add_partner

PAY_JUNE = ["pay", "2015-06", "--method", "ending-balance", "--date", "2015-07-01"]


@pytest.fixture
def database(sqlite_db):
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        cy = add_partner(s, "CY", "Cy")
        add_entry(s, ann, "commission", 12_345, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
        add_entry(s, cy, "clawback", 500, "2015-06-12")
    return sqlite_db.url


def run(capsys, database: str, *args: str) -> tuple[int, str, str]:
    status = main(["--database", database, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_pay_without_yes_is_a_preview_in_the_spec_json_shape(capsys, database):
    status, out, _ = run(capsys, database, *PAY_JUNE, "--format", "json")
    body = json.loads(out)
    assert status == 0
    assert body == {
        "batch_id": "Batch-20150701", "status": "preview", "method": "ending-balance", "payment_type": "Check",
        "payment_date": "2015-07-01", "start": "2015-06-01", "end": "2015-06-30",
        "lines": [{"partner_code": "ANN", "amount": "123.45", "currency": "USD"},
                  {"partner_code": "BOB", "amount": "20.00", "currency": "EUR"}],
        "skipped": [{"partner_code": "CY", "reason": "nothing owed (-$5.00)"}],
        "totals": [{"currency": "EUR", "amount": "20.00", "count": 1},
                   {"currency": "USD", "amount": "123.45", "count": 1}],
    }


def test_a_preview_reserves_nothing(capsys, database):
    run(capsys, database, *PAY_JUNE)
    status, out, _ = run(capsys, database, "batch", "list", "--format", "json")
    assert status == 0 and json.loads(out) == []


def test_pay_with_yes_posts_as_the_terminal_operator(capsys, database):
    status, out, _ = run(capsys, database, *PAY_JUNE, "--type", "paypal", "--format", "json", "--yes")
    body = json.loads(out)
    assert status == 0
    assert body["status"] == "posted" and body["payment_type"] == "PayPal"
    assert body["requested_by"].startswith("cli:") and body["approved_by"] == body["requested_by"]
    _, ledger, _ = run(capsys, database, "ledger", "2015-07", "--format", "json")
    rows = {row["partner_code"]: (row["payments"], row["ending_balance"]) for row in json.loads(ledger)["rows"]}
    assert rows == {"ANN": ("123.45", "0.00"), "BOB": ("20.00", "0.00"), "CY": ("0.00", "-5.00")}


def test_paying_the_same_range_twice_is_refused_with_exit_2_naming_the_batch(capsys, database):
    run(capsys, database, *PAY_JUNE, "--yes")
    status, _, err = run(capsys, database, "pay", "2015-06", "--method", "commission", "--yes")
    assert status == 2
    assert "Batch-20150701" in err and len(err.strip().splitlines()) == 1


def test_batch_show_reports_the_real_status_and_who_voided(capsys, database):
    run(capsys, database, *PAY_JUNE, "--yes")
    assert run(capsys, database, "batch", "void", "Batch-20150701", "--reason", "checks lost")[0] == 0
    status, out, _ = run(capsys, database, "batch", "show", "Batch-20150701", "--format", "json")
    body = json.loads(out)
    assert status == 0
    assert body["status"] == "voided" and body["voided_by"].startswith("cli:")
    assert body["void_reason"] == "checks lost"


def test_batch_list_shows_each_batch_with_its_totals(capsys, database):
    run(capsys, database, *PAY_JUNE, "--yes")
    status, out, _ = run(capsys, database, "batch", "list")
    assert status == 0
    assert "Batch-20150701" in out and "posted" in out and "$123.45 to 1 partner(s)" in out


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_batch_list_with_a_limit_under_one_is_bad_input(capsys, database, limit):
    run(capsys, database, *PAY_JUNE, "--yes")
    status, out, err = run(capsys, database, "batch", "list", "--limit", limit)
    assert (status, out) == (2, "")
    assert f"'{limit}' must be 1 or more" in err and len(err.strip().splitlines()) == 1


def _fail_the_commit_after(monkeypatch, name: str) -> None:
    """Make the transaction in which `batches.<name>` ran fail as it commits."""
    real = getattr(batches, name)

    def then_fail(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(session, *args, **kwargs)
        event.listen(session, "before_commit", _disk_error)
        return result

    monkeypatch.setattr(batches, name, then_fail)


def _disk_error(session) -> None:  # type: ignore[no-untyped-def]
    raise OperationalError("COMMIT", {}, Exception("disk I/O error"))


def test_pay_with_yes_announces_no_posting_when_the_commit_fails(capsys, database, monkeypatch):
    _fail_the_commit_after(monkeypatch, "request_and_post_batch")
    status, out, err = run(capsys, database, *PAY_JUNE, "--yes")
    assert (status, out) == (1, "") and "disk I/O error" in err


def test_void_announces_nothing_when_the_commit_fails(capsys, database, monkeypatch):
    run(capsys, database, *PAY_JUNE, "--yes")
    _fail_the_commit_after(monkeypatch, "void_batch")
    status, out, err = run(capsys, database, "batch", "void", "Batch-20150701", "--reason", "lost")
    assert (status, out) == (1, "") and "disk I/O error" in err


def test_an_unknown_batch_is_bad_input(capsys, database):
    status, _, err = run(capsys, database, "batch", "show", "Batch-19990101")
    assert status == 2 and "Batch-19990101" in err


def test_an_unknown_method_is_bad_input(capsys, database):
    status, _, err = run(capsys, database, "pay", "2015-06", "--method", "everything")
    assert status == 2 and "everything" in err


def test_a_minimum_in_exponent_notation_is_bad_input_like_such_an_amount(capsys, database):
    status, out, err = run(capsys, database, *PAY_JUNE, "--minimum", "1e3")
    assert (status, out) == (2, "") and "minimum '1e3' is not a number" in err


def test_an_unknown_payment_type_names_the_configured_ones(capsys, database):
    status, _, err = run(capsys, database, *PAY_JUNE, "--type", "Bitcoin")
    assert status == 2 and "Bitcoin" in err and "Check" in err


def test_the_audit_log_names_who_requested_posted_and_voided(capsys, database):
    run(capsys, database, *PAY_JUNE, "--yes")
    run(capsys, database, "batch", "void", "Batch-20150701", "--reason", "duplicate")
    status, out, _ = run(capsys, database, "audit", "--format", "json")
    actions = [(event["action"], event["subject"]) for event in json.loads(out)]
    assert status == 0
    assert actions == [("batch.request", "Batch-20150701"), ("batch.post", "Batch-20150701"),
                       ("batch.void", "Batch-20150701")]
    assert all(event["actor"].startswith("cli:") for event in json.loads(out))


def test_audit_since_a_date_starts_at_midnight_in_the_organisations_time_zone(capsys, database, monkeypatch):
    run(capsys, database, *PAY_JUNE, "--yes")
    _, everything, _ = run(capsys, database, "audit", "--format", "json")
    recorded = datetime.fromisoformat(json.loads(everything)[0]["at"]).replace(tzinfo=UTC)
    # A zone and a date on which midnight there and midnight in UTC fall on either side of `recorded`.
    if recorded.hour < 11:
        zone_name, day, expected = "Pacific/Pago_Pago", recorded.date(), 0  # UTC-11: its midnight comes later
    else:
        zone_name, day, expected = "Pacific/Kiritimati", recorded.date() + timedelta(days=1), 2  # UTC+14
    monkeypatch.setenv("TIMEZONE", zone_name)
    status, out, _ = run(capsys, database, "audit", "--since", day.isoformat(), "--format", "json")
    assert status == 0 and len(json.loads(out)) == expected


def pending_batch(database: str) -> str:
    """A batch requested in chat and never decided there."""
    settings = Settings()
    options = batches.BatchOptions(DateRange(date(2015, 6, 1), date(2015, 6, 30)), "ending-balance", "Check",
                                   date(2015, 7, 1))
    db = Database(database)
    with db.write() as session:
        batch_id = batches.request_batch(session, options, actor="U_FIN", now=settings.now()).batch_id
    db.dispose()
    return batch_id


def test_the_terminal_operator_can_approve_a_pending_batch(capsys, database):
    batch_id = pending_batch(database)
    status, out, _ = run(capsys, database, "batch", "approve", batch_id)
    _, shown, _ = run(capsys, database, "batch", "show", batch_id, "--format", "json")
    assert status == 0 and f"{batch_id}: posted" in out
    assert json.loads(shown)["approved_by"].startswith("cli:")


def test_the_terminal_operator_can_reject_a_pending_batch_with_a_reason(capsys, database):
    batch_id = pending_batch(database)
    status, out, _ = run(capsys, database, "batch", "reject", batch_id, "--reason", "wrong range")
    _, shown, _ = run(capsys, database, "batch", "show", batch_id, "--format", "json")
    assert status == 0 and "nothing was posted" in out
    assert json.loads(shown)["status"] == "rejected" and json.loads(shown)["lines"]


def test_approving_a_batch_twice_is_bad_input_naming_who_posted_it(capsys, database):
    batch_id = pending_batch(database)
    run(capsys, database, "batch", "approve", batch_id)
    status, _, err = run(capsys, database, "batch", "approve", batch_id)
    assert status == 2 and "already posted by cli:" in err


def test_pay_with_a_payment_date_years_away_warns_on_stderr_and_still_previews(capsys, database):
    status, out, err = run(capsys, database, "pay", "2015-06", "--method", "ending-balance", "--date", "9999-12-31")
    assert "payouts: warning: the payment date 9999-12-31 is more than 366 days after today" in err
    assert status == 0 and "Batch-99991231" in out


def test_pay_with_a_payment_date_before_the_range_warns_on_stderr_and_still_posts(capsys, database):
    status, _, err = run(capsys, database, "pay", "2015-06", "--method", "ending-balance", "--date", "2015-05-31",
                         "--yes")
    assert "payouts: warning: the payment date 2015-05-31 is before the range starts (2015-06-01)" in err
    assert status == 0


def test_pay_with_an_ordinary_payment_date_gives_no_warning(capsys, database):
    _, _, err = run(capsys, database, *PAY_JUNE)
    assert "warning" not in err


def test_pay_shows_a_stored_name_with_a_newline_and_escapes_as_one_inert_row(capsys, database):
    with Database(database).write() as s:
        add_entry(s, add_partner(s, "BIG", "Big Payee\nA  Alice  $1.00\x1b[2J"), "commission", 999_900, "2015-06-10")
    status, out, _ = run(capsys, database, *PAY_JUNE)
    assert status == 0 and "\x1b" not in out
    [row] = [line for line in out.splitlines() if line.startswith("BIG")]
    assert "Big Payee\\nA  Alice  $1.00\\x1b[2J" in row and "$9,999.00" in row
    assert not any(line.startswith("A ") for line in out.splitlines())


def test_the_audit_log_shows_control_characters_in_a_reason_as_escapes(capsys, database):
    assert run(capsys, database, *PAY_JUNE, "--yes")[0] == 0
    assert run(capsys, database, "batch", "void", "Batch-20150701", "--reason", "sent\x1b[2J twice")[0] == 0
    status, out, _ = run(capsys, database, "audit")
    assert status == 0 and "\x1b" not in out
