"""The one way JSON is written for scripts (SPEC §5), so the CLI and the HTTP API give the same bytes."""

from __future__ import annotations

import json
from typing import Any, TextIO


def document(body: Any) -> str:
    """Indented, non-ASCII kept as it is, one newline at the end: what `payouts … --format json` prints."""
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=2)
_WRITE_EVERY = 1 << 16


def write_document(body: Any, out: TextIO) -> None:
    """The bytes of `document(body)`, written in pieces of about 64 KB as they are encoded: the
    JSON of a 100,000-line batch is never one string beside the objects it is made of."""
    pending: list[str] = []
    size = 0
    for piece in _ENCODER.iterencode(body):
        pending.append(piece)
        size += len(piece)
        if size >= _WRITE_EVERY:
            out.write("".join(pending))
            pending, size = [], 0
    pending.append("\n")
    out.write("".join(pending))
