"""The one way JSON is written for scripts (SPEC §5), so the CLI and the HTTP API give the same bytes."""

from __future__ import annotations

import json
from typing import Any


def document(body: Any) -> str:
    """Indented, non-ASCII kept as it is, one newline at the end: what `payouts … --format json` prints."""
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
