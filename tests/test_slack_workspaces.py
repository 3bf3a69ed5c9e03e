"""Requests shaped as Slack sends them from real workspaces, replayed against the real Bolt app and a
Web API double that refuses what Slack refuses (SPEC §8): who may do it, where the reply and every
file arrive, and that nothing is lost.

The payloads keep the field sets of Slack's own examples and of slackapi/bolt-python's scenario
tests (tests/scenario_tests/test_block_actions.py: an Enterprise Grid click by `W111` with
`team.enterprise_id` and `container.is_ephemeral`; test_view_submission.py: `user.team_id`,
`view.app_installed_team_id`, `response_urls`; test_events_org_apps.py: org-wide installs, where
`team` is null and auth.test has `enterprise_id` and `is_enterprise_install`). Slash commands carry
`channel_name` `directmessage` or `privategroup` where the bot cannot see the channel, and
`enterprise_id`/`enterprise_name` on Enterprise Grid (https://docs.slack.dev/interactivity/implementing-slash-commands).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from slack_bolt import App
from sqlalchemy import func, select

from bot.slack.app import create_app, create_runtime
from bot.slack.client import web_client
from bot.slack.settings import SlackSettings
from commands.chat_payout_views import APPROVE, PRINT, REQUEST_FORM, START
from commands.ledger_views import CSV_ACTION
from domain import reminders
from domain.models import Batch
from tests.factories import add_entry, add_partner
from tests.slack_double import SlackApiDouble, running_double
from tests.slack_signing import dispatch, sign
from tests.test_slack_payloads import check_call

SECRET = "workspace-signing-secret"
HOME = "T_HOME"
ORG = "E_ORG"
APPROVALS = "C_APPROVE"
JUNE = "2015-06-01..2015-06-30"
ORG_WIDE_AUTH = {"url": "https://org.enterprise.slack.com/", "team": None, "team_id": None, "user": "payouts",
                 "user_id": "U_BOT", "bot_id": "B_BOT", "enterprise_id": ORG, "is_enterprise_install": True}

double = pytest.fixture(running_double)
_sequence = itertools.count(1)


@pytest.fixture
def ledger(sqlite_db):
    with sqlite_db.write() as s:
        add_entry(s, add_partner(s, "ANN", "Ann"), "commission", 10_000, "2015-06-10")
    return sqlite_db


@pytest.fixture
def make_app(double: SlackApiDouble, ledger, settings) -> Iterator:
    """An app for the single workspace T_HOME; the bot is in C_FIN and C_APPROVE, C_PUBLIC is public."""
    runtimes = []
    double.auth = {**double.auth, "team_id": HOME}
    double.channels(joined={"C_FIN", APPROVALS}, public={"C_FIN", APPROVALS, "C_PUBLIC"})

    def make(**overrides: Any) -> App:
        values: dict[str, Any] = dict(bot_token="xoxb-test", signing_secret=SECRET, api_url=double.base_url,
                                      approvers=("U_BOSS",), requesters=("U_REQ",), approval_channel=APPROVALS)
        values.update(overrides)
        slack = SlackSettings(**values)
        runtimes.append(create_runtime(slack, ledger, settings, client=web_client(slack)))
        return create_app(runtimes[-1])

    yield make
    for runtime in runtimes:
        runtime.shutdown()
    for call in double.calls():
        check_call(call)


def url(double: SlackApiDouble) -> str:
    """A fresh response_url, as Slack issues one per command and per click."""
    return double.response_url(f"r{next(_sequence)}")


def trigger() -> str:
    return f"{next(_sequence)}.{HOME}.trigger"


def slash(app: App, double: SlackApiDouble, command: str, text: str, *, headers: dict[str, str] | None = None,
          **shape: Any) -> Any:
    body = slash_body(double, command, text, **shape)
    return dispatch(app, body, {**sign(body, SECRET), **(headers or {})})


def slash_body(double: SlackApiDouble, command: str, text: str, *, user: str = "U_REQ", channel: str = "C_FIN",
               channel_name: str = "finance", team: str = HOME, enterprise: str | None = None) -> str:
    fields = {
        "token": "verification-token", "team_id": team, "team_domain": "home", "channel_id": channel,
        "channel_name": channel_name, "user_id": user, "user_name": user.lower(), "command": command, "text": text,
        "api_app_id": "A_APP", "is_enterprise_install": "false", "response_url": url(double),
        "trigger_id": trigger(),
    }
    if enterprise:
        fields.update(enterprise_id=enterprise, enterprise_name="Sandbox Org")
    return urlencode(fields)


def click(app: App, double: SlackApiDouble, action: str, value: str, *, user: str = "U_REQ", channel: str = "C_FIN",
          channel_name: str = "finance", team: dict[str, Any] | None = None, user_team: str = HOME,
          enterprise: dict[str, Any] | None = None, ephemeral: bool = False, message_ts: str = "1700000000.000001",
          response_url: str | None = None) -> Any:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": user_team},
        "api_app_id": "A_APP", "token": "verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": trigger(),
        "team": {"id": HOME, "domain": "home"} if team is None else team,
        "enterprise": enterprise,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "response_url": response_url or url(double),
        "actions": [{"action_id": action, "block_id": "actions", "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": action, "emoji": True}, "action_ts": "1596530385.194939"}],
    }
    body = f"payload={quote(json.dumps(payload))}"
    return dispatch(app, body, sign(body, SECRET))


def submit(app: App, values: dict[str, str], *, user: str = "U_REQ", channel: str = "C_FIN",
           team: dict[str, Any] | None = None, user_team: str = HOME, enterprise: dict[str, Any] | None = None) -> Any:
    payload = {
        "type": "view_submission",
        "team": {"id": HOME, "domain": "home"} if team is None else team,
        "enterprise": enterprise,
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": user_team},
        "api_app_id": "A_APP", "token": "verification-token", "trigger_id": trigger(),
        "view": {
            "id": "V111", "team_id": user_team, "type": "modal", "blocks": [], "callback_id": REQUEST_FORM,
            "private_metadata": json.dumps({"context": "", "channel": channel}),
            "state": {"values": {name: {"value": {"type": "plain_text_input", "value": value}}
                                 for name, value in values.items()}},
            "hash": "1596530361.3wRYuk3R", "title": {"type": "plain_text", "text": "Create payments"},
            "previous_view_id": None, "root_view_id": "V111", "app_id": "A_APP", "external_id": "",
            "app_installed_team_id": user_team, "bot_id": "B_BOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }
    body = f"payload={quote(json.dumps(payload))}"
    return dispatch(app, body, sign(body, SECRET))


def june_form() -> dict[str, str]:
    return {"range": JUNE, "method": "ending-balance", "type": "Check", "batch": "B-JUNE", "date": "2015-07-01",
            "min": "", "overlap": "no"}


def texts(double: SlackApiDouble) -> list[str]:
    return [str(c.args.get("text", "")) for c in double.calls() if c.method in ("chat.postMessage", "response_url",
                                                                                 "chat.postEphemeral")]


def batches(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Batch.id)))


def settle(seconds: float = 0.4) -> None:
    """Time for background work that must do nothing to show that it did nothing."""
    time.sleep(seconds)


# ---- a batch requested from a direct message between people -------------------------------------


def test_payout_in_a_direct_message_opens_the_form_and_the_requester_hears_back_in_their_dm(make_app, double, ledger):
    app = make_app()

    slash(app, double, "/payout", "last-month", channel="D_PEOPLE", channel_name="directmessage")
    [opened] = double.wait_for("views.open")
    assert json.loads(opened.arg("view")["private_metadata"])["channel"] == "D_PEOPLE"
    assert submit(app, june_form(), channel="D_PEOPLE").status == 200

    [confirmation] = double.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == "D_APP_U_REQ")
    assert "B-JUNE submitted for approval" in confirmation.args["text"]
    [ask] = double.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == APPROVALS)
    assert batches(ledger) == 1 and not any("could not be delivered" in t for t in texts(double))


def test_the_decision_the_payout_csv_and_the_print_button_reach_a_dm_requester(make_app, double, ledger):
    app = make_app()
    submit(app, june_form(), channel="D_PEOPLE")
    [ask] = double.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == APPROVALS)

    click(app, double, APPROVE, "B-JUNE", user="U_BOSS", channel=APPROVALS, message_ts=ask.args.get("ts") or "1.1")

    notices = double.wait_for("chat.postMessage", 2, predicate=lambda c: c.args["channel"] == "D_APP_U_REQ")
    decision = notices[-1]
    assert "approved by U_BOSS" in decision.args["text"]
    assert PRINT in json.dumps(decision.arg("blocks"))
    deadline = time.monotonic() + 5
    while not double.uploaded_files() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [(f["filename"], f["channel_id"]) for f in double.uploaded_files()] == [("B-JUNE-payouts.csv", "D_APP_U_REQ")]
    assert not any("could not be delivered" in t for t in texts(double))


# ---- files where the bot cannot post ----------------------------------------------------------


def test_ledger_csv_in_a_private_channel_without_the_bot_goes_to_the_dm_with_an_invite_hint(make_app, double):
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06 csv", user="U_ANY", channel="G_SECRET", channel_name="privategroup")

    [note] = double.wait_for("response_url", predicate=lambda c: "/invite" in str(c.args.get("text")), timeout=10)
    assert "direct message" in note.args["text"]
    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U_ANY"]


def test_ledger_csv_in_a_public_channel_the_bot_has_not_joined_joins_it_and_attaches_the_file(make_app, double):
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06 csv", user="U_ANY", channel="C_PUBLIC", channel_name="general")

    double.wait_for("conversations.join", timeout=10)
    double.wait_for("files.completeUploadExternal", predicate=lambda c: c.error is None, timeout=10)
    assert [f["channel_id"] for f in double.uploaded_files()] == ["C_PUBLIC"]


def test_a_csv_click_older_than_30_minutes_in_a_direct_message_reaches_the_person(make_app, double, caplog):
    app = make_app(viewers=("*",))
    expired = url(double)
    double.expire_response_url(expired.rsplit("/", 1)[1])

    click(app, double, CSV_ACTION, JUNE, user="U_ANY", channel="D_PEOPLE", channel_name="directmessage",
          ephemeral=True, response_url=expired)

    [posted] = double.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == "D_APP_U_ANY", timeout=10)
    assert "attached as CSV" in posted.args["text"]
    double.wait_for("files.completeUploadExternal", predicate=lambda c: c.error is None, timeout=10)
    assert [f["channel_id"] for f in double.uploaded_files()] == ["D_APP_U_ANY"]
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


# ---- outsiders, Enterprise Grid and Slack Connect -----------------------------------------------


def test_a_slack_connect_user_from_another_organisation_is_refused_the_csv(make_app, double):
    app = make_app(viewers=("*",), requesters=("*",))

    click(app, double, CSV_ACTION, JUNE, user="U_EXT", user_team="T_OTHER_ORG",
          team={"id": "T_OTHER_ORG", "domain": "partner-co"})

    [refusal] = double.wait_for("response_url")
    assert refusal.args["response_type"] == "ephemeral" and "another organisation" in refusal.args["text"]
    settle()
    assert double.uploaded_files() == [] and double.calls("chat.postMessage") == []


def test_an_org_wide_install_admits_a_member_of_any_of_its_workspaces(make_app, double):
    """Org-wide install: auth.test has enterprise_id and no team; the click has team null, a W user."""
    double.auth = {**ORG_WIDE_AUTH}  # before the app is built: Bolt calls auth.test then
    app = make_app(viewers=("*",))

    click(app, double, CSV_ACTION, JUNE, user="W111", user_team="T_SECOND_WORKSPACE", team=None,
          enterprise={"id": ORG, "name": "Sandbox Org"})

    double.wait_for("files.completeUploadExternal", predicate=lambda c: c.error is None, timeout=10)
    assert [f["channel_id"] for f in double.uploaded_files()] == ["C_FIN"]


def test_an_org_wide_install_refuses_a_user_of_another_organisation(make_app, double):
    double.auth = {**ORG_WIDE_AUTH}  # before the app is built: Bolt calls auth.test then
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06", user="W_EXT", team="T_ELSEWHERE", enterprise="E_ELSEWHERE")

    [refusal] = double.wait_for("response_url")
    assert "another organisation" in refusal.args["text"]


def test_a_grid_slash_command_from_the_apps_own_organisation_is_answered(make_app, double):
    double.auth = {**ORG_WIDE_AUTH}  # before the app is built: Bolt calls auth.test then
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06", user="W222", team="T_SECOND_WORKSPACE", enterprise=ORG)

    [summary] = double.wait_for("chat.postMessage", timeout=10)
    assert summary.args["channel"] == "C_FIN" and "2015-06-01..2015-06-30" in summary.args["text"]


# ---- deny by default ------------------------------------------------------------------------------


def test_with_only_approvers_set_a_non_approvers_ledger_is_refused_privately_naming_the_setting(make_app, double):
    app = make_app(requesters=())

    slash(app, double, "/ledger", "2015-06", user="U_FIN")

    [refusal] = double.wait_for("response_url")
    assert refusal.args["response_type"] == "ephemeral"
    assert "viewer role" in refusal.args["text"] and "LEDGER_VIEWERS" in refusal.args["text"]
    assert double.calls("chat.postMessage") == []


def test_with_only_approvers_set_a_non_approvers_click_is_refused_privately(make_app, double):
    app = make_app(requesters=())

    click(app, double, START, JUNE, user="U_FIN")

    [refusal] = double.wait_for("response_url")
    assert refusal.args["response_type"] == "ephemeral" and "PAYOUT_REQUESTERS" in refusal.args["text"]
    assert double.calls("views.open") == []


def test_with_only_approvers_set_a_non_approvers_form_is_refused_privately_and_nothing_is_created(
        make_app, double, ledger):
    app = make_app(requesters=())

    assert submit(app, june_form(), user="U_FIN").status == 200

    [refusal] = double.wait_for("chat.postEphemeral")
    assert refusal.args["user"] == "U_FIN" and "PAYOUT_REQUESTERS" in refusal.args["text"]
    assert batches(ledger) == 0


def test_star_admits_the_workspace_to_the_ledger(make_app, double):
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06", user="U_ANYONE")

    double.wait_for("chat.postMessage", timeout=10)


# ---- LEDGER_CHANNELS on every way in ------------------------------------------------------------


def test_a_create_payments_button_left_in_a_removed_channel_opens_nothing(make_app, double):
    app = make_app(ledger_channels=("C_FIN",))

    click(app, double, START, JUNE, user="U_BOSS", channel="C_OLD")

    [refusal] = double.wait_for("response_url")
    assert "LEDGER_CHANNELS" in refusal.args["text"]
    settle()
    assert double.calls("views.open") == []


def test_a_form_submitted_from_a_removed_channel_creates_no_batch_and_posts_nothing_there(make_app, double, ledger):
    app = make_app(ledger_channels=("C_FIN",))

    submit(app, june_form(), user="U_BOSS", channel="C_OLD")

    [refusal] = double.wait_for("chat.postMessage")
    assert refusal.args["channel"] == "D_APP_U_BOSS" and "LEDGER_CHANNELS" in refusal.args["text"]
    settle()
    assert batches(ledger) == 0 and [c.args["channel"] for c in double.calls("chat.postMessage")] == ["D_APP_U_BOSS"]


# ---- retries ---------------------------------------------------------------------------------------


def test_a_retried_reminder_command_adds_one_schedule(make_app, double, ledger):
    """SPEC §8: a request Slack retries (X-Slack-Retry-Num) is acknowledged and not processed again."""
    app = make_app()
    body = slash_body(double, "/payout", "remind add monthly 1 09:00 C0123ABCD")

    first = dispatch(app, body, sign(body, SECRET))
    retry = dispatch(app, body, {**sign(body, SECRET), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})

    assert (first.status, retry.status) == (200, 200)
    double.wait_for("chat.postMessage")
    settle()
    with ledger.read() as s:
        assert len(reminders.active_schedules(s)) == 1
    assert len(double.calls("chat.postMessage")) == 1 and double.calls("response_url") == []


def test_a_retry_whose_first_delivery_never_arrived_is_done(make_app, double):
    app = make_app(viewers=("*",))

    slash(app, double, "/ledger", "2015-06", user="U_ANY", headers={"X-Slack-Retry-Num": "1"})

    double.wait_for("chat.postMessage", timeout=10)
