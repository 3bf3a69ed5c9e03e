"""The app over HTTP: POST /slack/events for Slack, GET /healthz for load balancers and platforms,
as one WSGI application.

Before anything in a request to /slack/events is parsed, its size is capped (413), its signature
and timestamp are checked against the raw bytes (401), and only then is it read as Slack's form or
JSON (400 when it is neither); Bolt checks the signature again and dispatches it. No request body
is ever logged: an unsigned one could be anything, of any size.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few kilobytes; a large modal's state stays far below this
MAX_CLOCK_SKEW = 60 * 5  # seconds, as slack_sdk's SignatureVerifier and Slack's docs say

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def wsgi_app(app: App, signing_secret: str) -> WsgiApp:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", "ok")
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            try:
                environ["wsgi.input"] = io.BytesIO(checked_body(environ, signing_secret))
            except Refused as refused:
                log.warning("refused a request to %s: %s (%s)", EVENTS_PATH, refused.status, refused)
                return _plain(start_response, refused.status, str(refused))
        return slack(environ, start_response)

    return application


def checked_body(environ: dict[str, Any], signing_secret: str) -> bytes:
    """The raw body, once it is small enough, signed by Slack and well formed; else Refused."""
    body = _read_capped(environ)
    timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    if not signed(signing_secret, timestamp, signature, body, now=time.time()):
        raise Refused("401 Unauthorized", "invalid request")
    _check_form(body, str(environ.get("CONTENT_TYPE") or ""))
    return body


def _read_capped(environ: dict[str, Any]) -> bytes:
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not raw.isdigit():
        raise Refused("400 Bad Request", "Content-Length is not a number")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise Refused("413 Request Entity Too Large", f"the body is over {MAX_BODY_BYTES} bytes")
    return environ["wsgi.input"].read(length) if length else b""


def signed(secret: str, timestamp: str, signature: str, body: bytes, *, now: float) -> bool:
    """Slack's v0 signature over `v0:{timestamp}:{body}`, and a timestamp within five minutes."""
    if not secret or not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _check_form(body: bytes, content_type: str) -> None:
    """Slack sends a form (slash commands; a JSON object in `payload` for clicks and forms) or a JSON object."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/json":
            _require_object(json.loads(text))
            return
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" in fields:
            _require_object(json.loads(fields["payload"][0]))
    except (UnicodeDecodeError, ValueError) as malformed:
        raise Refused("400 Bad Request", "the body is not a Slack request") from malformed


def _require_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
