"""SPEC §13: the ledger chart, commissions, clawbacks and payments per month, one panel per currency,
as a PNG: from `/ledger RANGE chart`, the report's Chart button, the shell and `payouts ledger --chart`."""

from __future__ import annotations

import io
import sys
from datetime import date

import pytest
from PIL import Image

from bot import cli
from commands import charts, chat, use_ledger
from commands.context import Request
from commands.grammar import UsageError
from commands.grammar_ledger import parse_ledger
from commands.ledger_views import CHART_ACTION, summary_reply
from domain.dates import DateRange
from domain.ledger import MonthActivity, monthly_activity
from tests.factories import add_entry, add_partner
from tests.test_slack_app import click, double, make_app  # noqa: F401  (fixtures)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPRING = DateRange(date(2015, 4, 1), date(2015, 6, 30))


@pytest.fixture
def two_currencies(db):
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        yuki = add_partner(s, "YUKI", "Yuki", currency="JPY")
        add_entry(s, ann, "commission", 10_000, "2015-04-10")
        add_entry(s, ann, "commission", 2_500, "2015-04-20")
        add_entry(s, ann, "clawback", 1_000, "2015-06-15")
        add_entry(s, ann, "payment", 9_000, "2015-06-30")
        add_entry(s, yuki, "commission", 1_500, "2015-05-02")
    return db


def operator(db, settings) -> Request:
    return Request.operator(db, settings, "cli:test")


def png_of(reply) -> bytes:
    [attachment] = reply.files
    assert attachment.mimetype == "image/png"
    return attachment.content


def test_monthly_activity_folds_days_into_months_and_shows_quiet_months_as_zero(two_currencies) -> None:
    with two_currencies.read() as s:
        activity = monthly_activity(s, SPRING)

    assert activity["USD"] == [MonthActivity(date(2015, 4, 1), 12_500, 0, 0), MonthActivity(date(2015, 5, 1)),
                               MonthActivity(date(2015, 6, 1), 0, 1_000, 9_000)]
    assert activity["JPY"][1] == MonthActivity(date(2015, 5, 1), 1_500, 0, 0)


def test_ledger_range_chart_attaches_a_png_with_one_panel_per_currency(two_currencies, settings) -> None:
    [reply] = chat.run_command("ledger", "2015-04-01..2015-06-30 chart", operator(two_currencies, settings))

    png = png_of(reply)
    image = Image.open(io.BytesIO(png))
    assert png.startswith(PNG_SIGNATURE) and image.format == "PNG"
    assert image.size == (1000, round((charts.PANEL_INCHES * 2 + 0.8) * charts.DPI))
    assert image.info["Description"] == "One panel per currency: JPY, USD"
    assert reply.files[0].filename == "referral-ledger-chart-2015-04-01-to-2015-06-30.png"


def test_a_chart_of_more_than_24_months_is_refused_and_nothing_is_read(sqlite_db, settings, monkeypatch) -> None:
    """SPEC §13: a chart covers at most 24 months."""
    monkeypatch.setattr(use_ledger, "monthly_activity", lambda *args: pytest.fail("read"))

    [refused] = chat.run_command("ledger", "2013-12-01..2015-12-31 chart", operator(sqlite_db, settings))

    assert refused.is_error and "at most 24 months; 2013-12-01..2015-12-31 spans 25" in refused.headline


def test_a_chart_of_24_months_is_drawn(two_currencies, settings) -> None:
    [reply] = chat.run_command("ledger", "2014-07-01..2016-06-30 chart", operator(two_currencies, settings))

    assert png_of(reply).startswith(PNG_SIGNATURE) and "24 month(s)" in reply.headline


def test_a_range_without_entries_says_there_is_nothing_to_chart(sqlite_db, settings) -> None:
    [reply] = chat.run_command("ledger", "2015-06 chart", operator(sqlite_db, settings))

    assert reply.files == [] and "nothing to chart" in reply.headline


def test_chart_does_not_go_with_a_partner() -> None:
    with pytest.raises(UsageError, match="does not go with partner"):
        parse_ledger("2015-06 partner ANN chart", date(2015, 7, 15))


def test_the_chart_word_parses_as_the_reports_picture() -> None:
    assert parse_ledger("2015-06 chart", date(2015, 7, 15)).file == "chart"  # type: ignore[union-attr]


def test_the_report_summary_offers_a_chart_button_that_draws_the_chart(two_currencies, settings) -> None:
    request = operator(two_currencies, settings)
    summary = summary_reply(use_ledger.report(request, SPRING))
    [chart] = [button for button in summary.buttons if button.action == CHART_ACTION]

    [reply] = chat.run_action(CHART_ACTION, chart.value, request)

    assert png_of(reply).startswith(PNG_SIGNATURE)


def test_the_amount_axis_reads_in_the_currencys_format() -> None:
    assert charts.amount_label(150_000, "USD") == "$1,500.00"
    assert charts.amount_label(500_000, "JPY") == "¥500,000"
    assert charts.amount_label(1_234_500, "KWD") == "KWD 1,234.500"


def test_the_chart_is_written_by_the_cli(two_currencies, tmp_path, capsys) -> None:
    target = tmp_path / "chart.png"

    status = cli.main(["--database", two_currencies.url, "ledger", "2015-04-01..2015-06-30", "--chart", str(target)])

    assert status == 0 and target.read_bytes().startswith(PNG_SIGNATURE)
    assert f"Charted 3 month(s), 2 currencies: {target}" in capsys.readouterr().out


def test_the_cli_refuses_chart_with_partner_and_writes_nothing(two_currencies, tmp_path, capsys) -> None:
    target = tmp_path / "chart.png"

    status = cli.main(["--database", two_currencies.url, "ledger", "2015-06", "--partner", "ANN", "--chart", str(target)])

    assert status == 2 and not target.exists()
    assert "--chart draws the whole ledger" in capsys.readouterr().err


def test_the_shell_writes_the_chart_to_its_files_folder(two_currencies, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("ledger 2015-04-01..2015-06-30 chart\n"))

    cli.main(["--database", two_currencies.url, "shell", "--files-dir", str(tmp_path)])

    written = tmp_path / "referral-ledger-chart-2015-04-01-to-2015-06-30.png"
    assert written.read_bytes().startswith(PNG_SIGNATURE)
    assert f"File: {written}" in capsys.readouterr().out


def test_the_shells_chart_button_writes_the_chart(two_currencies, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("ledger 2015-04-01..2015-06-30\n4\n"))

    cli.main(["--database", two_currencies.url, "shell", "--files-dir", str(tmp_path)])

    assert (tmp_path / "referral-ledger-chart-2015-04-01-to-2015-06-30.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_chart_button_in_slack_uploads_the_png_to_the_channel(make_app, double, sqlite_db) -> None:
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "ANN"), "commission", 10_000, "2015-06-10")
    app = make_app(sqlite_db)

    click(app, double, CHART_ACTION, "2015-06-01..2015-06-30", user="U_REQ", channel="C_FIN")

    double.wait_for("files.completeUploadExternal", timeout=20)
    [uploaded] = double.uploaded_files()
    assert uploaded["filename"] == "referral-ledger-chart-2015-06-01-to-2015-06-30.png"
    assert uploaded["channel_id"] == "C_FIN" and uploaded["content"].startswith(PNG_SIGNATURE)
