"""`payouts batch fail | repay | reconcile` and `pay --partners` as a script sees them (SPEC §5, §10)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.cli import main
from domain.models import Entry
from tests.factories import add_entry, add_partner

PAY_JUNE = ["pay", "2015-06", "--method", "ending-balance", "--date", "2015-07-01", "--type", "PayPal"]
BATCH = "Batch-20150701"


@pytest.fixture
def database(sqlite_db):
    """ANN (USD), BOB (EUR) and CY (USD) were paid for June by Batch-20150701."""
    with sqlite_db.write() as s:
        for code, currency, amount in (("ANN", "USD", 12_345), ("BOB", "EUR", 2_000), ("CY", "USD", 700)):
            add_entry(s, add_partner(s, code, f"Partner {code}", currency=currency), "commission", amount, "2015-06-10")
    assert main(["--database", sqlite_db.url, *PAY_JUNE, "--yes"]) == 0
    return sqlite_db


def run(capsys, database, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["--database", database.url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def _reversals(database) -> list[tuple[str, int]]:
    with database.read() as s:
        return [tuple(row) for row in s.execute(
            select(Entry.reference, Entry.amount).where(Entry.reverses_id.is_not(None)).order_by(Entry.id))]


def test_batch_fail_reverses_the_line_and_says_the_partner_can_be_paid_again(capsys, database):
    status, out, _ = run(capsys, database, "batch", "fail", BATCH, "ann", "--reason", "unclaimed")
    assert status == 0
    assert out == ("ANN's payment in Batch-20150701 recorded as failed: $123.45 reversed at its payment date. "
                   "The partner can be paid again (payouts batch repay Batch-20150701).\n")
    assert _reversals(database) == [(f"{BATCH}:failed", -12_345)]


def test_batch_fail_again_says_it_already_was_and_changes_nothing(capsys, database):
    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "unclaimed")
    status, out, _ = run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "returned")
    assert status == 0 and "was already recorded as failed by cli:" in out and "(unclaimed); nothing was changed" in out
    assert len(_reversals(database)) == 1


def test_batch_fail_of_a_partner_not_in_the_batch_exits_2_naming_it(capsys, database):
    status, _, err = run(capsys, database, "batch", "fail", BATCH, "ZED", "--reason", "returned")
    assert status == 2 and err == "payouts: Batch-20150701 has no line for partner 'ZED'\n"


def test_batch_show_json_gives_each_line_its_status_and_the_failure(capsys, database):
    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "returned: wrong account")
    _, out, _ = run(capsys, database, "batch", "show", BATCH, "--format", "json")
    body = json.loads(out)
    ann, bob, cy = body["lines"]
    assert body["status"] == "posted"
    assert (ann["status"], ann["fail_reason"], ann["failed_by"].startswith("cli:")) == ("failed", "returned: wrong account", True)
    assert "failed_at" in ann
    assert (bob["status"], cy["status"]) == ("paid", "paid") and "fail_reason" not in bob
    assert body["totals"] == [{"currency": "EUR", "amount": "20.00", "count": 1},
                              {"currency": "USD", "amount": "7.00", "count": 1}]
    assert body["failed_totals"] == [{"currency": "USD", "amount": "123.45", "count": 1}]


def test_batch_show_lists_failed_lines_and_totals_paid_and_failed(capsys, database):
    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "unclaimed")
    _, out, _ = run(capsys, database, "batch", "show", BATCH)
    assert "FAILED" in out and "unclaimed" in out
    assert "Total paid: €20.00 to 1 partner(s), $7.00 to 1 partner(s)" in out
    assert "Total failed: $123.45 to 1 partner(s)" in out


def test_pay_with_partners_pays_only_those_partners(capsys, database):
    status, out, _ = run(capsys, database, "pay", "2015-06", "--method", "commission", "--date", "2015-07-02",
                         "--partners", "BOB,cy", "--allow-overlap", "--format", "json")
    assert status == 0
    assert [line["partner_code"] for line in json.loads(out)["lines"]] == ["BOB", "CY"]


def test_pay_with_an_empty_partner_code_exits_2(capsys, database):
    status, _, err = run(capsys, database, *PAY_JUNE, "--partners", "ANN,,BOB")
    assert status == 2 and "empty code" in err


def test_batch_repay_previews_the_failed_partners_with_the_batchs_range_and_method(capsys, database):
    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "unclaimed")
    status, out, _ = run(capsys, database, "batch", "repay", BATCH, "--date", "2015-07-20", "--format", "json")
    body = json.loads(out)
    assert status == 0
    assert (body["status"], body["method"], body["payment_type"], body["start"], body["end"]) == (
        "preview", "ending-balance", "PayPal", "2015-06-01", "2015-06-30")
    assert body["lines"] == [{"partner_code": "ANN", "amount": "123.45", "currency": "USD"}]
    assert "conflicts" not in body


def test_batch_repay_yes_posts_the_new_batch_without_an_override(capsys, database):
    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "unclaimed")
    status, out, _ = run(capsys, database, "batch", "repay", BATCH, "--date", "2015-07-20", "--yes", "--format", "json")
    body = json.loads(out)
    assert status == 0 and body["status"] == "posted" and body["batch_id"] == "Batch-20150720"
    assert [(line["partner_code"], line["status"]) for line in body["lines"]] == [("ANN", "paid")]


def test_batch_repay_of_a_batch_without_failed_lines_exits_2(capsys, database):
    status, _, err = run(capsys, database, "batch", "repay", BATCH)
    assert status == 2 and err == "payouts: Batch-20150701 has no failed lines to pay again\n"


def _results(tmp_path, text: str) -> str:
    path = tmp_path / "results.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reconcile_records_the_failed_rows_and_summarises(capsys, database, tmp_path):
    results = _results(tmp_path, "partner_code,status,reason\nANN,failed,Unclaimed\nBOB,paid,\nCY,paid,\n")
    status, out, _ = run(capsys, database, "batch", "reconcile", BATCH, results)
    assert status == 0
    assert out.splitlines()[0] == f"Reconciled {BATCH}: 2 paid, 1 failed ($123.45 to 1 partner(s)), 0 already failed."
    assert _reversals(database) == [(f"{BATCH}:failed", -12_345)]


def test_reconciling_the_same_file_twice_changes_nothing(capsys, database, tmp_path):
    results = _results(tmp_path, "status,partner_code\nfailed,ANN\npaid,BOB\n")
    run(capsys, database, "batch", "reconcile", BATCH, results)
    status, out, _ = run(capsys, database, "batch", "reconcile", BATCH, results)
    assert status == 0 and out.startswith(f"Reconciled {BATCH}: 1 paid, 0 failed, 1 already failed.")
    assert len(_reversals(database)) == 1


def test_reconcile_refuses_the_whole_file_naming_rows_that_match_no_line_or_disagree(capsys, database, tmp_path):
    results = _results(tmp_path, "partner_code,status,reason\nANN,failed,Unclaimed\nZED,failed,x\n"
                                 "BOB,paid,\nBOB,failed,returned\n")
    status, _, err = run(capsys, database, "batch", "reconcile", BATCH, results)
    assert status == 2
    assert "row 3: partner 'ZED' has no paid line in Batch-20150701" in err
    assert "row 5: partner 'BOB' is failed here but paid in row 4" in err
    assert _reversals(database) == []


def test_reconcile_refuses_a_row_with_a_bad_status_naming_its_row(capsys, database, tmp_path):
    results = _results(tmp_path, "partner_code,status\nANN,failed\nBOB,bounced\n")
    status, _, err = run(capsys, database, "batch", "reconcile", BATCH, results)
    assert status == 2 and "row 3: status 'bounced' is not 'paid' or 'failed'" in err
    assert _reversals(database) == []


def test_reconcile_in_a_provider_format_that_cannot_be_confirmed_is_refused(capsys, database, tmp_path):
    results = _results(tmp_path, "partner_code,status\nANN,failed\n")
    status, _, err = run(capsys, database, "batch", "reconcile", BATCH, results, "--format", "paypal")
    assert status == 2 and "could not be confirmed" in err
    assert _reversals(database) == []


def test_batch_print_leaves_out_the_partners_whose_payment_failed(capsys, database, tmp_path):
    from pypdf import PdfReader

    run(capsys, database, "batch", "fail", BATCH, "ANN", "--reason", "unclaimed")
    output = tmp_path / "ledgers.pdf"
    status, _, err = run(capsys, database, "batch", "print", BATCH, "--output", str(output))
    text = "".join(page.extract_text() for page in PdfReader(str(output)).pages)
    assert status == 0, err
    assert "Partner BOB" in text and "Partner CY" in text and "Partner ANN" not in text
