"""Keap's REST API over HTTP (SPEC §11): the requests a sync makes, paced within a key's limits.

A Personal Access Token or Service Account Key may make 10 requests a second, 240 a minute and
30,000 a day (developer.infusionsoft.com/api-token-quota-and-usage-measurements). The client
keeps its own count of the last second and minute, reads `x-keap-product-throttle-available`
and `x-keap-product-quota-available` from every answer (waiting for the minute to roll over, or
for `x-keap-product-quota-expiry-time`, when one reaches zero), and on a 429 waits for its
`Retry-After`, else backs off exponentially, as Keap asks. Numbers are read as decimals.
The key goes out only in the `X-Keap-API-Key` header and never into a message.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

DEFAULT_URL = "https://api.infusionsoft.com/crm/rest"
PAGE_SIZE = 1000
CONTACTS_PER_REQUEST = 100
PER_SECOND = 10
PER_MINUTE = 240
MAX_ATTEMPTS = 8
LONGEST_BACKOFF = 64.0
TIMEOUT_SECONDS = 60.0


class KeapError(RuntimeError):
    """Keap could not be read; the message never holds the key."""


class KeapAuthError(KeapError):
    """Keap refused the key (401 or 403): a setting to fix, not a failure to retry."""


class Clock(Protocol):
    """Wall time in epoch seconds and a way to wait; tests pass a simulated one."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def mask(key: str) -> str:
    """A key as a message may show it: its last four characters at most."""
    return "••••" + key[-4:] if len(key) >= 12 else "••••"


@dataclass
class Pacer:
    """Spaces requests to stay under the key's per-second and per-minute limits."""

    clock: Clock
    per_second: int = PER_SECOND
    per_minute: int = PER_MINUTE
    waited: float = 0.0
    _sent: deque[float] = field(default_factory=deque)

    def before_request(self) -> None:
        """Wait until one more request keeps both windows under their limits."""
        while True:
            now = self.clock.time()
            while self._sent and self._sent[0] <= now - 60.0:
                self._sent.popleft()
            last_second = sum(1 for moment in self._sent if moment > now - 1.0)
            wait = 0.0
            if len(self._sent) >= self.per_minute:
                wait = self._sent[0] + 60.0 - now
            elif last_second >= self.per_second:
                wait = self._sent[-self.per_second] + 1.0 - now
            if wait <= 0:
                self._sent.append(now)
                return
            self.wait(wait)

    def wait(self, seconds: float) -> None:
        self.waited += seconds
        self.clock.sleep(seconds)

    def after_response(self, headers: dict[str, str]) -> None:
        """Keap's own count wins over ours: nothing left this minute, or today, means waiting for it."""
        if _number(headers.get("x-keap-product-quota-available")) == 0:
            self.wait_for_quota(headers)
        elif _number(headers.get("x-keap-product-throttle-available")) == 0:
            oldest = self._sent[0] if self._sent else self.clock.time()
            self.wait(max(1.0, oldest + 60.0 - self.clock.time()))

    def wait_for_quota(self, headers: dict[str, str]) -> bool:
        """Wait for the day's quota to be renewed, when the answer says when; whether it waited."""
        expiry = _number(headers.get("x-keap-product-quota-expiry-time"))
        if expiry is None:
            return False
        self.wait(max(1.0, expiry / 1000.0 - self.clock.time()))
        return True


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None and value.strip() else None
    except ValueError:
        return None


def retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def keap_time(moment: datetime) -> str:
    """An instant as Keap's filters take it: ISO 8601 in UTC with milliseconds and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class KeapClient:
    """The few endpoints a sync reads, each page through one paced, retried request."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_URL
    clock: Clock = field(default_factory=SystemClock)
    log: Callable[[str], None] = lambda line: None
    requests: int = 0
    pacer: Pacer = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.pacer = Pacer(self.clock)

    def get(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        """One JSON answer; 429 and 5xx are retried with back-off, 401 and 403 raise KeapAuthError."""
        params = {key: value for key, value in query.items() if value is not None}
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        for attempt in range(MAX_ATTEMPTS):
            self.pacer.before_request()
            status, headers, body = self._send(url)
            self.requests += 1
            if status == 200:
                self.pacer.after_response(headers)
                return self._json(body, path)
            if status in (401, 403):
                raise KeapAuthError(f"Keap refused the key in KEAP_API_KEY ({mask(self.api_key)}): HTTP {status}"
                                    f"{self._reason(body)}")
            if status != 429 and status < 500:
                raise KeapError(f"Keap answered HTTP {status} to GET {path}{self._reason(body)}")
            self._back_off(status, headers, attempt)
        raise KeapError(f"Keap kept refusing GET {path} after {MAX_ATTEMPTS} attempts")

    def _back_off(self, status: int, headers: dict[str, str], attempt: int) -> None:
        """Retry-After when given; else the quota's renewal when the day's quota is spent; else 1, 2, 4… s."""
        wait = retry_after(headers.get("retry-after"), self.clock.time())
        if (wait is None and status == 429 and _number(headers.get("x-keap-product-quota-available")) == 0
                and self.pacer.wait_for_quota(headers)):
            return
        if wait is None:
            wait = min(LONGEST_BACKOFF, 2.0 ** attempt)
        self.log(f"keap: HTTP {status}, waiting {wait:g} s")
        self.pacer.wait(wait)

    def _send(self, url: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(url, headers={"X-Keap-API-Key": self.api_key, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, _lower(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _lower(error.headers.items()), error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise KeapError(f"cannot reach Keap at {self.base_url}: {reason}") from None

    def _json(self, body: bytes, path: str) -> dict[str, Any]:
        try:
            value = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise KeapError(f"Keap's answer to GET {path} is not JSON") from None
        if not isinstance(value, dict):
            raise KeapError(f"Keap's answer to GET {path} is not a JSON object")
        return value

    def _reason(self, body: bytes) -> str:
        """Keap's `Error.message`, when it gives one, without the key should it echo it."""
        try:
            message = str(json.loads(body).get("message") or "")
        except (ValueError, AttributeError):
            message = ""
        message = message.replace(self.api_key, mask(self.api_key)) if self.api_key else message
        return f" ({message[:200]})" if message else ""

    # ---- the endpoints ------------------------------------------------------------------------

    def _token_pages(self, path: str, key: str, query: dict[str, Any],
                     start: str | None = None) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """v2 paging: `page_size` and `page_token`, until `next_page_token` is empty.

        Each page comes with the token of the next (None after the last), so a reader can resume there.
        """
        token = start
        while True:
            answer = self.get(path, {**query, "page_size": PAGE_SIZE, "page_token": token})
            token = answer.get("next_page_token") or None
            yield token, list(answer.get(key) or [])
            if token is None:
                return

    def _offset_pages(self, path: str, key: str, query: dict[str, Any],
                      start: str | None = None) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """v1 paging: `offset` and `limit`, until a page comes back short; the next offset comes with each."""
        offset = int(start or 0)
        while True:
            page = list(self.get(path, {**query, "offset": offset, "limit": PAGE_SIZE}).get(key) or [])
            offset += len(page)
            yield (str(offset) if len(page) == PAGE_SIZE else None), page
            if len(page) < PAGE_SIZE:
                return

    def affiliates(self, start: str | None = None) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """v2 `GET /v2/affiliates`, a page at a time (the sync orders them itself)."""
        return self._token_pages("/v2/affiliates", "affiliates", {}, start)

    def contacts(self, contact_ids: list[str],
                 start: str | None = None) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """v2 `GET /v2/contacts?filter=ids==…&fields=email_addresses`, a hundred contacts a request;
        each group comes with where the next one starts."""
        for first in range(int(start or 0), len(contact_ids), CONTACTS_PER_REQUEST):
            ids = ",".join(contact_ids[first:first + CONTACTS_PER_REQUEST])
            found = [record for _, page in self._token_pages(
                "/v2/contacts", "contacts", {"filter": f"ids=={ids}", "fields": "email_addresses"}) for record in page]
            following = first + CONTACTS_PER_REQUEST
            yield (str(following) if following < len(contact_ids) else None), found

    def commissions(self, since: datetime | None, until: datetime,
                    start: str | None = None) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """v1 `GET /v1/affiliates/commissions?since&until&offset&limit`: every affiliate's, a page at a time."""
        window = {"since": keap_time(since) if since else None, "until": keap_time(until)}
        return self._offset_pages("/v1/affiliates/commissions", "commissions", window, start)

    def clawbacks(self, affiliate_id: str, since: datetime | None, until: datetime) -> list[dict[str, Any]]:
        """v1 `GET /v1/affiliates/{id}/clawbacks?since&until` (both ends included)."""
        window = {"since": keap_time(since) if since else None, "until": keap_time(until)}
        path = f"/v1/affiliates/{urllib.parse.quote(affiliate_id, safe='')}/clawbacks"
        return [record for _, page in self._offset_pages(path, "clawbacks", window) for record in page]

    def payments(self, affiliate_id: str, since: datetime | None, until: datetime) -> list[dict[str, Any]]:
        """v2 `GET /v2/affiliates/{id}/payments?filter=since_time==…;until_time==…`."""
        terms = ([f"since_time=={keap_time(since)}"] if since else []) + [f"until_time=={keap_time(until)}"]
        path = f"/v2/affiliates/{urllib.parse.quote(affiliate_id, safe='')}/payments"
        return [record for _, page in self._token_pages(path, "affiliate_payments", {"filter": ";".join(terms)})
                for record in page]


def _lower(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}
