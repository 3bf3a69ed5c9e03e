"""gunicorn, embedded: `payouts serve` runs the WSGI app under a production server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.slack.work import favour_acks
from bot.slack.wsgi import WsgiApp

THREADS = 16


class _Server(BaseApplication):  # type: ignore[misc]
    """Builds the app in each worker after the fork, so no worker inherits another's connections."""

    def __init__(self, factory: Callable[[], WsgiApp], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        favour_acks()
        return self._factory()


def serve(factory: Callable[[], WsgiApp], port: int, *, host: str = "0.0.0.0") -> None:
    """Serve until stopped. Workers: WEB_CONCURRENCY (gunicorn's own variable), default 1."""
    _Server(factory, {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": 60,
        "graceful_timeout": 30,
        "errorlog": "-",
    }).run()
