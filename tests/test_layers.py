"""The layers of DESIGN.md: every transport in bot/ goes through the use-cases in commands/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEHIND_THE_USE_CASES = ("domain.batches", "domain.ledger", "domain.imports", "domain.reminders")


def _imported(path: Path) -> set[str]:
    """Every module a file imports, `from domain import batches` counted as domain.batches."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_in_bot_imports_the_batch_ledger_import_or_reminder_domain() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in _imported(path)
        if name in BEHIND_THE_USE_CASES or name.startswith(tuple(f"{module}." for module in BEHIND_THE_USE_CASES))
    }
    assert found == set()


def test_the_import_scan_sees_a_from_domain_import(tmp_path) -> None:
    module = tmp_path / "transport.py"
    module.write_text("from domain import batches\nimport domain.ledger\n", encoding="utf-8")
    assert {"domain.batches", "domain.ledger"} <= _imported(module)
