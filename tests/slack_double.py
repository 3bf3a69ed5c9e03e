"""A local HTTP double of the Slack Web API, so Bolt and slack_sdk code can run end to end offline.

The double listens on 127.0.0.1 only. Point a client at it with
``WebClient(token="xoxb-test", base_url=double.base_url)`` and use ``double.response_url()`` as a
slash command's ``response_url``; every request is then recorded as a ``Call`` that tests can
wait for and inspect. Canned answers are just plausible enough for slack_sdk and Bolt to proceed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
FIRST_TS_SECONDS = 1700000000
FIRST_TS_SEQUENCE = 100
RESPONSE_URL_USES = 5
# auth.test for a bot in a single workspace (https://docs.slack.dev/reference/methods/auth.test)
DEFAULT_AUTH: dict[str, Any] = {
    "url": "https://example.slack.com/", "team": "Example", "user": "payouts", "team_id": TEAM_ID,
    "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
}
# Methods that act in a channel, refused like Slack outside the bot's channels (SlackApiDouble.channels)
CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "files.completeUploadExternal"})


@dataclass(frozen=True)
class Call:
    """One request the double received, kept exactly as the client sent it.

    ``args`` holds the form, JSON or multipart fields; form-encoded structured fields (such as
    ``files`` of ``files.completeUploadExternal``) stay JSON strings, as Slack receives them, and
    ``arg()`` decodes them. ``headers`` has lower-cased names. ``status`` is the HTTP status the
    double answered with, so retried attempts can be told apart.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    error: str | None = None  # the error of an ``{"ok": false}`` answer

    def arg(self, name: str, default: Any = None) -> Any:
        """Return an argument, decoding it when a form body carried it as a JSON string."""
        value = self.args.get(name, default)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class _Fault:
    status: int
    retry_after: int
    error: str
    remaining: int


@dataclass
class _State:
    """Everything reset() restores, kept together so a reset cannot forget a field."""

    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    pending_uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploaded_content: dict[str, bytes] = field(default_factory=dict)
    ts_sequence: int = FIRST_TS_SEQUENCE
    response_url_uses: dict[str, int] = field(default_factory=dict)
    file_sequence: int = 0
    view_sequence: int = 0


def _default_user(user_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": f"User {user_id}",
        "deleted": False,
        "is_bot": False,
        "tz": "America/New_York",
        "tz_label": "Eastern Standard Time",
        "tz_offset": -18000,
        "profile": {
            "real_name": f"User {user_id}",
            "display_name": name,
            "email": f"{name}@example.com",
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a process stopped by its test) is not an error of the double."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SlackApiDouble:
    """Records Slack Web API calls and answers them, with injectable rate limits, errors and delays.

    Test-configurable data: ``usergroups`` maps a user group id to its member ids (for
    ``usergroups.users.list``), ``users`` maps a user id to the object ``users.info`` returns
    (unknown ids get a plausible default user) and ``socket_mode_url`` is the WebSocket URL
    ``apps.connections.open`` answers (a ``tests.socket_mode_double.SocketModeDouble``'s ``url``).
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._state = _State()
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.socket_mode_url: str | None = None
        self.auth: dict[str, Any] = dict(DEFAULT_AUTH)
        self.joined: set[str] | None = None
        self.public: set[str] = set()
        self.expired_response_urls: set[str] = set()
        self.shared: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind an ephemeral port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.double = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-api-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and release the port (the short poll interval keeps this fast)."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackApiDouble is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The Web API root, in the form ``WebClient(base_url=...)`` expects (trailing slash)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def url(self, path: str) -> str:
        """An absolute URL on this server, for response_url and similar callbacks."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def response_url(self, tag: str = "default") -> str:
        """A ``response_url`` whose POSTs are recorded as method ``"response_url"``."""
        return self.url(f"response_url/{tag}")

    # -- configuration -----------------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an HTTP error.

        429 carries a ``Retry-After`` header, as Slack's rate limiter does; 5xx answers
        ``{"ok": false, "error": "internal_error"}``. ``method`` may also be ``"upload"`` or
        ``"response_url"``.
        """
        error = "ratelimited" if status == 429 else "internal_error"
        self._add_fault(method, _Fault(status=status, retry_after=retry_after, error=error, remaining=times))

    def error_next(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with HTTP 200 ``{"ok": false, "error": error}``.

        This is how Slack reports most failures (``channel_not_found``, ``not_in_channel``...).
        """
        self._add_fault(method, _Fault(status=200, retry_after=0, error=error, remaining=times))

    def channels(self, *, joined: set[str], public: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """Refuse like Slack outside the channels the bot is in (until then it is in every channel).

        ``joined``: the channels the bot is a member of (``shared``, set apart, lists the channels
        ``conversations.info`` describes as shared with another organisation); ``public``: the public ones (the others are
        private channels or direct messages between people). As Slack does: a message to a public
        channel goes through (chat:write.public), a file shared there is ``not_in_channel`` and an
        ephemeral message ``not_in_channel``; anything to a private channel or a direct message the
        bot is not in is ``channel_not_found``. ``conversations.join`` joins a public channel and
        refuses the others (``method_not_supported_for_channel_type``); ``conversations.open`` opens
        the person's direct message with the app (``D`` + user ID), which the bot is in.
        """
        with self._lock:
            self.joined = set(joined)
            self.public = set(public)

    def expire_response_url(self, tag: str = "default") -> None:
        """Slack's answer to a response_url after 30 minutes: HTTP 404 ``expired_url``."""
        with self._lock:
            self.expired_response_urls.add(tag)

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to ``method`` for ``seconds`` (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._state.delays[method] = seconds
            else:
                self._state.delays.pop(method, None)

    def reset(self) -> None:
        """Forget calls, faults, delays, uploads and test data; counters start again from scratch."""
        with self._lock:
            self._state = _State()
            self.usergroups = {}
            self.users = {}
            self.socket_mode_url = None
            self.auth = dict(DEFAULT_AUTH)
            self.joined = None
            self.public = set()
            self.expired_response_urls = set()
            self.shared = set()
            self._lock.notify_all()

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            return
        with self._lock:
            self._state.faults.setdefault(method, []).append(fault)

    # -- queries -----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """A snapshot of recorded calls, optionally only those of one method, in arrival order."""
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least ``count`` matching calls arrived; return all matching calls.

        Work done in Bolt lazy listeners or background threads finishes after ``dispatch``
        returns, so tests wait for its side effects rather than sleeping.
        """

        def matching() -> list[Call]:
            return [
                c for c in self._state.calls if c.method == method and (predicate is None or predicate(c))
            ]

        deadline = time.monotonic() + timeout
        with self._lock:
            found = matching()
            while len(found) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    arrived = "\n".join(f"  {c.method} [{c.status}] {c.args!r}" for c in self._state.calls)
                    raise AssertionError(
                        f"expected {count} call(s) of {method!r}"
                        f"{' matching the predicate' if predicate else ''} within {timeout}s, "
                        f"got {len(found)}; calls received:\n{arrived or '  (none)'}"
                    )
                self._lock.wait(remaining)
                found = matching()
            return found

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Every file shared by a successful ``files.completeUploadExternal``, with its bytes.

        Joins the three steps of ``files_upload_v2``: filename and length from
        ``files.getUploadURLExternal``, the bytes POSTed to the upload URL, and title, channel and
        comment from ``files.completeUploadExternal``.
        """
        with self._lock:
            completions = [
                c for c in self._state.calls
                if c.method == "files.completeUploadExternal" and c.status == 200 and c.error is None
            ]
            pending = dict(self._state.pending_uploads)
            contents = dict(self._state.uploaded_content)
        result: list[dict[str, Any]] = []
        for completion in completions:
            for entry in completion.arg("files") or []:
                file_id = entry.get("id")
                started = pending.get(file_id, {})
                result.append(
                    {
                        "file_id": file_id,
                        "filename": started.get("filename"),
                        "title": entry.get("title") or started.get("filename"),
                        "length": started.get("length"),
                        "channel_id": completion.args.get("channel_id"),
                        "channels": completion.args.get("channels"),
                        "initial_comment": completion.args.get("initial_comment"),
                        "thread_ts": completion.args.get("thread_ts"),
                        "content": contents.get(file_id),
                    }
                )
        return result

    # -- request handling (called from server threads) ----------------------------------------

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._state.faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    def _record(self, call: Call) -> None:
        with self._lock:
            self._state.calls.append(call)
            self._lock.notify_all()

    def _handle(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Produce the (status, headers, body) for one request and record it."""
        tag = str(args.pop("_tag", "default"))
        with self._lock:
            delay = self._state.delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        fault = self._take_fault(method)
        if fault is not None:
            self._record(Call(method, args, headers, fault.status, fault.error))
            extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            return fault.status, extra, _json({"ok": False, "error": fault.error})
        if method == "upload":
            return self._handle_upload(args, headers)
        if method == "response_url":
            return self._handle_response_url(tag, args, headers)
        refusal = self._refusal(method, args)
        if refusal is not None:
            self._record(Call(method, args, headers, 200, refusal))
            return 200, {}, _json({"ok": False, "error": refusal})
        payload = self._answer(method, args)
        self._record(Call(method, args, headers, 200, None if payload.get("ok") else payload.get("error")))
        return 200, {}, _json(payload)

    def _handle_response_url(
        self, tag: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """At most five answers within 30 minutes (Slack's slash-command docs): then 404."""
        with self._lock:
            uses = self._state.response_url_uses.get(tag, 0) + 1
            self._state.response_url_uses[tag] = uses
            expired = tag in self.expired_response_urls
        refusal = "expired_url" if expired else "used_url" if uses > RESPONSE_URL_USES else None
        self._record(Call("response_url", args, headers, 404 if refusal else 200, refusal))
        if refusal:
            return 404, {"Content-Type": "text/plain"}, refusal.encode()
        return 200, {"Content-Type": "text/plain"}, b"ok"

    def _refusal(self, method: str, args: dict[str, Any]) -> str | None:
        """What Slack answers when the bot cannot reach the channel (see ``channels``)."""
        with self._lock:
            joined, public = self.joined, set(self.public)
        if joined is None:
            return None
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if method == "conversations.join":
            return None if channel in public else "method_not_supported_for_channel_type"
        if method == "conversations.info":
            return None if channel in joined or channel in public else "channel_not_found"
        if method not in CHANNEL_METHODS or not channel or channel in joined or channel.startswith("D_APP_"):
            return None
        if channel in public:
            return None if method == "chat.postMessage" else "not_in_channel"
        return "channel_not_found"

    def _handle_upload(
        self, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        content: bytes = args["content"]
        with self._lock:
            self._state.uploaded_content[args["file_id"]] = content
        self._record(Call("upload", args, headers, 200))
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(content)}".encode()

    def _next_ts(self) -> str:
        with self._lock:
            self._state.ts_sequence += 1
            return f"{FIRST_TS_SECONDS}.{self._state.ts_sequence:06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The canned successful answer for ``method``; unknown methods get ``{"ok": true}``."""
        call = Call(method, args, {})
        if method == "auth.test":
            with self._lock:
                return {"ok": True, **self.auth}
        if method == "conversations.join":
            channel = str(args.get("channel", ""))
            with self._lock:
                if self.joined is not None:
                    self.joined.add(channel)
            return {"ok": True, "channel": {"id": channel, "is_channel": True, "is_member": True}}
        if method == "conversations.open":
            users = str(args.get("users", ""))
            if not users or "," in users:
                return {"ok": False, "error": "users_list_not_supplied" if not users else "not_enough_users"}
            return {"ok": True, "channel": {"id": f"D_APP_{users}"}}
        if method == "apps.connections.open" and self.socket_mode_url is not None:
            return {"ok": True, "url": self.socket_mode_url}
        if method == "chat.postMessage":
            ts = self._next_ts()
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": _message(call, ts)}
        if method == "chat.update":
            ts = args.get("ts")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "text": args.get("text", ""),
                "message": _message(call, ts),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.update", "views.push"):
            return {"ok": True, "view": self._view(call)}
        if method == "views.publish":
            refusal = _publish_refusal(call)
            if refusal is not None:
                return {"ok": False, "error": refusal}
            return {"ok": True, "view": self._view(call)}
        if method == "usergroups.users.list":
            group = args.get("usergroup")
            with self._lock:
                members = self.usergroups.get(group) if group is not None else None
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method == "conversations.info":
            channel = str(args.get("channel", ""))
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "name": f"channel-{channel.lower()}",
                    "is_channel": True,
                    "is_private": False,
                    "is_archived": False,
                    "is_member": True,
                    "is_ext_shared": channel in self.shared,
                    "is_pending_ext_shared": False,
                },
            }
        if method == "users.info":
            user_id = str(args.get("user", ""))
            with self._lock:
                user = self.users.get(user_id)
            return {"ok": True, "user": user if user is not None else _default_user(user_id)}
        if method == "files.getUploadURLExternal":
            length = args.get("length")
            with self._lock:
                self._state.file_sequence += 1
                file_id = f"F{self._state.file_sequence:04d}"
                self._state.pending_uploads[file_id] = {
                    "filename": args.get("filename"),
                    "length": int(length) if str(length).isdigit() else length,
                }
            return {"ok": True, "upload_url": self.url(f"upload/{file_id}"), "file_id": file_id}
        if method == "files.completeUploadExternal":
            channel_id = args.get("channel_id")
            with self._lock:
                pending = dict(self._state.pending_uploads)
            files = [
                {
                    "id": f.get("id"),
                    "title": f.get("title"),
                    "name": pending.get(f.get("id"), {}).get("filename"),
                    "channels": [channel_id] if channel_id else [],
                }
                for f in call.arg("files") or []
            ]
            return {"ok": True, "files": files}
        return {"ok": True}

    def _view(self, call: Call) -> dict[str, Any]:
        view = call.arg("view") or {}
        with self._lock:
            self._state.view_sequence += 1
            sequence = self._state.view_sequence
        view_id = call.args.get("view_id") or f"V{sequence:04d}"
        return {
            **(view if isinstance(view, dict) else {}),
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": "A1",
            "bot_id": BOT_ID,
            "hash": f"{FIRST_TS_SECONDS}.hash{sequence:04d}",
            "root_view_id": view_id,
            "state": {"values": {}},
        }


# views.publish (https://docs.slack.dev/reference/methods/views.publish): a `user_id` and a `view`
# of type "home"; a view holds at most 100 blocks (https://docs.slack.dev/reference/views), each
# within its own limits (section text 3,000 characters, header 150, button label 75, value 2,000,
# action_id 255, 25 elements an actions block, 10 a context block: the block pages of
# https://docs.slack.dev/reference/block-kit/blocks), which slack_sdk's models check.
VIEW_BLOCKS = 100


def _publish_refusal(call: Call) -> str | None:
    """Slack's error for a views.publish it would refuse; None for one it accepts."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    view, user = call.arg("view"), call.args.get("user_id")
    if not isinstance(user, str) or not user:
        return "invalid_arguments"
    if not isinstance(view, dict) or view.get("type") != "home":
        return "invalid_arguments"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 0 < len(blocks) <= VIEW_BLOCKS:
        return "invalid_arguments"
    try:
        for block in blocks:
            parsed = Block.parse(block)
            if parsed is None or parsed.to_dict() != block:
                return "invalid_blocks"
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, KeyError):
        return "invalid_blocks"
    return None


def _message(call: Call, ts: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": call.args.get("text", ""),
        "ts": ts,
    }
    blocks = call.arg("blocks")
    if blocks is not None:
        message["blocks"] = blocks
    return message


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode("utf-8")


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """Decode a Web API body the way slack_sdk may have encoded it: JSON, form or multipart."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not raw:
        return {}
    if kind == "application/json":
        decoded = json.loads(raw.decode("utf-8"))
        return decoded if isinstance(decoded, dict) else {"_json": decoded}
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is None:
                fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8")
            else:
                fields[str(name)] = payload
        return fields
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/api/<method>``, ``/response_url/...`` and ``/upload/<file_id>`` to the double."""

    server_version = "SlackApiDouble/1.0"

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; calls are inspectable through the double instead."""

    def _dispatch(self) -> None:
        double: SlackApiDouble = self.server.double  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        content_type = headers.get("content-type", "")

        if len(segments) == 2 and segments[0] == "api":
            args = {**query, **_parse_body(content_type, raw)}
            status, extra, body = double._handle(segments[1], args, headers)
        elif segments and segments[0] == "response_url":
            args = _parse_body(content_type or "application/json", raw)
            args["_tag"] = segments[1] if len(segments) > 1 else "default"
            status, extra, body = double._handle("response_url", args, headers)
        elif len(segments) == 2 and segments[0] == "upload":
            status, extra, body = double._handle("upload", {"file_id": segments[1], "content": raw}, headers)
        else:
            status, extra, body = 404, {}, _json({"ok": False, "error": "unknown_path"})

        self.send_response(status)
        self.send_header("Content-Type", extra.pop("Content-Type", "application/json; charset=utf-8"))
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def running_double() -> Iterator[SlackApiDouble]:
    """Generator for a pytest fixture: ``slack_api = pytest.fixture(running_double)``."""
    with SlackApiDouble() as double:
        yield double
