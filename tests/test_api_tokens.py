"""API tokens (SPEC §11): shown once, stored hashed, listed and revoked; and the API's gate."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from sqlalchemy import select

from bot import cli
from domain import api_tokens
from domain.api_tokens import TokenError
from domain.models import ApiToken, AuditEvent


def create(db, name: str = "shop", scope: str = "write") -> str:
    with db.write() as s:
        return api_tokens.create_token(s, name, scope, "cli:test")


def authenticate(db, token: str) -> api_tokens.Caller | None:
    with db.read() as s:
        return api_tokens.authenticate(s, token)


def test_a_created_token_is_stored_only_as_its_sha256(db) -> None:
    token = create(db)
    with db.read() as s:
        [row] = s.scalars(select(ApiToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.name, row.scope, row.token_hash, row.created_by}


def test_a_token_authenticates_as_its_name_and_scope_and_a_wrong_one_as_nobody(db) -> None:
    token = create(db, "bi", "read")
    assert authenticate(db, token) == api_tokens.Caller("bi", "read")
    assert authenticate(db, token + "x") is None


def test_a_read_token_may_not_write_and_a_write_token_may_read(db) -> None:
    assert not api_tokens.Caller("bi", "read").may("write")
    assert api_tokens.Caller("shop", "write").may("read")


def test_a_revoked_token_no_longer_authenticates(db) -> None:
    token = create(db)
    with db.write() as s:
        api_tokens.revoke_token(s, "shop", "cli:test")
    assert authenticate(db, token) is None


def test_revoking_a_token_again_says_when_it_was_revoked(db) -> None:
    create(db)
    with db.write() as s:
        api_tokens.revoke_token(s, "shop", "cli:test")
    with pytest.raises(TokenError, match="'shop' was already revoked at"), db.write() as s:
        api_tokens.revoke_token(s, "shop", "cli:test")


def test_revoking_an_unknown_token_names_it(db) -> None:
    with pytest.raises(TokenError, match="no token named 'ghost'"), db.write() as s:
        api_tokens.revoke_token(s, "ghost", "cli:test")


def test_a_token_name_stays_taken_after_a_revoke(db) -> None:
    """The audit log names writers by token name: a reused name would merge two callers' history."""
    create(db)
    with db.write() as s:
        api_tokens.revoke_token(s, "shop", "cli:test")
    with pytest.raises(TokenError, match="already exists"):
        create(db)


@pytest.mark.parametrize("name", ["", "has space", "-leading", "x" * 65, "new\nline"])
def test_a_bad_token_name_is_refused_and_nothing_is_stored(db, name: str) -> None:
    with pytest.raises(TokenError, match="token name"):
        create(db, name)
    with db.read() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_creating_and_revoking_a_token_is_in_the_audit_log(db) -> None:
    create(db)
    with db.write() as s:
        api_tokens.revoke_token(s, "shop", "cli:ops")
    with db.read() as s:
        events = s.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject).order_by(AuditEvent.id)).all()
    assert events == [("cli:test", "api_token.create", "shop"), ("cli:ops", "api_token.revoke", "shop")]


def test_cli_prints_a_new_token_once_and_the_list_never_shows_it(sqlite_db, capsys) -> None:
    assert cli.main(["--database", sqlite_db.url, "api-token", "create", "shop", "--scope", "write"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith(api_tokens.TOKEN_PREFIX) and authenticate(sqlite_db, token) is not None
    assert cli.main(["--database", sqlite_db.url, "api-token", "list", "--format", "json"]) == 0
    listed = capsys.readouterr().out
    assert token not in listed
    assert [(t["name"], t["scope"], t["revoked_at"]) for t in json.loads(listed)] == [("shop", "write", None)]


def test_cli_revoke_then_list_shows_it_revoked(sqlite_db, capsys) -> None:
    create(sqlite_db)
    assert cli.main(["--database", sqlite_db.url, "api-token", "revoke", "shop"]) == 0
    assert cli.main(["--database", sqlite_db.url, "api-token", "list"]) == 0
    assert "revoked" in capsys.readouterr().out.splitlines()[-1]


def test_cli_refuses_a_scope_other_than_read_or_write_with_exit_2(sqlite_db, capsys) -> None:
    assert cli.main(["--database", sqlite_db.url, "api-token", "create", "shop", "--scope", "admin"]) == 2
    assert "invalid choice: 'admin'" in capsys.readouterr().err


def test_cli_refuses_a_taken_name_with_exit_2(sqlite_db, capsys) -> None:
    create(sqlite_db)
    assert cli.main(["--database", sqlite_db.url, "api-token", "create", "shop", "--scope", "read"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_api_requests_beyond_those_admitted_are_answered_503_at_once_with_retry_after(sqlite_db, settings) -> None:
    """The gate keeps API requests from taking every server thread Slack's acknowledgements need."""
    from bot.api.app import Gate, api_app

    gate = Gate(admitted=1, working=1)
    app = api_app(sqlite_db, settings, gate)
    assert gate.enter()
    answered: list = []
    body = b"".join(app({"PATH_INFO": "/api/v1/openapi.json", "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()},
                        lambda status, headers: answered.append((status, dict(headers)))))
    [(status, headers)] = answered
    assert (status, headers["Retry-After"]) == ("503 Service Unavailable", "1")
    assert "busy" in json.loads(body)["error"]


def test_an_internal_failure_is_answered_500_in_json_without_a_stack_trace(tmp_path, settings) -> None:
    """A database with no tables makes the token lookup fail; the caller sees JSON, the log the traceback."""
    from bot.api.app import api_app
    from domain.db import Database

    broken = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    answered: list = []
    environ = {"PATH_INFO": "/api/v1/batches", "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(),
               "HTTP_AUTHORIZATION": "Bearer pay_x"}
    body = b"".join(api_app(broken, settings)(environ, lambda status, headers: answered.append(status)))
    broken.dispose()
    assert answered == ["500 Internal Server Error"]
    assert json.loads(body) == {"error": "the request failed; the server log says why", "problems": []}
