"""A local double of Slack's Socket Mode WebSocket server, so `payouts socket` can run end to end offline.

Slack's side of Socket Mode is small: the app asks ``apps.connections.open`` (the Web API double
answers with ``SocketModeDouble.url``), opens a WebSocket to that URL, and Slack greets it with a
``hello`` message. Slack then pushes envelopes (``slash_commands``, ``interactive``,
``events_api``) as text frames; the app acknowledges each with ``{"envelope_id": ...}``, optionally
carrying a ``payload`` (a modal's ``response_action``). Ping and pong keep the link alive, and a
``disconnect`` message asks the app to reconnect elsewhere.

The double speaks just enough RFC 6455 for that, with the standard library only: the opening
handshake, unfragmented text frames both ways (the client's masked, ours not, as the RFC requires),
ping/pong and close. A client frame that is not masked is a protocol error: the connection is
closed with 1002 and the error kept for the test to see. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_TEXT = 0x1
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
MAX_HANDSHAKE_BYTES = 65536
APP_ID = "A1"


class ProtocolError(Exception):
    """The client broke RFC 6455 (an unmasked frame, a bad handshake)."""


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


class _Connection:
    """One accepted WebSocket: the handshake, then a reader thread that answers pings and closes."""

    def __init__(self, double: SocketModeDouble, sock: socket.socket, number: int) -> None:
        self.double = double
        self.sock = sock
        self.number = number
        self.path = ""
        self.open = False
        self._send_lock = threading.Lock()
        self._buffer = b""

    # -- reading -------------------------------------------------------------------------------

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the client closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _read_handshake(self) -> dict[str, str]:
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > MAX_HANDSHAKE_BYTES:
                raise ProtocolError("handshake request too long")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the client closed the connection during the handshake")
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, self.path, _ = (request_line.split(" ", 2) + ["", ""])[:3]
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if method != "GET" or headers.get("upgrade", "").lower() != "websocket":
            raise ProtocolError(f"not a WebSocket upgrade: {request_line!r}")
        if headers.get("sec-websocket-version") != "13" or not headers.get("sec-websocket-key"):
            raise ProtocolError("missing Sec-WebSocket-Key or version 13")
        return headers

    def _read_frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        opcode = first & 0x0F
        if not first & 0x80:
            raise ProtocolError("fragmented frames are not expected from the Socket Mode client")
        if not second & 0x80:
            raise ProtocolError("a client frame was not masked (RFC 6455 section 5.1)")
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        mask = self._read(4)
        masked = self._read(length)
        return opcode, bytes(byte ^ mask[i % 4] for i, byte in enumerate(masked))

    # -- writing -------------------------------------------------------------------------------

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """A single unmasked frame: servers never mask (RFC 6455 section 5.1)."""
        length = len(payload)
        if length <= 125:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length <= 0xFFFF:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._send_lock:
            self.sock.sendall(header + payload)

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_frame(OPCODE_TEXT, json.dumps(message).encode("utf-8"))

    def send_close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        with contextlib.suppress(OSError):  # the other side may be gone already
            self.send_frame(OPCODE_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))

    # -- life ----------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            headers = self._read_handshake()
            accept = base64.b64encode(
                hashlib.sha1((headers["sec-websocket-key"] + WEBSOCKET_GUID).encode("ascii")).digest()
            ).decode("ascii")
            with self._send_lock:
                self.sock.sendall(
                    (
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                    ).encode("ascii")
                )
            self.open = True
            self.double._opened(self)
            self.send_json(_hello(self.double.app_id))
            self._serve()
        except ProtocolError as error:
            self.double._protocol_error(str(error))
            self.send_close(CLOSE_PROTOCOL_ERROR, str(error)[:100])
        except OSError:
            pass  # the client went away (a stopped process) or the double is stopping
        finally:
            self.open = False
            self.double._closed(self)
            _shut(self.sock)

    def _serve(self) -> None:
        while True:
            opcode, payload = self._read_frame()
            if opcode == OPCODE_PING:
                self.double._pinged()
                self.send_frame(OPCODE_PONG, payload)
            elif opcode == OPCODE_TEXT:
                self.double._record(json.loads(payload.decode("utf-8")), self.number)
            elif opcode == OPCODE_CLOSE:
                self.send_close(CLOSE_NORMAL)
                return
            elif opcode != OPCODE_PONG:
                raise ProtocolError(f"unexpected opcode {opcode:#x}")


def _hello(app_id: str) -> dict[str, Any]:
    """What Slack sends first on every new Socket Mode connection."""
    return {
        "type": "hello",
        "num_connections": 1,
        "debug_info": {"host": "applink-double", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": app_id},
    }


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected any more
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


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
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._listener is not None:
            return self
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)  # so the accept loop notices stop() promptly
        self._listener = listener
        self._spawn(self._accept_loop, "socket-mode-double")
        return self

    def stop(self) -> None:
        """Close every connection (with a close frame) and the listening socket; join the threads."""
        self._stopping.set()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.send_close(CLOSE_NORMAL, "double stopping")
            _shut(connection.sock)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

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
        if self._listener is None:
            raise RuntimeError("SocketModeDouble is not started")
        port = self._listener.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=double-ticket&app_id={self.app_id}"

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        listener = self._listener
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                number = len(self._connections) + 1
                connection = _Connection(self, sock, number)
                self._connections.append(connection)
            self._spawn(connection.run, f"socket-mode-connection-{number}")

    # -- sending -------------------------------------------------------------------------------

    def send(self, envelope: dict[str, Any]) -> str:
        """Push an envelope to the newest open connection; it gets an envelope_id unless it has one."""
        envelope = {"envelope_id": f"envelope-{next(self._envelopes):04d}", **envelope}
        connection = self._newest_open()
        with self._lock:
            self._sent[envelope["envelope_id"]] = Sent(envelope["envelope_id"], time.monotonic())
        connection.send_json(envelope)
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
        self._newest_open().send_json({"type": "disconnect", "reason": reason,
                                       "debug_info": {"host": "applink-double"}})

    def drop(self, number: int) -> None:
        """Cut connection ``number`` (1 for the first accepted) without a close frame, as Slack
        retires a connection it asked the app to replace."""
        with self._lock:
            connection = self._connections[number - 1]
        _shut(connection.sock)

    def drop_all(self) -> None:
        """Cut every connection: a stopping app that waits on a quiet socket (slack_sdk reads with a
        3-second timeout) then finishes at once instead."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _shut(connection.sock)

    def _newest_open(self) -> _Connection:
        with self._lock:
            open_ones = [c for c in self._connections if c.open]
        if not open_ones:
            raise AssertionError("no Socket Mode connection is open")
        return open_ones[-1]

    # -- queries -------------------------------------------------------------------------------

    @property
    def connections_opened(self) -> int:
        """How many WebSocket handshakes succeeded so far."""
        with self._lock:
            return self._opened_count

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self._connections if c.open)

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

    def _opened(self, connection: _Connection) -> None:
        with self._lock:
            self._opened_count += 1
            self._lock.notify_all()

    def _closed(self, connection: _Connection) -> None:
        with self._lock:
            self._lock.notify_all()

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
