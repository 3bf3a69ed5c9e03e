"""A payment provider's results file read as rows: which partner, paid or failed, and why (SPEC §10).

Only the generic CSV `partner_code,status,reason` is read (columns in any order, extra columns
ignored, `reason` optional). PayPal's and Wise's own results exports are not read: their
documented pages name no fixed header row (README, "A payment came back").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

GENERIC = "csv"
FORMATS = (GENERIC, "paypal", "wise")
PAID, FAILED = "paid", "failed"
REQUIRED = ("partner_code", "status")
MAX_RESULTS_BYTES = 20_000_000  # a results file for the largest batch is a few megabytes
FAILED_WITHOUT_REASON = "failed in the provider's results file"


class ResultsFileError(ValueError):
    """A results file that cannot be read; the message names the rows, and nothing was recorded."""


@dataclass(frozen=True)
class ResultRow:
    row: int  # the file's line number, the header being line 1
    partner_code: str
    status: str  # PAID or FAILED
    reason: str

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def read_results(data: bytes, fmt: str = GENERIC) -> list[ResultRow]:
    """Every row of the file, or ResultsFileError naming every bad row."""
    if fmt != GENERIC:
        raise ResultsFileError(
            f"the {fmt} results format is not supported: its columns could not be confirmed from the provider's "
            "documentation; write the results as the generic CSV (partner_code,status,reason)")
    if len(data) > MAX_RESULTS_BYTES:
        raise ResultsFileError(f"the results file is larger than {MAX_RESULTS_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResultsFileError(f"the results file is not UTF-8 (byte {exc.start})") from None
    return _generic_rows(text)


def _generic_rows(text: str) -> list[ResultRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ResultsFileError(f"the results file's header lacks {', '.join(missing)} "
                               "(expected partner_code,status,reason)")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ResultsFileError(f"the results file's header repeats {', '.join(repeated)}")
    rows, problems = [], []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        cells = dict(zip(header, (cell.strip() for cell in record), strict=False))
        row, problem = _result_row(reader.line_num, cells)
        rows.append(row) if row else problems.append(problem)
    if problems:
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ResultsFileError("; ".join(problems[:20]) + more)
    if not rows:
        raise ResultsFileError("the results file has no rows")
    return rows


def _result_row(line: int, cells: dict[str, str]) -> tuple[ResultRow | None, str]:
    code, status = cells.get("partner_code", ""), cells.get("status", "").lower()
    if not code:
        return None, f"row {line}: partner_code is empty"
    if status not in (PAID, FAILED):
        return None, f"row {line}: status '{cells.get('status', '')}' is not '{PAID}' or '{FAILED}'"
    reason = cells.get("reason", "") or (FAILED_WITHOUT_REASON if status == FAILED else "")
    return ResultRow(line, code, status, reason), ""
