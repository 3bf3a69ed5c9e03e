"""The `payouts` program keeps the cycle collector out of the way of a command that runs once.

At 100,000 partners the collector took a fifth of a preview's time (docs/performance.md): its full
passes walked every module loaded at start-up and every planned line held. A one-shot command
freezes what start-up made and collects young objects every 100,000 allocations; a command that
runs on keeps CPython's defaults. Run in a fresh interpreter, as the program is.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from bot import cli
from domain import migrations_runner
from domain.db import Database

PROBE = """
import gc, json, sys
from bot.cli import run
python_sets = gc.get_threshold()
sys.argv = ["payouts", *sys.argv[1:]]
status = run()
print(json.dumps({"status": status, "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "python_sets": python_sets}))
"""


@pytest.fixture
def database_url(tmp_path) -> str:
    database = Database(f"sqlite:///{tmp_path / 'payouts.db'}")
    migrations_runner.upgrade(database.engine)
    database.dispose()
    return database.url


def _collector_after(*args: str) -> dict:
    finished = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True,
                              stdin=subprocess.DEVNULL)
    return json.loads(finished.stdout.splitlines()[-1])


def test_a_one_shot_command_freezes_start_up_and_collects_in_larger_steps(database_url, tmp_path):
    after = _collector_after("--database", database_url, "ledger", "2015-06", "--format", "csv",
                             "--output", str(tmp_path / "report.csv"))
    assert after["status"] == 0
    assert tuple(after["threshold"]) == cli.ONE_SHOT_COLLECTION_THRESHOLD
    assert after["frozen"] > 0


def test_a_command_that_runs_on_keeps_the_collector_as_python_sets_it(database_url):
    after = _collector_after("--database", database_url, "shell")
    assert after["status"] == 0
    assert after["threshold"] == after["python_sets"]
    assert after["frozen"] == 0


def test_main_called_inside_another_program_leaves_its_collector_alone(database_url):
    before = gc.get_threshold(), gc.get_freeze_count()
    assert cli.main(["--database", database_url, "ledger", "2015-06", "--format", "csv"]) == 0
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
