"""`payouts sync keap`, `payouts clock` and `/ledger` around the Keap sync (SPEC §5, §11)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cli import main
from bot.keap_schedule import is_due, latest_due
from commands.chat import run_command
from commands.context import Request
from domain import audit, keap_state
from domain.settings import Settings
from tests.factories import add_entry, add_partner
from tests.keap_double import KEY, KeapDouble, generate

SMALL = dict(affiliates=3, commissions=20, clawbacks=2, payments=2)


@pytest.fixture
def keap_env(monkeypatch):  # type: ignore[no-untyped-def]
    def configure(double: KeapDouble, key: str = KEY) -> None:
        monkeypatch.setenv("KEAP_API_KEY", key)
        monkeypatch.setenv("KEAP_API_URL", double.base_url)
        monkeypatch.setenv("KEAP_PAYMENTS_UNTIL", "2015-01-31")
        monkeypatch.setenv("TIMEZONE", "America/New_York")
    return configure


def test_a_bad_key_is_one_line_on_stderr_and_exit_status_2(sqlite_db, keap_env, capsys):
    """A key Keap refuses (401) is a setting to fix: bad input, SPEC §5's exit 2, and the key stays secret."""
    wrong = "KeapAK-wrong-key-that-is-secret-9876"
    with KeapDouble(generate(**SMALL)) as double:
        keap_env(double, key=wrong)
        status = main(["--database", sqlite_db.url, "sync", "keap"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Keap refused the key in KEAP_API_KEY" in err and "HTTP 401" in err
    assert wrong not in err and "••••9876" in err


def test_sync_keap_without_a_key_says_how_to_get_one(sqlite_db, monkeypatch, capsys):
    monkeypatch.delenv("KEAP_API_KEY", raising=False)
    assert main(["--database", sqlite_db.url, "sync", "keap"]) == 2
    assert "KEAP_API_KEY is not set: create a Service Account Key in Keap" in capsys.readouterr().err


def test_a_bad_keap_setting_is_refused_naming_it(sqlite_db, keap_env, monkeypatch, capsys):
    with KeapDouble(generate(**SMALL)) as double:
        keap_env(double)
        monkeypatch.setenv("KEAP_PAYMENTS_UNTIL", "31/01/2015")
        assert main(["--database", sqlite_db.url, "sync", "keap"]) == 2
    assert "KEAP_PAYMENTS_UNTIL: '31/01/2015' is not a date" in capsys.readouterr().err


def test_sync_keap_prints_its_summary_and_exits_0(sqlite_db, keap_env, capsys):
    with KeapDouble(generate(**SMALL)) as double:
        keap_env(double)
        assert main(["--database", sqlite_db.url, "sync", "keap", "--since", "2014-01-01"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("keap: 2014-01-01 05:00 UTC to ")
    assert "3 affiliate(s), 3 partner(s) added" in out.out and "entries added" in out.out
    assert "keap: 3 affiliate(s), 3 to read: about 6 request(s)" in out.err


def test_sync_keap_refuses_until_before_since(sqlite_db, capsys):
    assert main(["--database", sqlite_db.url, "sync", "keap", "--since", "2015-02-01", "--until", "2015-01-01"]) == 2
    assert "--until 2015-01-01 is before --since 2015-02-01" in capsys.readouterr().err


def test_the_keap_sync_is_due_once_a_day_at_keap_sync_at_in_timezone():
    at, zone = datetime.strptime("02:00", "%H:%M").time(), "America/New_York"
    now = datetime(2015, 7, 16, 6, 30, tzinfo=UTC)  # 02:30 in New York
    assert latest_due(now, at, zone) == datetime(2015, 7, 16, 6, 0, tzinfo=UTC)
    assert is_due(None, now, at, zone)
    assert is_due(datetime(2015, 7, 15, 7, 0, tzinfo=UTC), now, at, zone)
    assert not is_due(datetime(2015, 7, 16, 6, 10, tzinfo=UTC), now, at, zone)


def test_clock_once_runs_the_keap_sync_when_due_and_not_again_the_same_day(sqlite_db, keap_env, capsys):
    with KeapDouble(generate(**SMALL)) as double:
        keap_env(double)
        assert main(["--database", sqlite_db.url, "clock", "--once", "--now", "2015-07-16T02:05"]) == 0
        first = len(double.hits)
        assert main(["--database", sqlite_db.url, "clock", "--once", "--now", "2015-07-16T09:00"]) == 0
        again = len(double.hits)
    with sqlite_db.read() as session:
        synced = keap_state.last_success(session)
        logged = [line for line in audit.read_log(session) if line.action == "keap.sync"]
    assert first > 0 and again == first
    assert synced == datetime(2015, 7, 16, 6, 5, tzinfo=UTC)
    assert [line.actor for line in logged] == ["clock"]


def test_clock_once_without_a_keap_key_syncs_nothing(sqlite_db, monkeypatch, capsys):
    monkeypatch.delenv("KEAP_API_KEY", raising=False)
    assert main(["--database", sqlite_db.url, "clock", "--once", "--now", "2015-07-16T02:05"]) == 0
    with sqlite_db.read() as session:
        assert keap_state.last_success(session) is None


def test_a_failed_scheduled_sync_is_in_the_audit_log_and_the_clock_exits_1(sqlite_db, keap_env, capsys):
    with KeapDouble(generate(**SMALL)) as double:
        keap_env(double, key="KeapAK-wrong-key-that-is-secret-9876")
        assert main(["--database", sqlite_db.url, "clock", "--once", "--now", "2015-07-16T02:05"]) == 1
    with sqlite_db.read() as session:
        failed = [line for line in audit.read_log(session) if line.action == "keap.sync.failed"]
    assert len(failed) == 1 and "HTTP 401" in failed[0].detail["reason"]
    assert "secret-9876" not in failed[0].detail["reason"]


def test_a_ledger_summary_says_when_keap_data_was_last_synced(db):
    settings = Settings(timezone="America/New_York", fixed_now=datetime(2015, 7, 20, tzinfo=UTC))
    with db.write() as session:
        add_entry(session, add_partner(session, "ANN"), "commission", 1_000, date(2015, 6, 3))
        keap_state.finish(session, datetime(2015, 7, 16, 6, 5, tzinfo=UTC), datetime(2015, 7, 16, 6, 7, tzinfo=UTC))
    [reply] = run_command("ledger", "2015-06", Request.operator(db, settings, "cli:test"))
    figures = {figure.label: figure.value for figure in reply.figures}
    assert figures["Keap data as of"] == "2015-07-16 02:07 America/New_York"


def test_a_ledger_summary_says_nothing_of_keap_before_any_sync(db, settings):
    with db.write() as session:
        add_entry(session, add_partner(session, "ANN"), "commission", 1_000, date(2015, 6, 3))
    [reply] = run_command("ledger", "2015-06", Request.operator(db, settings, "cli:test"))
    assert "Keap data as of" not in {figure.label for figure in reply.figures}
