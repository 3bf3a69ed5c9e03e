"""A local HTTP double of Keap's REST API: the affiliate endpoints a sync reads, with Keap's limits.

It follows Keap's published documents:

- v2 (`infusionsoft/keap-sdk` `sdks/v2/swagger.yml`): `GET /v2/affiliates` (`ListAffiliatesResponse`:
  `affiliates` of `RestAffiliate` {id, code, name, status ACTIVE|INACTIVE, contact_id},
  `next_page_token`), `GET /v2/contacts?filter=ids==…&fields=email_addresses` (`email_addresses`
  of {email, field EMAIL1…}), `GET /v2/affiliates/{affiliate_id}/payments?filter=since_time==…;
  until_time==…` (`ListAffiliatePaymentsResponse`: `affiliate_payments` of `RestAffiliatePayment`
  {id, pay_date, pay_notes, pay_amount, pay_type, create_time}); `page_size` at most 1000 and
  `page_token`; errors as `Error` {code, message, status}.
- v1 (`infusionsoft/infusionsoft-php` `src/Infusionsoft/Api/Rest/AffiliateService.php`, and the v1
  document's `listCommissions` / `listAffiliateClawbacks`): `GET /v1/affiliates/commissions?since&
  until&offset&limit` ({commissions: [{amount_earned, contact_id, date_earned, description,
  invoice_id, product_name, sales_affiliate_id…}], count, next, previous}) and
  `GET /v1/affiliates/{id}/clawbacks?since&until` ({clawbacks: [{amount, contact_id, date_earned,
  description, invoice_id, product_name…}], …}); `since` and `until` included.
- Limits and headers (developer.infusionsoft.com/api-token-quota-and-usage-measurements and
  /faqs/how-does-throttling-work): a key may make 10 requests a second, 240 a minute and 30,000 a
  day (renewed at 00:00 UTC); every answer carries `x-keap-product-throttle-*` and
  `x-keap-product-quota-*`; over a limit the answer is 429. A wrong `X-Keap-API-Key` is 401.

Time is the double's `SimClock`, shared with the client under test: waiting advances it at once, so
a day of paced requests takes as long as the requests themselves.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

KEY = "KeapAK-test-service-account-key-1234"


class SimClock:
    """Epoch seconds that move only when someone sleeps (or `advance`s): compressed time."""

    def __init__(self, start: datetime = datetime(2015, 7, 15, 12, 0, tzinfo=UTC)) -> None:
        self._now = start.timestamp()
        self._lock = threading.Lock()
        self.slept = 0.0

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        self.slept += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass
class Account:
    """What the Keap account holds, as its API gives it out."""

    affiliates: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    commissions: list[dict[str, Any]] = field(default_factory=list)
    clawbacks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    payments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def keap_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def generate(seed: int = 1, *, affiliates: int = 100, commissions: int = 5_000, clawbacks: int = 300,
             payments: int = 200, start: date = date(2014, 1, 1), end: date = date(2015, 7, 10),
             emails: bool = True) -> Account:
    """A random but reproducible account: every record inside start..end, amounts with 2 decimals,
    clawbacks signed either way, and some commissions alike in invoice, product and contact."""
    rng = random.Random(seed)
    account = Account()
    span = int((datetime.combine(end, datetime.min.time()) - datetime.combine(start, datetime.min.time()))
               .total_seconds())

    def moment() -> datetime:
        return datetime.combine(start, datetime.min.time(), UTC) + timedelta(seconds=rng.randrange(span))

    def money(low: int, high: int) -> Decimal:
        return Decimal(rng.randrange(low, high)) / 100

    ids = [str(1000 + 7 * n) for n in range(affiliates)]
    for n, affiliate_id in enumerate(ids):
        contact_id = str(50_000 + n)
        account.affiliates.append({"id": affiliate_id, "code": f"AFF{n:05d}", "name": f"Partner {n}",
                                   "status": "ACTIVE" if n % 9 else "INACTIVE", "contact_id": contact_id,
                                   "date_created": "2013-12-01T00:00:00.000Z", "notify_on_sale": False})
        addresses = [{"email": f"partner{n}@example.com", "field": "EMAIL1"}] if emails and n % 5 else []
        account.contacts[contact_id] = {"id": contact_id, "email_addresses": addresses}
    for n in range(commissions):
        repeat = n > 0 and n % 50 == 0
        base = account.commissions[n - 1] if repeat else None
        account.commissions.append({
            "amount_earned": money(100, 50_000), "contact_id": base["contact_id"] if base else str(rng.randrange(10**6)),
            "contact_first_name": "Ann", "contact_last_name": "Buyer",
            "date_earned": keap_iso(moment()), "description": "Sale commission",
            "invoice_id": base["invoice_id"] if base else str(200_000 + n),
            "product_name": base["product_name"] if base else rng.choice(["Gold plan", "Silver plan", "Course"]),
            "sales_affiliate_id": base["sales_affiliate_id"] if base else rng.choice(ids),
            "sold_by_first_name": "Sam", "sold_by_last_name": "Seller",
        })
    for n in range(clawbacks):
        affiliate_id = rng.choice(ids)
        amount = money(100, 20_000) * rng.choice([1, -1])
        account.clawbacks.setdefault(affiliate_id, []).append({
            "amount": amount, "contact_id": str(rng.randrange(10**6)), "date_earned": keap_iso(moment()),
            "description": "Refund", "family_name": "Buyer", "given_name": "Ann", "invoice_id": str(900_000 + n),
            "product_name": "Gold plan", "sale_affiliate_id": affiliate_id, "subscription_plan_name": "",
        })
    for n in range(payments):
        affiliate_id = rng.choice(ids)
        paid = moment()
        account.payments.setdefault(affiliate_id, []).append({
            "id": str(70_000 + n), "pay_date": keap_iso(paid), "pay_notes": "Monthly payout",
            "pay_amount": money(1_000, 100_000), "pay_type": rng.choice(["CHECK", "CASH", "ADJUSTMENT"]),
            "create_time": keap_iso(paid),
        })
    return account


@dataclass(frozen=True)
class Hit:
    """One request the double answered: when (simulated epoch seconds), what, and with which status."""

    at: float
    path: str
    query: dict[str, str]
    status: int


@dataclass
class KeapDouble:
    """The server; `with KeapDouble(account) as keap:` serves at `keap.base_url`."""

    account: Account
    clock: SimClock = field(default_factory=SimClock)
    key: str = KEY
    per_second: int = 10
    per_minute: int = 240
    per_day: int = 30_000
    hits: list[Hit] = field(default_factory=list)
    _faults: deque[tuple[int, str | None]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _recent: deque[float] = field(default_factory=deque)
    _per_day: dict[date, int] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Self:
        double = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms wait between

            def do_GET(self) -> None:
                double._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = None) -> None:
        """Answer the next `count` requests with `status` (and `Retry-After`, when given)."""
        for _ in range(count):
            self._faults.append((status, retry_after))

    # ---- what the tests read ------------------------------------------------------------------

    def most_in_any_second(self) -> int:
        """The most requests that arrived within one second of each other."""
        return self._most_within(1.0)

    def most_in_any_minute(self) -> int:
        return self._most_within(60.0)

    def _most_within(self, seconds: float) -> int:
        times = sorted(hit.at for hit in self.hits)
        most, first = 0, 0
        for last, moment in enumerate(times):
            while times[first] <= moment - seconds:
                first += 1
            most = max(most, last - first + 1)
        return most

    # ---- serving --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            now = self.clock.time()
            status, body = self._answer(handler, parts.path, query, now)
            self.hits.append(Hit(now, parts.path, query, status))
            if status != 401:
                self._count(now)
            headers = self._limit_headers(now)
            if status == 429 and body.get("retry_after") is not None:
                headers["Retry-After"] = body.pop("retry_after")
            body.pop("retry_after", None)
        payload = json.dumps(body, default=_number).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, str],
                now: float) -> tuple[int, dict[str, Any]]:
        if handler.headers.get("X-Keap-API-Key") != self.key:
            return 401, {"code": 401, "message": "Invalid Access Token", "status": "UNAUTHENTICATED"}
        if self._faults:
            status, retry = self._faults.popleft()
            return status, {"code": status, "message": "Too Many Requests", "status": "RESOURCE_EXHAUSTED",
                            "retry_after": retry}
        over = self._over_limit(now)
        if over:
            return 429, {"code": 429, "message": f"{over} limit exceeded", "status": "RESOURCE_EXHAUSTED"}
        return self._route(path, query)

    def _counted(self, now: float, seconds: float) -> int:
        """Requests counted against the key within the last `seconds` (a 401 is not the key's)."""
        while self._recent and self._recent[0] <= now - 60.0:
            self._recent.popleft()
        return sum(1 for moment in reversed(self._recent) if moment > now - seconds) if seconds < 60 else len(self._recent)

    def _today(self, now: float) -> int:
        return self._per_day.get(datetime.fromtimestamp(now, UTC).date(), 0)

    def _count(self, now: float) -> None:
        self._recent.append(now)
        day = datetime.fromtimestamp(now, UTC).date()
        self._per_day[day] = self._per_day.get(day, 0) + 1

    def _over_limit(self, now: float) -> str | None:
        if self._today(now) >= self.per_day:
            return "daily quota"
        if self._counted(now, 60.0) >= self.per_minute:
            return "per-minute"
        if self._counted(now, 1.0) >= self.per_second:
            return "per-second"
        return None

    def _limit_headers(self, now: float) -> dict[str, str]:
        minute, day = self._counted(now + 1e-9, 60.0), self._today(now)
        renewal = (datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
                   + timedelta(days=1))
        return {
            "x-keap-product-throttle-limit": str(self.per_minute), "x-keap-product-throttle-time-unit": "minute",
            "x-keap-product-throttle-available": str(max(0, self.per_minute - minute)),
            "x-keap-product-throttle-used": str(minute),
            "x-keap-product-quota-limit": str(self.per_day), "x-keap-product-quota-time-unit": "day",
            "x-keap-product-quota-available": str(max(0, self.per_day - day)),
            "x-keap-product-quota-used": str(day),
            "x-keap-product-quota-expiry-time": str(int(renewal.timestamp() * 1000)),
            "x-keap-product-spike-limit": f"{self.per_second}ps",
        }

    # ---- the endpoints ------------------------------------------------------------------------

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        segments = path.strip("/").split("/")
        if path == "/v2/affiliates":
            return self._token_page("affiliates", sorted(self.account.affiliates, key=lambda a: int(a["id"])), query)
        if path == "/v2/contacts":
            ids = _filter(query).get("ids", "").split(",")
            found = [self.account.contacts[i] for i in ids if i in self.account.contacts]
            return self._token_page("contacts", found, query)
        if path == "/v1/affiliates/commissions":
            records = sorted(self.account.commissions, key=lambda c: (c["date_earned"], c["invoice_id"]))
            return self._offset_page("commissions", _between(records, "date_earned", query.get("since"),
                                                              query.get("until")), query)
        if len(segments) == 4 and segments[:2] == ["v1", "affiliates"] and segments[3] == "clawbacks":
            records = self.account.clawbacks.get(segments[2], [])
            return self._offset_page("clawbacks", _between(records, "date_earned", query.get("since"),
                                                            query.get("until")), query)
        if len(segments) == 4 and segments[:2] == ["v2", "affiliates"] and segments[3] == "payments":
            terms = _filter(query)
            records = _between(self.account.payments.get(segments[2], []), "pay_date", terms.get("since_time"),
                               terms.get("until_time"))
            return self._token_page("affiliate_payments", records, query)
        return 404, {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}

    def _token_page(self, key: str, records: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        size = int(query.get("page_size") or 1000)
        if not 0 <= size <= 1000:
            return 400, {"code": 400, "message": "page_size must be at most 1000", "status": "INVALID_ARGUMENT"}
        size = size or 1000
        token = query.get("page_token") or ""
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = records[start:start + size]
        following = start + size
        next_token = base64.urlsafe_b64encode(str(following).encode()).decode() if following < len(records) else ""
        return 200, {key: page, "next_page_token": next_token}

    def _offset_page(self, key: str, records: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        offset, limit = int(query.get("offset") or 0), min(1000, int(query.get("limit") or 1000))
        page = records[offset:offset + limit]
        more = offset + limit < len(records)
        return 200, {key: page, "count": len(page), "next": f"?offset={offset + limit}&limit={limit}" if more else None,
                     "previous": None}


def _number(value: Any) -> Any:
    """Keap's amounts go out as JSON numbers, like the `double`s its documents type them as."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def _filter(query: dict[str, str]) -> dict[str, str]:
    """v2's `filter=name==value;name==value`."""
    terms = {}
    for term in (query.get("filter") or "").split(";"):
        name, _, value = term.partition("==")
        if name:
            terms[name.strip()] = value.strip()
    return terms


def _between(records: list[dict[str, Any]], field_name: str, since: str | None, until: str | None) -> list[dict[str, Any]]:
    low = _parse_time(since) if since else None
    high = _parse_time(until) if until else None
    return [record for record in records
            if (low is None or _parse_time(record[field_name]) >= low)
            and (high is None or _parse_time(record[field_name]) <= high)]


def all_records(account: Account) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every commission, clawback and payment with its affiliate ID, for tests that compute the ledger."""
    for record in account.commissions:
        yield "commission", record
    for records in account.clawbacks.values():
        for record in records:
            yield "clawback", record
    for records in account.payments.values():
        for record in records:
            yield "payment", record
