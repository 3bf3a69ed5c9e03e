"""`payouts serve` and `payouts socket` refuse to start without their settings, exiting with status 2."""

from __future__ import annotations

import pytest

from bot.cli import main

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PORT")


@pytest.fixture
def database(sqlite_db, monkeypatch) -> str:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return sqlite_db.url


def test_serve_names_the_missing_settings(database, capsys) -> None:
    assert main(["--database", database, "serve"]) == 2
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET" in capsys.readouterr().err


def test_socket_needs_the_app_token(database, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")

    assert main(["--database", database, "socket"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_serve_refuses_a_port_that_is_not_a_number(database, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("PORT", "web")

    assert main(["--database", database, "serve"]) == 2
    assert "PORT must be a port number" in capsys.readouterr().err


def test_serve_refuses_a_port_option_out_of_range(database, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")

    assert main(["--database", database, "serve", "--port", "99999"]) == 2
    assert "--port must be a port number (1-65535), not 99999" in capsys.readouterr().err
