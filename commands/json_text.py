"""The one way JSON is written for scripts (SPEC §5), so the CLI and the HTTP API give the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Items:
    """A list in a document written by `write_fields`, item by item as the iterable gives them."""

    items: Iterable[Any]


Later = Callable[[], Any]
"""A value `write_fields` computes only when it reaches it: totals counted while earlier items were written."""


def write_fields(fields: Iterable[tuple[str, Any]], out: TextIO) -> None:
    """`document(dict(fields))`, byte for byte, for an object whose values may be Items (written item
    by item) or Later (computed when reached): a 100,000-line batch is written as its lines are read."""
    opening = "{"
    for key, value in fields:
        out.write(f"{opening}\n  {json.dumps(key, ensure_ascii=False)}: ")
        opening = ","
        if isinstance(value, Items):
            _write_items(value.items, out)
        else:
            out.write(_nested(value() if callable(value) else value, "\n  "))
    out.write("{}\n" if opening == "{" else "\n}\n")


def _nested(value: Any, indent: str) -> str:
    return _ENCODER.encode(value).replace("\n", indent)


def _write_items(items: Iterable[Any], out: TextIO) -> None:
    separator = "[\n    "
    for item in items:
        out.write(separator + _nested(item, "\n    "))
        separator = ",\n    "
    out.write("[]" if separator == "[\n    " else "\n  ]")
