"""Build and sign the requests Slack sends to the bot, so tests exercise real signature checking.

Bolt's RequestVerification middleware rejects unsigned requests with 401; instead of turning it off,
tests sign bodies with the app's signing secret exactly as Slack does.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TEAM_ID = "T1"
TEAM_DOMAIN = "example"
API_APP_ID = "A1"
UNREACHABLE_RESPONSE_URL = "http://127.0.0.1:9/response_url/unused"

_trigger_sequence = itertools.count(1)


def _trigger_id() -> str:
    """A fresh trigger_id per request, as Slack issues one per user interaction."""
    return f"{next(_trigger_sequence)}.{TEAM_ID}.test-trigger"


def sign(
    body: str,
    secret: str,
    timestamp: int | None = None,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers Slack would send with ``body``; pass an old ``timestamp`` to test replay rejection."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    if signature is None:
        raise ValueError("could not sign the body")
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def command_body(
    command: str,
    text: str,
    user_id: str = "U_REQ",
    channel_id: str = "C_FIN",
    response_url: str = UNREACHABLE_RESPONSE_URL,
) -> str:
    """A form-encoded slash command payload; pass ``double.response_url()`` to record replies.

    The default ``response_url`` points at a closed port on 127.0.0.1, so a test that forgets to
    set it fails fast instead of reaching the internet.
    """
    return urlencode(
        {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": f"channel-{channel_id.lower()}",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": _trigger_id(),
        }
    )


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def block_action_body(
    action_id: str,
    value: str,
    user_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str,
    block_id: str = "actions",
    ephemeral: bool = False,
) -> str:
    """A form-encoded ``payload=`` for a button click on a bot message posted at ``message_ts``
    (with ``ephemeral``, on a message only the clicker sees, such as a `/payout status` reply)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "token": "verification-token",
        "api_app_id": API_APP_ID,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": _user(user_id),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel_id, "name": f"channel-{channel_id.lower()}"},
        "message": {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "text": "",
            "ts": message_ts,
            "blocks": [],
        },
        "state": {"values": {}},
        "trigger_id": _trigger_id(),
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "action_ts": f"{int(time.time())}.000001",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def _state_values(values: dict[str, Any]) -> dict[str, Any]:
    """Accept Slack-shaped state values, or plain strings as shorthand for text inputs."""
    state: dict[str, Any] = {}
    for block_id, actions in values.items():
        state[block_id] = {
            action_id: value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
            for action_id, value in actions.items()
        }
    return state


def view_submission_body(
    callback_id: str,
    values: dict[str, Any],
    user_id: str,
    private_metadata: str = "",
    view_id: str = "V_TEST",
) -> str:
    """A form-encoded ``payload=`` for a modal submission.

    ``values`` is ``view.state.values``: ``{block_id: {action_id: element_state}}``, where a plain
    string element_state stands for ``{"type": "plain_text_input", "value": ...}``.
    """
    payload: dict[str, Any] = {
        "type": "view_submission",
        "token": "verification-token",
        "api_app_id": API_APP_ID,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": _user(user_id),
        "trigger_id": _trigger_id(),
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "title": {"type": "plain_text", "text": "Test"},
            "blocks": [],
            "state": {"values": _state_values(values)},
            "hash": "1700000000.hash",
            "app_id": API_APP_ID,
            "bot_id": "BBOT",
            "root_view_id": view_id,
            "previous_view_id": None,
            "external_id": "",
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def post(url: str, body: str, headers: dict[str, str], timeout: float = 10) -> tuple[int, str]:
    """POST to a running HTTP server; HTTP errors come back as a status rather than an exception.

    Proxies from the environment are bypassed so requests to 127.0.0.1 stay local.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body.encode("utf-8"), headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def dispatch(app: App, body: str, headers: dict[str, str]) -> BoltResponse:
    """Run ``app`` in-process on a signed request, through all of its middleware."""
    request = BoltRequest(body=body, headers={k.lower(): v for k, v in headers.items()})
    return app.dispatch(request)


def home_opened_body(user_id: str, tab: str = "home") -> str:
    """A JSON ``event_callback`` of the ``app_home_opened`` event
    (https://docs.slack.dev/reference/events/app_home_opened); send it signed with content_type JSON."""
    now = int(time.time())
    return json.dumps({
        "token": "verification-token",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": {"type": "app_home_opened", "user": user_id, "channel": f"D_APP_{user_id}", "tab": tab,
                  "event_ts": f"{now}.000100"},
        "type": "event_callback",
        "event_id": f"Ev{next(_trigger_sequence):08d}",
        "event_time": now,
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True,
                            "is_enterprise_install": False}],
    })


def home_action_body(action_id: str, value: str, user_id: str, view_id: str = "V_HOME") -> str:
    """A button click on App Home: the container is the view; there is no channel, message or response_url."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "token": "verification-token",
        "api_app_id": API_APP_ID,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": _user(user_id),
        "container": {"type": "view", "view_id": view_id},
        "view": {"id": view_id, "type": "home", "team_id": TEAM_ID, "blocks": [], "private_metadata": "",
                 "callback_id": "", "state": {"values": {}}, "hash": "1700000000.hash", "app_id": API_APP_ID,
                 "bot_id": "BBOT"},
        "trigger_id": _trigger_id(),
        "actions": [{"type": "button", "action_id": action_id, "block_id": "home-decide-1", "value": value,
                     "text": {"type": "plain_text", "text": action_id, "emoji": True},
                     "action_ts": f"{int(time.time())}.000001"}],
    }
    return urlencode({"payload": json.dumps(payload)})
