"""Which database a command uses, as one URL: read without SQLAlchemy, since a report read through
the driver alone (domain.direct_read) needs it too."""

from __future__ import annotations

import os

DEFAULT_URL = "sqlite:///payouts.db"


def resolve_url(explicit: str | None = None) -> str:
    """`--database`, else DATABASE_URL, else payouts.db in the working directory (SPEC §5).
    PostgreSQL URLs name the psycopg driver, the one installed."""
    url = explicit or os.environ.get("DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
