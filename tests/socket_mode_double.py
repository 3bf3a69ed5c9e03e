"""A local double of Slack's Socket Mode WebSocket server, so `payouts socket` can run end to end offline.

Slack's side of Socket Mode is small: the app asks ``apps.connections.open`` (the Web API double
answers with ``SocketModeDouble.url``), opens a WebSocket to that URL, and Slack greets it with a
``hello`` message. Slack then pushes envelopes (``slash_commands``, ``interactive``,
``events_api``) as text frames; the app acknowledges each with ``{"envelope_id": ...}``, optionally
carrying a ``payload`` (a modal's ``response_action``). Ping and pong keep the link alive, and a
``disconnect`` message asks the app to reconnect elsewhere.

The WebSocket protocol itself (RFC 6455: the opening handshake, framing, masking, ping/pong, the
closing handshake) is the ``websockets`` library's threaded server, a well-kept implementation of
the protocol; this double keeps only Slack's part on top of it. The library answers pings with
pongs (the double counts them) and refuses a client frame that breaks the protocol, such as one
that is not masked (RFC 6455 section 5.1), by closing with 1002; the double records every close
with an error code, from either side, in ``protocol_errors`` for the test to see. It listens on
127.0.0.1 only, without compression or keepalive pings of its own, and closes its connections
with 1000 when it stops.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.protocol import State
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "A1"
CLOSE_TIMEOUT = 2.0  # seconds a stopping double waits for a client to answer its close frame
NORMAL_CLOSES = (CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY)


@dataclass(frozen=True)
class Received:
    """A text frame the app sent, decoded from JSON, and when it arrived (time.monotonic())."""

    message: dict[str, Any]
    at: float
    connection: int


@dataclass(frozen=True)
class Sent:
    envelope_id: str
    at: float


class _Connection(ServerConnection):
    """websockets' server connection, telling the double of each ping the app sends (the library
    answers it with a pong itself). ``process_event`` sees every frame received; the docs do not
    promise it, hence websockets pinned to one major version in pyproject.toml."""

    def __init__(self, *args: Any, double: SocketModeDouble, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.double = double
        self.number = 0

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.double._pinged()
        super().process_event(event)


def _hello(app_id: str) -> dict[str, Any]:
    """What Slack sends first on every new Socket Mode connection."""
    return {
        "type": "hello",
        "num_connections": 1,
        "debug_info": {"host": "applink-double", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": app_id},
    }


def _error_close(closed: ConnectionClosed) -> str | None:
    """What went wrong, when a close frame either side sent carries an error code."""
    frames: list[tuple[str, Close | None]] = [("the client closed", closed.rcvd), ("the double closed", closed.sent)]
    if closed.rcvd_then_sent is False:
        frames.reverse()
    for who, frame in frames:
        if frame is not None and frame.code not in NORMAL_CLOSES:
            return f"{who} with {frame.code}: {frame.reason}"
    return None


def _cut(connection: ServerConnection) -> None:
    """End the TCP connection without a close frame."""
    with contextlib.suppress(OSError):  # closed already
        connection.socket.shutdown(socket.SHUT_RDWR)


class SocketModeDouble:
    """Accepts Socket Mode connections, pushes envelopes to the newest one and records what comes back.

    ``send_*`` return the envelope ID; ``wait_for_ack(envelope_id)`` blocks until the app
    acknowledged it and returns the acknowledgement (with ``payload`` when the app answered in it).
    """

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self._lock = threading.Condition()
        self._connections: list[_Connection] = []
        self._opened_count = 0
        self._received: list[Received] = []
        self._sent: dict[str, Sent] = {}
        self._errors: list[str] = []
        self._pings = 0
        self._envelopes = itertools.count(1)
        self._server: Server | None = None
        self._serving: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._server = serve(
            self._serve, "127.0.0.1", 0,
            compression=None, ping_interval=None, close_timeout=CLOSE_TIMEOUT,
            create_connection=functools.partial(_Connection, double=self),
        )
        self._serving = threading.Thread(target=self._server.serve_forever, name="socket-mode-double", daemon=True)
        self._serving.start()
        return self

    def stop(self) -> None:
        """Close every connection with 1000 and the listening socket; wait for the connection threads."""
        if self._server is None:
            return
        self._server.shutdown(code=CloseCode.NORMAL_CLOSURE, reason="double stopping")
        assert self._serving is not None
        self._serving.join(timeout=5)
        self._server = self._serving = None

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
    def url(self) -> str:
        """What ``apps.connections.open`` answers: a ws:// URL on this double."""
        if self._server is None:
            raise RuntimeError("SocketModeDouble is not started")
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=double-ticket&app_id={self.app_id}"

    def _serve(self, connection: ServerConnection) -> None:
        """One connection, after the opening handshake: hello, then every text frame recorded until it closes."""
        assert isinstance(connection, _Connection)
        try:
            connection.send(json.dumps(_hello(self.app_id)))
            with self._lock:
                self._connections.append(connection)
                connection.number = len(self._connections)
                self._opened_count += 1
                self._lock.notify_all()
            for message in connection:
                self._record(json.loads(message), connection.number)
        except ConnectionClosed as closed:
            error = _error_close(closed)
            if error is not None:
                self._protocol_error(error)
        finally:
            with self._lock:
                self._lock.notify_all()

    # -- sending -------------------------------------------------------------------------------

    def send(self, envelope: dict[str, Any]) -> str:
        """Push an envelope to the newest open connection; it gets an envelope_id unless it has one."""
        envelope = {"envelope_id": f"envelope-{next(self._envelopes):04d}", **envelope}
        connection = self._newest_open()
        with self._lock:
            self._sent[envelope["envelope_id"]] = Sent(envelope["envelope_id"], time.monotonic())
        connection.send(json.dumps(envelope))
        return str(envelope["envelope_id"])

    def send_slash_command(self, payload: dict[str, Any]) -> str:
        return self.send({"type": "slash_commands", "accepts_response_payload": True, "payload": payload})

    def send_interactive(self, payload: dict[str, Any]) -> str:
        """A button click (block_actions) or a modal submission (view_submission, which may be
        answered in the acknowledgement, hence accepts_response_payload)."""
        accepts = payload.get("type") == "view_submission"
        return self.send({"type": "interactive", "accepts_response_payload": accepts, "payload": payload})

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """What Slack sends before it retires a connection (every few hours): the app must reconnect."""
        self._newest_open().send(json.dumps({"type": "disconnect", "reason": reason,
                                             "debug_info": {"host": "applink-double"}}))

    def drop(self, number: int) -> None:
        """Cut connection ``number`` (1 for the first accepted) without a close frame, as Slack
        retires a connection it asked the app to replace."""
        with self._lock:
            connection = self._connections[number - 1]
        _cut(connection)

    def drop_all(self) -> None:
        """Cut every connection: a stopping app that waits on a quiet socket (slack_sdk reads with a
        3-second timeout) then finishes at once instead."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _cut(connection)

    def _newest_open(self) -> _Connection:
        with self._lock:
            open_ones = [c for c in self._connections if c.state is State.OPEN]
        if not open_ones:
            raise AssertionError("no Socket Mode connection is open")
        return open_ones[-1]

    # -- queries -------------------------------------------------------------------------------

    @property
    def connections_opened(self) -> int:
        """How many connections completed the opening handshake and were greeted so far."""
        with self._lock:
            return self._opened_count

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self._connections if c.state is State.OPEN)

    @property
    def pings(self) -> int:
        with self._lock:
            return self._pings

    @property
    def protocol_errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_until(self, condition: Any, timeout: float = 10.0, what: str = "the condition") -> None:
        """Block until ``condition()`` holds (checked whenever the double hears something)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                self._lock.wait(min(remaining, 0.1))

    def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> None:
        self.wait_until(lambda: self._opened_count >= count, timeout, f"{count} Socket Mode connection(s)")

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The app's acknowledgement of ``envelope_id``."""
        self.wait_until(lambda: self._ack(envelope_id) is not None, timeout, f"the ack of {envelope_id}")
        found = self._ack(envelope_id)
        assert found is not None
        return found.message

    def ack_seconds(self, envelope_id: str) -> float:
        """How long the app took to acknowledge ``envelope_id`` (it must be acknowledged already)."""
        with self._lock:
            found, sent = self._ack(envelope_id), self._sent[envelope_id]
        assert found is not None, f"{envelope_id} was not acknowledged"
        return found.at - sent.at

    def _ack(self, envelope_id: str) -> Received | None:
        with self._lock:
            return next((r for r in self._received if r.message.get("envelope_id") == envelope_id), None)

    # -- called from connection threads --------------------------------------------------------

    def _record(self, message: dict[str, Any], connection: int) -> None:
        with self._lock:
            self._received.append(Received(message, time.monotonic(), connection))
            self._lock.notify_all()

    def _pinged(self) -> None:
        with self._lock:
            self._pings += 1
            self._lock.notify_all()

    def _protocol_error(self, error: str) -> None:
        with self._lock:
            self._errors.append(error)
            self._lock.notify_all()
