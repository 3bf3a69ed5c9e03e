"""A ledger report from the terminal loads only what a report needs.

Start-up is most of the time of `payouts ledger` on a large ledger (see docs/performance.md):
migrations, templates, PDF fonts, Slack and the batch machinery load only for the commands that
use them. Run in a fresh interpreter, since the test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_a_csv_ledger_report_loads_no_migrations_templates_pdf_slack_or_batches(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'payouts.db'}")
    migrations_runner.upgrade(database.engine)
    database.dispose()
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, "--database", database.url, "ledger", "2015-06", "--format", "csv",
         "--output", str(tmp_path / "report.csv")],
        capture_output=True, text=True, check=True,
    )
    outcome = json.loads(finished.stdout.splitlines()[-1])
    assert outcome["status"] == 0
    assert [name for name in NOT_FOR_A_REPORT if name in outcome["modules"]] == []
