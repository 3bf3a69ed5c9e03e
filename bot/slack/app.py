"""The Bolt app: built from the settings, with every listener registered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.approvers import ApproverDirectory
from bot.slack.client import web_client
from bot.slack.listeners import register_listeners
from bot.slack.retries import RetryFilter
from bot.slack.routing import ReplyRouter
from bot.slack.runtime import SlackRuntime
from bot.slack.settings import SlackSettings
from bot.slack.work import DEFAULT_WORKERS, WorkQueue
from domain.db import Database
from domain.settings import Settings

ACK_THREADS = 32  # Bolt's own pool only runs acks, which are quick; the work queues do the rest


def create_runtime(slack: SlackSettings, db: Database, settings: Settings, *, client: WebClient | None = None,
                   workers: int = DEFAULT_WORKERS) -> SlackRuntime:
    client = client or web_client(slack)
    return SlackRuntime(
        slack=slack, db=db, settings=settings, client=client,
        directory=ApproverDirectory(client, slack.approvers),
        members=ApproverDirectory(client, slack.roles().groups()),
        router=ReplyRouter(client, slack, db),
        reports=WorkQueue(workers, "slack-reports"),
        interactions=WorkQueue(workers, "slack-interactions"),
    )


def build_app(slack: SlackSettings, db: Database, settings: Settings, *, client: WebClient | None = None,
              workers: int = DEFAULT_WORKERS) -> App:
    return create_app(create_runtime(slack, db, settings, client=client, workers=workers))


def create_app(runtime: SlackRuntime) -> App:
    app = App(
        client=runtime.client,
        signing_secret=runtime.slack.signing_secret,
        listener_executor=ThreadPoolExecutor(max_workers=ACK_THREADS, thread_name_prefix="slack-ack"),
    )
    app.use(RetryFilter().middleware)
    register_listeners(app, runtime)
    return app
