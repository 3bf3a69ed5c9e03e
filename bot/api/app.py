"""The HTTP API as a WSGI application: routing, bearer tokens, JSON in and out, bounded bodies.

Mounted beside /slack/events by `payouts serve` (see `with_api`). It shares gunicorn's threads with
Slack, so a gate admits at most MAX_ADMITTED API requests at once (the rest are answered 503 with
Retry-After at once, holding no thread) and lets only API_WORKERS of them work at a time: however
many clients push, Slack's acknowledgements always find most of the threads free.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from bot.api import openapi
from bot.api.records import RecordsRefused, read_items
from commands import use_api_tokens, use_batches, use_imports, use_ledger
from commands.cli_batch_views import batch_json, write_batch_json
from commands.context import Request
from commands.json_text import document
from commands.ledger_files import partner_ledger_json, write_ledger_json
from domain.dates import DateError, DateRange, parse_range
from domain.db import Database
from domain.settings import Settings

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PREFIX = "/api/"
V1 = "/api/v1"
MAX_BODY_BYTES = openapi.MAX_BODY_BYTES
MAX_ITEMS = openapi.MAX_ITEMS
# gunicorn runs 16 threads a worker (bot/slack/server.py): at most 6 hold an API request, 2 of them working.
MAX_ADMITTED = 6
API_WORKERS = 2
WORK_WAIT_SECONDS = 30
MAX_BATCHES = 1_000
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}


@dataclass
class ApiError(Exception):
    status: int
    error: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "problems": self.problems}


@dataclass(frozen=True)
class Call:
    request: Request
    query: dict[str, list[str]]
    environ: dict[str, Any]
    path_id: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


Handler = Callable[[Call], Answer]


class Gate:
    """At most `admitted` requests inside, `working` of them at work; the rest are turned away at once."""

    def __init__(self, admitted: int = MAX_ADMITTED, working: int = API_WORKERS) -> None:
        self._admitted = threading.BoundedSemaphore(admitted)
        self._working = threading.BoundedSemaphore(working)

    def enter(self) -> bool:
        return self._admitted.acquire(blocking=False)

    def leave(self) -> None:
        self._admitted.release()

    def work(self, job: Callable[[], Answer]) -> Answer:
        if not self._working.acquire(timeout=WORK_WAIT_SECONDS):
            raise _busy()
        try:
            return job()
        finally:
            self._working.release()


def _busy() -> ApiError:
    return ApiError(503, "the API is busy; try again shortly", headers=[("Retry-After", "1")])


# ---- handlers -----------------------------------------------------------------------------------


def _one(call: Call, name: str, *, required: bool = False) -> str | None:
    values = call.query.get(name, [])
    if len(values) > 1:
        raise ApiError(400, f"query parameter '{name}' is given {len(values)} times",
                       [{"field": name, "reason": "given more than once"}])
    if required and not (values and values[0].strip()):
        raise ApiError(400, f"query parameter '{name}' is required", [{"field": name, "reason": "required"}])
    return values[0] if values else None


def _only(call: Call, *names: str) -> None:
    unknown = sorted(set(call.query) - set(names))
    if unknown:
        raise ApiError(400, f"unknown query parameter(s): {', '.join(unknown)}",
                       [{"field": name, "reason": f"not one of {', '.join(names) or 'none'}"} for name in unknown])


def get_ledger(call: Call) -> Answer:
    _only(call, "range", "partner")
    raw = _one(call, "range", required=True) or ""
    try:
        period = parse_range(raw, call.request.settings.today())
    except DateError as exc:
        raise ApiError(400, str(exc), [{"field": "range", "reason": str(exc)}]) from None
    code = _one(call, "partner")
    if code is None:
        return Answer(200, _report_json(call.request, period))
    return Answer(200, document(partner_ledger_json(use_ledger.partner_ledger(call.request, code, period))))


def _report_json(request: Request, period: DateRange) -> str:
    """`payouts ledger --format json`'s bytes, written as the rows are read: a 100,000-partner report
    is held only as its text, never as rows and dictionaries beside it."""
    out = io.StringIO()
    with use_ledger.streamed_report(request, period, with_email=False) as rows:
        write_ledger_json(rows, out)
    return out.getvalue()


def get_batches(call: Call) -> Answer:
    _only(call, "limit")
    raw = _one(call, "limit")
    limit = 50
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_BATCHES:
            reason = f"'{raw}' is not a whole number from 1 to {MAX_BATCHES}"
            raise ApiError(400, f"limit: {reason}", [{"field": "limit", "reason": reason}])
        limit = int(raw)
    listing = use_batches.list_batches(call.request, limit=limit, with_lines=True)
    return Answer(200, document([batch_json(batch) for batch in listing.batches]))


def get_batch(call: Call) -> Answer:
    """`payouts batch show --format json`'s bytes, written as the batch's lines are read."""
    _only(call)
    out = io.StringIO()
    with use_batches.streamed(call.request, call.path_id) as batch:
        write_batch_json(batch, out)
    return Answer(200, out.getvalue())


def get_openapi(call: Call) -> Answer:
    return Answer(200, document(openapi.document()))


def post_partners(call: Call) -> Answer:
    return _post(call, "partners")


def post_entries(call: Call) -> Answer:
    return _post(call, "entries")


def _post(call: Call, what: str) -> Answer:
    items = _json_body(call.environ)
    try:
        records, problems = read_items(items, what)
    except RecordsRefused as exc:
        raise ApiError(exc.status, exc.reason) from None
    seen = {(p.row, p.column) for p in problems}
    source = f"POST {V1}/{what}"
    try:
        if what == "partners":
            result = use_imports.import_partner_records(call.request, records, source=source, problems=problems)
            counts: dict[str, int] = {"received": len(items), "added": result.added, "updated": result.updated,
                                      "unchanged": result.unchanged}
        else:
            result = use_imports.import_entry_records(call.request, records, source=source, problems=problems)
            counts = {"received": len(items), "added": result.added, "unchanged": result.unchanged}
    except use_imports.ImportRefused as exc:
        problems_shown = [{"index": p.row, "field": p.column, "reason": p.reason} for p in problems]
        rows = [{"index": p.row, "field": p.column, "reason": p.reason}
                for p in exc.problems if (p.row, p.column) not in seen]
        every = sorted(problems_shown + rows, key=lambda p: p["index"])
        raise ApiError(400, f"{len(every)} problem(s); nothing was imported", every) from None
    return Answer(201, document(counts))


# ---- reading a request --------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_body(environ: dict[str, Any]) -> Any:
    """The body read within MAX_BODY_BYTES and parsed with exact numbers (Decimal, never float)."""
    raw = _read_body(environ)
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_int=Decimal,
                          parse_constant=_reject_constant, object_pairs_hook=_object)
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None


class Fields(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the names it gave more than once (only the last would count)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> Fields:
    fields = Fields(pairs)
    if len(fields) != len(pairs):
        names = [name for name, _ in pairs]
        fields.repeated = tuple(sorted({name for name in names if names.count(name) > 1}))
    return fields


def _too_large() -> ApiError:
    return ApiError(413, f"the body is larger than {MAX_BODY_BYTES:,} bytes; send at most {MAX_ITEMS:,} items a request")


def _read_body(environ: dict[str, Any]) -> bytes:
    """Refused unread when its declared length is too large; read no further than the bound when it
    declares none (chunked), so a body never holds more than MAX_BODY_BYTES of memory."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if declared:
        if not declared.isdigit():
            raise ApiError(400, f"Content-Length '{declared}' is not a number")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
        return bytes(stream.read(int(declared)))
    chunks, size = [], 0
    while chunk := stream.read(min(65_536, MAX_BODY_BYTES + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
    return b"".join(chunks)


# ---- routing and authentication -----------------------------------------------------------------

ROUTES: dict[str, dict[str, tuple[str | None, Handler]]] = {
    f"{V1}/partners": {"POST": ("write", post_partners)},
    f"{V1}/entries": {"POST": ("write", post_entries)},
    f"{V1}/ledger": {"GET": ("read", get_ledger)},
    f"{V1}/batches": {"GET": ("read", get_batches)},
    f"{V1}/openapi.json": {"GET": (None, get_openapi)},
}
BATCH_PREFIX = f"{V1}/batches/"


def _route(path: str) -> tuple[dict[str, tuple[str | None, Handler]], str]:
    if path in ROUTES:
        return ROUTES[path], ""
    if path.startswith(BATCH_PREFIX) and len(path) > len(BATCH_PREFIX) and "/" not in path[len(BATCH_PREFIX):]:
        return {"GET": ("read", get_batch)}, path[len(BATCH_PREFIX):]
    raise ApiError(404, f"no such route: {path}")


def _bearer(environ: dict[str, Any]) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "send Authorization: Bearer TOKEN (create one with `payouts api-token create`)",
                       headers=[("WWW-Authenticate", 'Bearer realm="payouts"')])
    return token.strip()


def _caller(base: Request, environ: dict[str, Any], scope: str) -> Request:
    caller = use_api_tokens.authenticate(base, _bearer(environ))
    if caller is None:
        raise ApiError(401, "the token is unknown or revoked",
                       headers=[("WWW-Authenticate", 'Bearer realm="payouts", error="invalid_token"')])
    if not caller.may(scope):
        raise ApiError(403, f"token '{caller.name}' has the {caller.scope} scope; this needs {scope}",
                       headers=[("WWW-Authenticate", f'Bearer realm="payouts", error="insufficient_scope", scope="{scope}"')])
    return base.acting_as(caller.actor)


def _handle(base: Request, environ: dict[str, Any]) -> Answer:
    methods, path_id = _route(environ.get("PATH_INFO", ""))
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in methods:
        raise ApiError(405, f"{method} is not allowed here; use {', '.join(methods)}",
                       headers=[("Allow", ", ".join(methods))])
    scope, handler = methods[method]
    request = _caller(base, environ, scope) if scope is not None else base
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return handler(Call(request, query, environ, path_id))


def _respond(start_response: Callable[..., Any], status: int, text: str,
             headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(f"{status} {_REASONS.get(status, '')}".rstrip(), [
        ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"), *(headers or []),
    ])
    return [body]


def api_app(db: Database, settings: Settings, gate: Gate | None = None) -> WsgiApp:
    base = Request(db=db, settings=settings, actor="api")
    gate = gate or Gate()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not gate.enter():
            error = _busy()
            return _respond(start_response, error.status, document(error.body()), error.headers)
        try:
            answer = gate.work(lambda: _handle(base, environ))
            return _respond(start_response, answer.status, answer.text)
        except ApiError as error:
            return _respond(start_response, error.status, document(error.body()), error.headers)
        except LookupError as exc:
            return _respond(start_response, 404, document({"error": str(exc).strip("'\""), "problems": []}))
        except Exception:
            log.exception("API request failed: %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            return _respond(start_response, 500, document({"error": "the request failed; the server log says why",
                                                           "problems": []}))
        finally:
            gate.leave()

    return application


def with_api(slack: WsgiApp, api: WsgiApp) -> WsgiApp:
    """Paths under /api/ go to the API, every other one to the Slack app as before."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return api(environ, start_response)
        return slack(environ, start_response)

    return application
