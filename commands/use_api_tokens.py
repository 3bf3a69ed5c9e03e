"""API tokens (SPEC §11): created, listed and revoked at the terminal; checked on every API call."""

from __future__ import annotations

from commands.context import Request
from domain import api_tokens
from domain.api_tokens import READ, SCOPES, WRITE, Caller, TokenError, TokenInfo

__all__ = ["READ", "SCOPES", "WRITE", "Caller", "TokenError", "TokenInfo", "authenticate", "create_token",
           "list_tokens", "revoke_token"]


def create_token(request: Request, name: str, scope: str) -> str:
    """The new token, to be shown once: only its hash is kept."""
    with request.db.write() as session:
        return api_tokens.create_token(session, name, scope, request.actor)


def list_tokens(request: Request) -> list[TokenInfo]:
    with request.db.read() as session:
        return api_tokens.list_tokens(session)


def revoke_token(request: Request, name: str) -> TokenInfo:
    with request.db.write() as session:
        return api_tokens.revoke_token(session, name, request.actor)


def authenticate(request: Request, token: str) -> Caller | None:
    with request.db.read() as session:
        return api_tokens.authenticate(session, token)
