"""`payouts serve` and `payouts socket` refuse to start without their settings, exiting with status 2."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.slack_double import SlackApiDouble

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PORT")


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


@pytest.mark.parametrize("command", ["serve", "socket"])
def test_a_token_slack_refuses_is_named_before_anything_starts(database, monkeypatch, capsys, command) -> None:
    started = []
    monkeypatch.setattr("bot.slack.server.serve", lambda *args, **kwargs: started.append(args))
    monkeypatch.setattr("slack_bolt.adapter.socket_mode.SocketModeHandler.connect", lambda self: started.append(self))
    with SlackApiDouble() as double:
        double.error_next("auth.test", "invalid_auth", times=5)
        for name, value in (("SLACK_BOT_TOKEN", "xoxb-revoked"), ("SLACK_SIGNING_SECRET", "s"),
                            ("SLACK_APP_TOKEN", "xapp-1"), ("SLACK_API_URL", double.base_url)):
            monkeypatch.setenv(name, value)

        assert main(["--database", database, command]) == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in capsys.readouterr().err
    assert started == []
