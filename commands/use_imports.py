"""Imports (SPEC §11): partners and ledger entries from CSV files, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from commands.context import Request
from domain import imports
from domain.imports import ImportRefused, ImportResult

__all__ = ["ImportRefused", "ImportResult", "import_entries", "import_partners"]


def import_partners(request: Request, path: Path) -> ImportResult:
    """New partners get DEFAULT_CURRENCY when the file names none; a refused file changes nothing."""
    from domain.secret_box import SecretBox

    with request.db.write() as session:
        return imports.import_partners_file(session, path, actor=request.actor,
                                            default_currency=request.settings.default_currency,
                                            secrets=SecretBox.from_env())


def import_entries(request: Request, path: Path, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Entries already recorded (same partner, kind and reference) are left as they are."""
    with request.db.write() as session:
        return imports.import_entries_file(session, path, actor=request.actor, progress=progress)
