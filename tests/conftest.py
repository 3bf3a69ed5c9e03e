"""Fixtures shared by every layer: a migrated database on SQLite and, when reachable, PostgreSQL.

PostgreSQL tests run when PAYOUTS_TEST_POSTGRES_URL names a server (`.ci/run` starts one); each
test gets a fresh database cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from domain import migrations_runner
from domain.db import Database, resolve_url
from domain.settings import Settings

POSTGRES_ENV = "PAYOUTS_TEST_POSTGRES_URL"
# One template per pytest process, so two runs against the same server never drop each other's.
TEMPLATE_NAME = f"payouts_test_template_{os.getpid()}"
FIXED_NOW = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)

# CI (`pytest --hypothesis-profile=ci`, as .ci/run does) replays the same examples every run, so a
# red build is never a roll of the dice, and no example fails for being slow on a busy machine.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _postgres_admin_url() -> str | None:
    raw = os.environ.get(POSTGRES_ENV)
    return resolve_url(raw) if raw else None


_template_state: dict[str, str | None] = {}


def _postgres_template() -> str:
    """Create (once per run) a migrated template database; return a skip reason on failure."""
    if "error" in _template_state:
        return _template_state["error"] or ""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        _template_state["error"] = f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run starts one)"
        return _template_state["error"]
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE_NAME}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{TEMPLATE_NAME}"'))
        admin.dispose()
        template = Database(make_url(admin_url).set(database=TEMPLATE_NAME).render_as_string(hide_password=False))
        migrations_runner.upgrade(template.engine)
        template.dispose()
        _template_state["error"] = None
        atexit.register(_drop_template, admin_url)
    except Exception as exc:
        _template_state["error"] = f"PostgreSQL at {POSTGRES_ENV} not usable: {exc}"
    return _template_state["error"] or ""


def _drop_template(admin_url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE_NAME}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'payouts.db'}")
    migrations_runner.upgrade(database.engine)
    yield database
    database.dispose()


def _throwaway_postgres(admin_url: str, template: str | None) -> Iterator[Database]:
    """A fresh database on the server (cloned from `template` when given), dropped afterwards."""
    name = f"payouts_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    cloned = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{cloned}'))
    database = Database(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    yield database
    database.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    reason = _postgres_template()
    if reason:
        pytest.skip(reason)
    admin_url = _postgres_admin_url()
    assert admin_url is not None
    yield from _throwaway_postgres(admin_url, TEMPLATE_NAME)


@pytest.fixture
def unmigrated_postgres_db() -> Iterator[Database]:
    """An empty PostgreSQL database, for tests that run the migrations themselves."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run starts one)")
    yield from _throwaway_postgres(admin_url, None)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def unmigrated_db(request, tmp_path) -> Iterator[Database]:
    """An empty database on each engine the product supports, no schema yet."""
    if request.param == "postgresql":
        yield request.getfixturevalue("unmigrated_postgres_db")
        return
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request) -> Database:
    """The same test on both databases the product supports."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "postgres_db")


@pytest.fixture
def settings() -> Settings:
    return Settings(fixed_now=FIXED_NOW)
