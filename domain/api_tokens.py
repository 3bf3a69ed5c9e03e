"""Bearer tokens of the HTTP API (SPEC §11): created with a name and a scope, shown once, kept as a hash.

A token is 256 random bits, so its SHA-256 is enough to keep it: nobody can search the space back
from the hash, and unlike a password it needs no salt or slow hash (bcrypt, scrypt, Argon2 exist to
slow down guessing of low-entropy secrets). A slow hash would also cost tens of milliseconds of CPU
on every API call, in the process that acknowledges Slack, and could not be looked up by index.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import audit
from domain.models import ApiToken

READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)
TOKEN_PREFIX = "pay_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class TokenError(ValueError):
    """A token name or scope that cannot be used, said in words for the person typing it."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    scope: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None


@dataclass(frozen=True)
class Caller:
    """Who a valid token speaks for: the audit log names them `api:NAME`."""

    name: str
    scope: str

    @property
    def actor(self) -> str:
        return f"api:{self.name}"

    def may(self, scope: str) -> bool:
        """A write token may also read: whoever may post entries may see the report they change."""
        return scope == READ or self.scope == WRITE


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.name, row.scope, row.created_at, row.created_by, row.revoked_at, row.revoked_by)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise TokenError(f"token name '{name}' must be 1 to 64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    return name


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise TokenError(f"scope '{scope}' is not one of {', '.join(SCOPES)}")
    return scope


def create_token(session: Session, name: str, scope: str, actor: str) -> str:
    """Store a new token's hash and return the token, which is never stored nor shown again."""
    check_name(name)
    check_scope(scope)
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named '{name}' already exists (names stay taken after a revoke); choose another")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, scope=scope, token_hash=token_hash(token), created_at=audit.utcnow(),
                         created_by=actor))
    audit.record(session, actor, "api_token.create", name, scope=scope)
    return token


def list_tokens(session: Session) -> list[TokenInfo]:
    return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def revoke_token(session: Session, name: str, actor: str) -> TokenInfo:
    """Revoke at once and for good; the conditional update makes a second revoke say so, not re-date it."""
    moment = audit.utcnow()
    done = session.execute(
        update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=moment, revoked_by=actor)
    )
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise TokenError(f"no token named '{name}' (see `payouts api-token list`)")
    if done.rowcount != 1:
        raise TokenError(f"token '{name}' was already revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    audit.record(session, actor, "api_token.revoke", name, scope=row.scope)
    return _info(row)


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a token speaks for, or None for an unknown or revoked token."""
    row = session.execute(
        select(ApiToken.name, ApiToken.scope)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    return Caller(row.name, row.scope) if row is not None else None
