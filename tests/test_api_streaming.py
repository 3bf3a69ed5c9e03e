"""The API's JSON report is written as its rows are read (issue 21: the JSON report under 250 MB at
100,000 partners): the WSGI application is called in process so that what is alive can be counted."""

from __future__ import annotations

import gc
import json

from bot.api.app import api_app
from commands import ledger_files
from domain import api_tokens, ledger_data
from domain.ledger_data import LedgerRow
from tests.factories import add_entry, add_partner

CODES = ("ANN", "BOB", "CY", "DEE", "EVE")


def _get(db, settings, path: str, query: str) -> tuple[str, bytes]:
    with db.write() as s:
        token = api_tokens.create_token(s, "bi", "read", "cli:test")
    answered: list[str] = []
    body = api_app(db, settings)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "HTTP_AUTHORIZATION": f"Bearer {token}"},
        lambda status, headers: answered.append(status),
    )
    return answered[0], b"".join(body)


def test_the_json_report_holds_no_more_than_one_block_of_report_rows_at_a_time(db, settings, monkeypatch):
    with db.write() as s:
        for number, code in enumerate(CODES, start=1):
            add_entry(s, add_partner(s, code), "commission", 1_000 * number, "2015-06-10")
    alive: list[int] = []
    encode = ledger_files._json_rows_text

    def counting(columns, figures, holds: bool) -> str:
        gc.collect()
        alive.append(sum(isinstance(thing, LedgerRow) for thing in gc.get_objects()))
        return encode(columns, figures, holds)

    monkeypatch.setattr(ledger_data, "STREAMED_ROWS", 2)
    monkeypatch.setattr(ledger_files, "_json_rows_text", counting)
    status, body = _get(db, settings, "/api/v1/ledger", "range=2015-06")
    assert status.startswith("200")
    assert [row["partner_code"] for row in json.loads(body)["rows"]] == list(CODES)
    assert len(alive) == 3  # blocks of 2, 2 and 1 rows
    assert max(alive) <= 2
