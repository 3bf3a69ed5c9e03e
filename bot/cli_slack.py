"""`payouts serve` (the Slack app over HTTP, under gunicorn) and `payouts socket` (over Socket Mode)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.cli_usage import UsageProblem
from commands.context import Request

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.settings import SlackSettings
    from bot.slack.wsgi import WsgiApp
    from domain.db import Database
    from domain.settings import Settings

DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"
SOCKET_CLOSE_SECONDS = 5
STOP_POLL_SECONDS = 0.25

log = logging.getLogger(__name__)

# What apps.connections.open answers when SLACK_APP_TOKEN is wrong (a bot token there is not_allowed_token_type)
TOKEN_REFUSALS = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked",
                            "token_expired", "account_inactive"})


def _slack_settings(*, socket_mode: bool) -> SlackSettings:
    from bot.slack.settings import SlackSettings

    slack = SlackSettings.from_env()
    missing = slack.missing(socket_mode=socket_mode)
    if missing:
        raise UsageProblem(f"set {', '.join(missing)} in the environment to run the Slack app")
    return slack


def _check_token(slack: SlackSettings) -> None:
    """Bolt checks the token when it builds the app, inside each server worker, where a refused
    token is a traceback and a worker that will not boot; asking once up front names it instead."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.client import web_client

    try:
        web_client(slack).auth_test()
    except SlackApiError as error:
        raise UsageProblem(f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}); "
                           "copy the bot token from the app's OAuth & Permissions page") from None


def _port(args: argparse.Namespace) -> int:
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise UsageProblem(f"--port must be a port number (1-65535), not {args.port}")
        return int(args.port)
    raw = os.environ.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise UsageProblem(f"PORT must be a port number, not '{raw}'")
    return int(raw)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _cmd_serve(args: argparse.Namespace, request: Request) -> int:
    from bot.slack.app import build_app
    from bot.slack.server import serve
    from bot.slack.wsgi import wsgi_app
    from domain.db import Database

    slack = _slack_settings(socket_mode=False)
    port = _port(args)
    _check_token(slack)
    url, settings = request.db.url, request.settings
    request.db.dispose()  # each worker opens its own connections after the fork
    _logging()
    serve(lambda: _with_api(wsgi_app(build_app(slack, Database(url), settings), slack.signing_secret), Database(url), settings),
          port, host=args.host)
    return 0


def _with_api(slack_app: WsgiApp, db: Database, settings: Settings) -> WsgiApp:
    """The HTTP API (SPEC §11) under /api/, beside the Slack app; loaded here, inside the server only."""
    from bot.api.app import api_app, with_api

    return with_api(slack_app, api_app(db, settings))


def _connect(handler: SocketModeHandler) -> None:
    """A refused app token is a setting to fix, named as a refused bot token is, rather than a
    failure with Slack's raw answer; the half-started client is closed so no thread lingers."""
    from slack_sdk.errors import SlackApiError

    try:
        handler.connect()
    except SlackApiError as error:
        handler.close()
        code = error.response.get("error")
        if code not in TOKEN_REFUSALS:
            raise
        raise UsageProblem(f"Slack refused SLACK_APP_TOKEN ({code}); create an app-level token with the "
                           "connections:write scope on the app's Basic Information page") from None


def _stop_requested() -> threading.Event:
    """Set on SIGTERM (how platforms stop a worker) or Ctrl+C. Left to their defaults, the process
    died at once and dropped work Slack had been told was acknowledged; gunicorn stops `serve`
    gracefully, and this lets `socket` do the same."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def wait_until_stopped(stop: threading.Event) -> None:
    """Wait for `stop`, waking every STOP_POLL_SECONDS.

    Python runs a signal's handler in the main thread only, and Linux may deliver SIGTERM to any
    thread: one delivered to the Socket Mode client's threads left a main thread blocked in an
    untimed wait asleep for good, so the process ignored the stop. A timed wait wakes, runs the
    handler and sees the event set.
    """
    while not stop.wait(STOP_POLL_SECONDS):
        pass


def close_within(close: Callable[[], None], seconds: float) -> bool:
    """Run `close`, waiting at most `seconds`; whether it finished.

    Closing the Socket Mode client takes the lock its reading thread holds while it waits in recv():
    a connection dropped mid-read kept that thread, the close and so the whole process from stopping
    (the process ignored SIGTERM for good). The work already acknowledged is finished either way.
    """
    closing = threading.Thread(target=close, name="socket-close", daemon=True)
    closing.start()
    closing.join(seconds)
    if closing.is_alive():
        log.warning("the Socket Mode connection did not close within %s s; stopping without waiting for it", seconds)
        return False
    return True


def _cmd_socket(args: argparse.Namespace, request: Request) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient

    from bot.slack.app import create_app, create_runtime
    from bot.slack.client import retry_handlers
    from bot.slack.work import favour_acks

    slack = _slack_settings(socket_mode=True)
    _check_token(slack)
    _logging()
    runtime = create_runtime(slack, request.db, request.settings)
    connector = WebClient(base_url=slack.api_url, retry_handlers=retry_handlers())
    handler = SocketModeHandler(create_app(runtime), slack.app_token, web_client=connector)
    _connect(handler)
    favour_acks()
    stop = _stop_requested()
    log.info("connected over Socket Mode; SIGTERM or Ctrl+C stops after finishing the work in hand")
    wait_until_stopped(stop)
    close_within(handler.close, SOCKET_CLOSE_SECONDS)  # no further envelopes
    runtime.shutdown()  # finish what was acknowledged
    log.info("stopped")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the Slack app and the HTTP API: POST /slack/events, /api/v1/…, GET /healthz")
    serve.add_argument("--port", type=int, metavar="P", help=f"port to listen on (default: PORT, else {DEFAULT_PORT})")
    serve.add_argument("--host", default=DEFAULT_HOST, metavar="ADDRESS",
                       help=f"address to listen on (default: {DEFAULT_HOST}, every interface, as platforms expect)")
    serve.set_defaults(handler=_cmd_serve, runs_on=True)
    socket = sub.add_parser("socket", help="run the Slack app over Socket Mode (needs SLACK_APP_TOKEN)")
    socket.set_defaults(handler=_cmd_socket, runs_on=True)
