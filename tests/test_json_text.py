"""JSON for scripts (SPEC §5): written in pieces, it is byte for byte the one document."""

from __future__ import annotations

import io

from commands import json_text
from commands.json_text import document, write_document


class _Counting(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _large_body() -> dict[str, object]:
    return {"batch_id": "Batch-20150701", "lines": [
        {"partner_code": f"P{number:06d}", "amount": f"{number}.50", "currency": "EUR", "name": "Zoë «Ω»"}
        for number in range(5_000)
    ]}


def test_a_document_written_in_pieces_is_the_same_text_as_the_whole_document():
    out = io.StringIO()
    write_document(_large_body(), out)
    assert out.getvalue() == document(_large_body())


def test_a_large_document_is_written_in_several_pieces_none_much_larger_than_the_piece_size():
    out = _Counting()
    write_document(_large_body(), out)
    assert out.writes > 1
    assert len(out.getvalue()) / out.writes < 2 * json_text._WRITE_EVERY
