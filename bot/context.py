"""What every transport needs: the database, the organisation's settings and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.db import Database
from domain.settings import Settings


class UsageProblem(ValueError):
    """Bad input on the command line: exit status 2 with this one-line reason."""


@dataclass(frozen=True)
class AppContext:
    db: Database
    settings: Settings
    actor: str

    @classmethod
    def from_env(cls, database_url: str | None = None, *, actor: str) -> AppContext:
        return cls(Database(database_url), Settings.from_env(), actor)

    def acting_as(self, actor: str) -> AppContext:
        return replace(self, actor=actor)
