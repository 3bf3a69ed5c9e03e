"""Imports (SPEC §5, §11): partners and ledger entries from CSV files or as data (the HTTP API), all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from commands.context import Request
from domain import imports
from domain.imports import ENTRY_COLUMNS, PARTNER_COLUMNS, ImportRefused, ImportResult, RowProblem

__all__ = ["ENTRY_COLUMNS", "PARTNER_COLUMNS", "ImportRefused", "ImportResult", "RowProblem", "import_entries",
           "import_entry_records", "import_partner_records", "import_partners"]


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


def _refusal(source: str, problems: Sequence[RowProblem]) -> ImportRefused:
    """A refusal that keeps every problem: a caller sending items wants each one it must fix."""
    refused = ImportRefused(source, shown=None)
    for problem in problems:
        refused.add(problem)
    return refused


def import_partner_records(request: Request, records: Iterable[tuple[int, dict[str, str]]], *, source: str,
                           problems: Sequence[RowProblem] = ()) -> ImportResult:
    """Partners given as data (index, fields as text), checked as the rows of a file are.

    `problems` found by the caller before (an item of the wrong shape) refuse the whole request
    together with those of the rows, so a refusal names every problem at once.
    """
    from domain.secret_box import SecretBox

    refused = _refusal(source, problems)
    with request.db.write() as session:
        return imports.import_partner_records(session, imports.checked_records(records, refused), source=source,
                                              refused=refused, actor=request.actor,
                                              default_currency=request.settings.default_currency,
                                              secrets=SecretBox.from_env())


def import_entry_records(request: Request, records: Iterable[tuple[int, dict[str, str]]], *, source: str,
                         problems: Sequence[RowProblem] = ()) -> ImportResult:
    """Entries given as data, checked as the rows of a file are; idempotent by reference as a file is."""
    refused = _refusal(source, problems)
    with request.db.write() as session:
        return imports.import_entry_records(session, imports.checked_records(records, refused), source=source,
                                            refused=refused, actor=request.actor)
