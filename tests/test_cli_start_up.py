"""A ledger report from the terminal loads only what a report needs.

Start-up is most of the time of `payouts ledger` on a large ledger (see docs/performance.md):
migrations, templates, PDF fonts, Slack and the batch machinery load only for the commands that
use them. Run in a fresh interpreter, since the test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from domain import migrations_runner
from domain.db import Database

NOT_FOR_A_REPORT = (
    "alembic", "jinja2", "reportlab", "slack_sdk", "slack_bolt", "apscheduler", "domain.batches",
    "domain.imports", "domain.demo", "bot.shell", "bot.clock", "iso4217", "pydantic", "bot.api",
    "matplotlib",  # only a chart (`--chart`, `/ledger RANGE chart`) loads it
)

PROBE = """
import json, sys
from bot.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def csv_report_modules(tmp_path_factory) -> set[str]:
    """Every module a fresh `payouts ledger 2015-06 --format csv --output FILE` on SQLite has loaded."""
    folder = tmp_path_factory.mktemp("start-up")
    database = Database(f"sqlite:///{folder / 'payouts.db'}")
    migrations_runner.upgrade(database.engine)
    database.dispose()
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, "--database", database.url, "ledger", "2015-06", "--format", "csv",
         "--output", str(folder / "report.csv")],
        capture_output=True, text=True, check=True,
    )
    outcome = json.loads(finished.stdout.splitlines()[-1])
    assert outcome["status"] == 0
    return set(outcome["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names loaded, themselves or any module inside them."""
    return [name for name in names if any(module == name or module.startswith(name + ".") for module in modules)]


def test_a_csv_ledger_report_loads_no_migrations_templates_pdf_slack_or_batches(csv_report_modules):
    assert _loaded(csv_report_modules, NOT_FOR_A_REPORT) == []


def test_a_csv_ledger_report_on_sqlite_loads_no_postgresql_dialect(csv_report_modules):
    """SQLAlchemy loads a dialect for each one named in an index's options; the report names none."""
    assert _loaded(csv_report_modules, ("sqlalchemy.dialects.postgresql", "psycopg")) == []


def test_a_csv_ledger_report_loads_no_text_measuring_which_only_tables_need(csv_report_modules):
    assert _loaded(csv_report_modules, ("wcwidth", "commands.text_table", "commands.ledger_text")) == []


def test_parsing_the_command_line_loads_no_payout_file_writers_or_slack_settings(csv_report_modules):
    """Each command's options are declared on every start-up; their choices come from light modules."""
    assert _loaded(csv_report_modules, ("commands.payout_files", "domain.payout_details", "domain.secret_box",
                                        "bot.slack", "cryptography")) == []


def test_a_ledger_report_loads_neither_sqlalchemy_nor_the_tables(csv_report_modules):
    """The report is read through the database's driver alone (domain.direct_read): SQLAlchemy and the
    models were a third of a large month report as a whole process."""
    assert _loaded(csv_report_modules, ("sqlalchemy", "domain.models", "domain.db", "domain.ledger")) == []
