"""The HTTP API (SPEC §11) through real HTTP, against `payouts serve` under gunicorn, on each database.

One server per database serves the whole module (starting gunicorn per test would take most of the
run); every test writes under its own partner codes or references, so tests do not see each other.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from bot import cli
from domain import api_tokens, migrations_runner
from domain.db import Database
from domain.models import AuditEvent, Entry, Partner
from tests import conftest
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble
from tests.test_imports import BAD_PARTNER_ROWS, BAD_ROWS, CONTROL_TEXTS, HEADER
from tests.test_slack_serve import free_port, wait_until_up


@dataclass
class Api:
    base: str
    db: Database
    write_token: str
    read_token: str
    revoked_token: str

    def call(self, method: str, path: str, body: object = None, *, token: str | None = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def post(self, what: str, items: object, token: str | None = "write") -> tuple[int, dict]:
        status, body, _ = self.call("POST", f"/api/v1/{what}", items, token=self._token(token))
        return status, json.loads(body)

    def get(self, path: str, token: str | None = "read") -> tuple[int, bytes]:
        status, body, _ = self.call("GET", path, token=self._token(token))
        return status, body

    def _token(self, token: str | None) -> str | None:
        return {"write": self.write_token, "read": self.read_token}.get(token or "", token)


def _database(kind: str, tmp: Path) -> Iterator[Database]:
    if kind == "sqlite":
        database = Database(f"sqlite:///{tmp / 'payouts.db'}")
        migrations_runner.upgrade(database.engine)
        yield database
        database.dispose()
        return
    reason = conftest._postgres_template()
    if reason:
        pytest.skip(reason)
    admin_url = conftest._postgres_admin_url()
    assert admin_url is not None
    yield from conftest._throwaway_postgres(admin_url, conftest.TEMPLATE_NAME)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request, tmp_path_factory) -> Iterator[Api]:
    """`payouts serve` on a database with partners ANN (USD), YUKI (JPY), KAL (KWD) and three tokens."""
    tmp = tmp_path_factory.mktemp(request.param)
    databases = _database(request.param, tmp)
    db = next(databases)
    with db.write() as s:
        add_partner(s, "ANN", "Ann")
        add_partner(s, "YUKI", "Yuki", currency="JPY")
        add_partner(s, "KAL", "Kal", currency="KWD")
        add_entry(s, s.scalar(select(Partner).where(Partner.code == "ANN")), "commission", 10_000, "2015-05-10")
        write = api_tokens.create_token(s, "shop", "write", "cli:test")
        read = api_tokens.create_token(s, "bi", "read", "cli:test")
        revoked = api_tokens.create_token(s, "old", "write", "cli:test")
    with db.write() as s:
        api_tokens.revoke_token(s, "old", "cli:test")
    with SlackApiDouble() as double:
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
               "SLACK_API_URL": double.base_url, "DATABASE_URL": db.url, "WEB_CONCURRENCY": "1"}
        process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/healthz", process)
            yield Api(base, db, write, read, revoked)
        finally:
            process.terminate()
            process.wait(timeout=30)
    next(databases, None)


def entry(reference: str, amount: object = "10.00", *, code: str = "ANN", kind: str = "commission",
          day: str = "2015-06-10", **extra: object) -> dict:
    return {"date": day, "partner_code": code, "kind": kind, "amount": amount, "reference": reference, **extra}


def stored(api: Api, reference_prefix: str) -> list[tuple]:
    with api.db.read() as s:
        return s.execute(select(Entry.reference, Entry.amount, Entry.recorded_by)
                         .where(Entry.reference.like(f"{reference_prefix}%")).order_by(Entry.reference)).all()


# ---- authentication -------------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_with_401(api: Api) -> None:
    status, body, headers = api.call("GET", "/api/v1/batches")
    assert status == 401 and "Bearer" in headers["WWW-Authenticate"]
    assert "Authorization: Bearer" in json.loads(body)["error"]


def test_a_wrong_token_is_refused_with_401_and_writes_nothing(api: Api) -> None:
    assert api.post("entries", [entry("WRONG-1")], token="pay_not-a-token")[0] == 401
    assert stored(api, "WRONG-") == []


def test_a_revoked_token_is_refused_with_401(api: Api) -> None:
    status, body = api.post("entries", [entry("REVOKED-1")], token=api.revoked_token)
    assert (status, body["error"]) == (401, "the token is unknown or revoked")
    assert stored(api, "REVOKED-") == []


def test_a_read_token_writing_is_refused_with_403_and_writes_nothing(api: Api) -> None:
    status, body = api.post("entries", [entry("READONLY-1")], token="read")
    assert status == 403 and "read scope" in body["error"]
    assert stored(api, "READONLY-") == []


def test_a_write_token_may_also_read(api: Api) -> None:
    assert api.get("/api/v1/batches", token="write")[0] == 200


# ---- writing --------------------------------------------------------------------------------------


def test_posted_entries_are_recorded_and_answered_201_with_counts(api: Api) -> None:
    status, body = api.post("entries", [entry("POST-1", "12.50"), entry("POST-2", "1500", code="YUKI")])
    assert (status, body) == (201, {"received": 2, "added": 2, "unchanged": 0})
    assert stored(api, "POST-") == [("POST-1", 1_250, "api:shop"), ("POST-2", 1_500, "api:shop")]


def test_a_retried_request_writes_nothing_new_and_answers_the_same_received_count(api: Api) -> None:
    items = [entry("RETRY-1"), entry("RETRY-2", "3.00", kind="clawback")]
    first = api.post("entries", items)
    again = api.post("entries", items)
    assert first == (201, {"received": 2, "added": 2, "unchanged": 0})
    assert again == (201, {"received": 2, "added": 0, "unchanged": 2})
    assert len(stored(api, "RETRY-")) == 2


def test_amounts_given_as_json_numbers_are_read_exactly_never_as_binary_floats(api: Api) -> None:
    """0.29 as a binary float is 0.28999…; read as a float and cut to cents it would record 28."""
    raw = ('[{"date": "2015-06-11", "partner_code": "ANN", "kind": "commission", "amount": 0.29, "reference": "NUM-1"},'
           ' {"date": "2015-06-11", "partner_code": "YUKI", "kind": "commission", "amount": 1500, "reference": "NUM-2"},'
           ' {"date": "2015-06-11", "partner_code": "KAL", "kind": "commission", "amount": 1.125, "reference": "NUM-3"}]')
    status, _, _ = api.call("POST", "/api/v1/entries", raw=raw.encode(), token=api.write_token)
    assert status == 201
    assert [amount for _, amount, _ in stored(api, "NUM-")] == [29, 1_500, 1_125]


def test_a_json_number_with_more_decimals_than_the_currency_allows_is_refused(api: Api) -> None:
    raw = b'[{"date": "2015-06-11", "partner_code": "ANN", "kind": "commission", "amount": 1.005, "reference": "NUM-X"}]'
    status, body, _ = api.call("POST", "/api/v1/entries", raw=raw, token=api.write_token)
    problems = json.loads(body)["problems"]
    assert status == 400 and problems == [{"index": 0, "field": "amount", "reason": problems[0]["reason"]}]
    assert "more decimals than USD allows (2)" in problems[0]["reason"]


def test_posted_partners_are_upserted_by_code_and_a_retry_changes_nothing(api: Api) -> None:
    items = [{"code": "UPS-1", "name": "Ups One", "currency": "EUR", "hold_days": 30},
             {"code": "UPS-2", "name": "Ups Two", "email": "two@example.com"}]
    assert api.post("partners", items) == (201, {"received": 2, "added": 2, "updated": 0, "unchanged": 0})
    assert api.post("partners", items) == (201, {"received": 2, "added": 0, "updated": 0, "unchanged": 2})
    renamed = api.post("partners", [{"code": "UPS-2", "name": "Ups Two Ltd"}])
    assert renamed == (201, {"received": 1, "added": 0, "updated": 1, "unchanged": 0})
    with api.db.read() as s:
        got = s.execute(select(Partner.code, Partner.name, Partner.currency, Partner.hold_days)
                        .where(Partner.code.like("UPS-%")).order_by(Partner.code)).all()
    assert got == [("UPS-1", "Ups One", "EUR", 30), ("UPS-2", "Ups Two Ltd", "USD", None)]


def test_every_write_is_in_the_audit_log_under_the_tokens_name(api: Api) -> None:
    api.post("entries", [entry("AUDIT-1")])
    api.post("partners", [{"code": "AUDIT-P", "name": "Audited"}])
    with api.db.read() as s:
        events = s.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject)
                           .where(AuditEvent.actor == "api:shop")).all()
    assert ("api:shop", "import.entries", "POST /api/v1/entries") in events
    assert ("api:shop", "import.partners", "POST /api/v1/partners") in events


# ---- every bad row of the import tests, as JSON ------------------------------------------------------


def _item(header: str, row: str) -> dict:
    [cells] = list(csv.reader([row]))
    return dict(zip(header.split(","), cells, strict=True))


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_a_bad_entry_item_refuses_the_whole_request_naming_index_field_and_reason(api, row, column, reason):
    items = [entry("BAD-OK-1"), _item(HEADER, row), entry("BAD-OK-2")]
    status, body = api.post("entries", items)
    assert status == 400
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (1, column) and reason in problem["reason"]
    assert stored(api, "BAD-OK-") == []


@pytest.mark.parametrize(("row", "column", "reason"), BAD_PARTNER_ROWS)
def test_a_bad_partner_item_refuses_the_whole_request(api, row, column, reason):
    items = [{"code": "ANN", "name": "Ann", "currency": "USD"}, _item("code,name,email,currency,status", row)]
    status, body = api.post("partners", items)
    assert status == 400
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (1, column)
    assert reason.replace("row 2", "row 0") in problem["reason"]


@pytest.mark.parametrize(("text", "named"), CONTROL_TEXTS)
def test_a_control_character_in_an_item_is_refused_naming_it(api, text, named):
    status, body = api.post("entries", [entry("CTRL-1", description=text)])
    assert status == 400
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (0, "description") and named in problem["reason"]


def test_a_nul_character_in_an_item_is_refused(api: Api) -> None:
    status, body = api.post("entries", [entry("NUL-\x00")])
    assert (status, body["problems"]) == (400, [{"index": 0, "field": "reference",
                                                 "reason": "contains a NUL character (byte 0x00)"}])


def test_a_reused_reference_with_new_values_is_refused(api: Api) -> None:
    assert api.post("entries", [entry("REUSE-1", "5.00")])[0] == 201
    status, body = api.post("entries", [entry("REUSE-2"), entry("REUSE-1", "6.00")])
    assert status == 400
    assert body["problems"][0]["index"] == 1 and "already recorded" in body["problems"][0]["reason"]
    assert [ref for ref, _, _ in stored(api, "REUSE-")] == ["REUSE-1"]


def test_items_of_the_wrong_shape_are_named_with_every_other_problem_in_one_answer(api: Api) -> None:
    items = [entry("SHAPE-1", True), {**entry("SHAPE-2"), "amont": "1.00"}, "not an item",
             {k: v for k, v in entry("SHAPE-3").items() if k != "kind"}, entry("SHAPE-4", "ten")]
    status, body = api.post("entries", items)
    assert status == 400
    assert [(p["index"], p["field"], p["reason"][:20]) for p in body["problems"]] == [
        (0, "amount", "must be a string or "), (1, "amont", "unknown field (the f"), (2, "(item)", "must be a JSON objec"),
        (3, "kind", "required"), (4, "amount", "'ten' is not a numbe"),
    ]
    assert stored(api, "SHAPE-") == []


def test_a_field_given_twice_in_an_item_is_refused(api: Api) -> None:
    """As a repeated CSV column, the last value would silently win."""
    raw = (b'[{"date": "2015-06-11", "partner_code": "ANN", "kind": "commission", "amount": "1.00",'
           b' "amount": "1000.00", "reference": "TWICE-1"}]')
    status, body, _ = api.call("POST", "/api/v1/entries", raw=raw, token=api.write_token)
    assert status == 400 and json.loads(body)["problems"][0]["field"] == "amount"
    assert stored(api, "TWICE-") == []


def test_a_body_that_is_not_json_is_refused_with_400(api: Api) -> None:
    status, body, _ = api.call("POST", "/api/v1/entries", raw=b"date,amount\n", token=api.write_token)
    assert status == 400 and json.loads(body)["error"].startswith("the body is not JSON")


def test_more_than_10000_items_are_refused_with_413(api: Api) -> None:
    items = [entry(f"MANY-{n}") for n in range(10_001)]
    status, body = api.post("entries", items)
    assert status == 413 and "at most 10,000" in body["error"]
    assert stored(api, "MANY-") == []


def test_a_body_over_the_size_cap_is_refused_with_413_before_it_is_sent(api: Api) -> None:
    """Only the headers are sent: the declared length alone refuses it, so the server reads nothing."""
    from bot.api.app import MAX_BODY_BYTES

    host, port = api.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/api/v1/entries")
    for name, value in (("Authorization", f"Bearer {api.write_token}"), ("Content-Type", "application/json"),
                        ("Content-Length", str(MAX_BODY_BYTES + 1))):
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "larger than" in json.loads(response.read())["error"]
    connection.close()


def test_a_chunked_body_past_the_size_cap_is_refused_with_413(api: Api) -> None:
    from bot.api.app import MAX_BODY_BYTES

    host, port = api.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    chunks = iter([b"["] + [b" " * 1_048_576] * (MAX_BODY_BYTES // 1_048_576 + 1) + [b"]"])
    with contextlib.suppress(OSError):  # the server may answer and close before every chunk is sent
        connection.request("POST", "/api/v1/entries", body=chunks, encode_chunked=True,
                           headers={"Authorization": f"Bearer {api.write_token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


# ---- reading --------------------------------------------------------------------------------------


def _cli(api: Api, tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / "out.json"
    assert cli.main(["--database", api.db.url, *args, "--output", str(out)] if args[0] == "ledger"
                    else ["--database", api.db.url, *args]) == 0
    return out.read_bytes()


def test_the_report_is_payouts_ledger_format_json_byte_for_byte(api: Api, tmp_path: Path) -> None:
    api.post("entries", [entry("REPORT-1", "99.99", day="2015-06-20"), entry("REPORT-2", "500", code="YUKI")])
    status, body = api.get("/api/v1/ledger?range=2015-06")
    assert status == 200
    assert body == _cli(api, tmp_path, "ledger", "2015-06", "--format", "json")


def test_a_partners_ledger_is_payouts_ledger_partner_format_json_byte_for_byte(api: Api, tmp_path: Path) -> None:
    status, body = api.get("/api/v1/ledger?range=2015-05-01..2015-06-30&partner=ANN")
    assert status == 200
    assert body == _cli(api, tmp_path, "ledger", "2015-05-01..2015-06-30", "--partner", "ANN", "--format", "json")


def test_batches_are_payouts_batch_list_and_show_format_json_byte_for_byte(api: Api, capsysbinary) -> None:
    assert cli.main(["--database", api.db.url, "pay", "2015-05", "--method", "commission", "--batch-id", "API-B1",
                     "--date", "2015-06-03", "--yes"]) == 0
    capsysbinary.readouterr()
    status, listed = api.get("/api/v1/batches")
    assert cli.main(["--database", api.db.url, "batch", "list", "--format", "json"]) == 0
    assert (status, listed) == (200, capsysbinary.readouterr().out)
    status, shown = api.get("/api/v1/batches/API-B1")
    assert cli.main(["--database", api.db.url, "batch", "show", "API-B1", "--format", "json"]) == 0
    assert (status, shown) == (200, capsysbinary.readouterr().out)


def test_a_batch_with_a_failed_line_is_described_by_the_openapi_models_field_for_field(api: Api) -> None:
    """Every key the answer holds, down to each line's failure, is a field of the documented models."""
    from bot.api.models import Batch, BatchLine, BatchTotal

    api.post("entries", [entry("FAILED-1", "50.00", day="2015-03-10")])
    assert cli.main(["--database", api.db.url, "pay", "2015-03", "--method", "commission", "--batch-id", "API-F1",
                     "--date", "2015-04-03", "--yes"]) == 0
    failed_code = "ANN"
    assert cli.main(["--database", api.db.url, "batch", "fail", "API-F1", failed_code, "--reason", "returned"]) == 0
    status, body = api.get("/api/v1/batches/API-F1")
    batch = json.loads(body)
    assert status == 200 and set(batch) <= set(Batch.model_fields)
    assert all(set(line) <= set(BatchLine.model_fields) for line in batch["lines"])
    assert all(set(total) <= set(BatchTotal.model_fields) for total in batch["failed_totals"])
    failed = next(line for line in batch["lines"] if line["partner_code"] == failed_code)
    assert (failed["status"], failed["fail_reason"]) == ("failed", "returned")
    Batch.model_validate(batch)


def test_an_unknown_batch_or_partner_is_404(api: Api) -> None:
    assert api.get("/api/v1/batches/NO-SUCH")[0] == 404
    status, body = api.get("/api/v1/ledger?range=2015-06&partner=NOBODY")
    assert status == 404 and "NOBODY" in json.loads(body)["error"]


def test_a_bad_range_or_a_missing_one_is_400_naming_the_parameter(api: Api) -> None:
    status, body = api.get("/api/v1/ledger?range=2015-13")
    assert status == 400 and json.loads(body)["problems"][0]["field"] == "range"
    status, body = api.get("/api/v1/ledger")
    assert status == 400 and json.loads(body)["problems"] == [{"field": "range", "reason": "required"}]


def test_an_unknown_route_is_404_and_a_wrong_method_405_in_json(api: Api) -> None:
    assert api.get("/api/v1/nothing")[0] == 404
    status, _, headers = api.call("DELETE", "/api/v1/entries", token=api.write_token)
    assert status == 405 and headers["Allow"] == "POST"


# ---- the document ---------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_openapi_3_1_and_lists_every_route(api: Api) -> None:
    status, body = api.get("/api/v1/openapi.json", token=None)
    document = json.loads(body)
    validate(document)
    assert status == 200 and document["openapi"].startswith("3.1")
    assert {(path, method) for path, item in document["paths"].items() for method in item} == {
        ("/api/v1/partners", "post"), ("/api/v1/entries", "post"), ("/api/v1/ledger", "get"),
        ("/api/v1/batches", "get"), ("/api/v1/batches/{batch_id}", "get"), ("/api/v1/openapi.json", "get"),
    }
