"""Partners are listed in code point order on both databases, whatever PostgreSQL's collation.

SQLite compares text byte by byte and Python sorts it by code point; PostgreSQL orders by the
database's collation, and a linguistic one (ICU's root collation here, like en_US.UTF-8) puts
`_x` and `a1` before `B2`. The report, its reference computation and the CLI list partners as
SQLite does on every database.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import text

from bot import cli
from domain.dates import DateRange
from domain.db import Database
from domain.ledger import ledger_report, ledger_report_plain
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))
CODES = ("a1", "B2", "_x", "Z9", "é")
CODE_POINT_ORDER = sorted(CODES)  # B2 Z9 _x a1 é


def _partners(db: Database) -> None:
    with db.write() as s:
        for number, code in enumerate(CODES, start=1):
            add_entry(s, add_partner(s, code), "commission", 100 * number, "2015-06-10")


@pytest.fixture
def linguistic_db(postgres_db: Database) -> Database:
    """A PostgreSQL database whose partner codes compare by ICU's root collation."""
    with postgres_db.engine.begin() as connection:
        connection.exec_driver_sql('ALTER TABLE partner ALTER COLUMN code TYPE varchar(64) COLLATE "und-x-icu"')
    _partners(postgres_db)
    return postgres_db


@pytest.mark.postgres
def test_the_collation_of_the_test_orders_codes_otherwise(linguistic_db):
    """What the tests below rely on: the column's own order is not code point order."""
    with linguistic_db.read() as session:
        assert list(session.scalars(text("SELECT code FROM partner ORDER BY code"))) != CODE_POINT_ORDER


@pytest.mark.postgres
def test_under_a_linguistic_collation_the_report_lists_partners_in_code_point_order(linguistic_db):
    with linguistic_db.read() as session:
        assert [row.partner_code for row in ledger_report(session, JUNE).rows] == CODE_POINT_ORDER


@pytest.mark.postgres
def test_under_a_linguistic_collation_the_reference_report_lists_partners_in_code_point_order(linguistic_db):
    with linguistic_db.read() as session:
        assert [row.partner_code for row in ledger_report_plain(session, JUNE).rows] == CODE_POINT_ORDER


@pytest.mark.postgres
def test_under_a_linguistic_collation_the_cli_report_lists_partners_in_code_point_order(linguistic_db, capsys):
    assert cli.main(["--database", linguistic_db.url, "ledger", "2015-06", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["partner_code"] for row in rows] == CODE_POINT_ORDER


def test_on_either_database_the_report_lists_partners_in_code_point_order(db):
    _partners(db)
    with db.read() as session:
        assert [row.partner_code for row in ledger_report(session, JUNE).rows] == CODE_POINT_ORDER
