"""The app manifest and Procfile at the repository root create and run the app as SPEC §6 and §8 say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "fixtures" / "slack-manifest.schema.1.0.0.json"
CALLING_CODE = [*sorted((ROOT / "bot" / "slack").rglob("*.py")), ROOT / "bot" / "cli_slack.py", ROOT / "bot" / "clock.py"]
WEB_API_CALL = re.compile(r"\.((?:auth|apps|chat|conversations|files|team|usergroups|users|views)_[A-Za-z0-9_]+)\(")

# The bot scopes each Web API method needs, from its page in Slack's method reference
# (https://docs.slack.dev/reference/methods/<method>); none: the method needs no scope.
# conversations.info needs channels:read for public channels and groups:read for private ones.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.open": ("im:write",),
    "conversations.join": ("channels:join",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "usergroups.users.list": ("usergroups:read",),
    "views.open": (),
    "views.publish": (),
}
# Scopes no method call shows: slash commands, and posting in public channels the bot has not joined.
SCOPES_WITHOUT_CALLS = {"commands", "chat:write.public"}
# slack_sdk helpers that call several methods (slack_sdk/web/client.py, files_upload_v2)
HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}


def manifest_text() -> str:
    return (ROOT / "manifest.yml").read_text(encoding="utf-8")


def manifest() -> dict:
    return yaml.safe_load(manifest_text())


def methods_called() -> set[str]:
    """Every Web API method the app's Slack code calls, from slack_sdk's method names in the source."""
    found: set[str] = set()
    for path in CALLING_CODE:
        for name in WEB_API_CALL.findall(path.read_text(encoding="utf-8")):
            found.update(HELPERS.get(name) or (_method_name(name),))
    return found


def _method_name(sdk_name: str) -> str:
    """slack_sdk's chat_postMessage is chat.postMessage; usergroups_users_list is usergroups.users.list."""
    return sdk_name.replace("_", ".")


def test_the_manifest_validates_against_slacks_manifest_schema() -> None:
    """The schema is slackapi/manifest-schema's (tests/fixtures/README.md says which commit)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    jsonschema.validate(manifest(), schema)


def test_the_schema_refuses_a_manifest_slack_would_refuse() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = manifest()
    broken["features"]["app_home"]["messages_tab"] = True

    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_every_web_api_method_the_code_calls_is_covered_by_a_scope_the_manifest_asks_for() -> None:
    called = methods_called()
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])

    assert called >= {"chat.postMessage", "conversations.open", "conversations.join", "files.completeUploadExternal"}
    assert called <= set(METHOD_SCOPES), f"state the scope of {sorted(called - set(METHOD_SCOPES))}"
    assert {scope for method in called for scope in METHOD_SCOPES[method]} <= scopes


def test_the_manifest_asks_for_no_scope_the_code_does_not_use() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    used = {scope for method in methods_called() for scope in METHOD_SCOPES[method]} | SCOPES_WITHOUT_CALLS

    assert scopes <= used, f"unused: {sorted(scopes - used)}"
    assert "users:read" not in scopes


def test_the_app_home_messages_tab_is_on_so_direct_messages_reach_people() -> None:
    app_home = manifest()["features"]["app_home"]

    assert app_home["messages_tab_enabled"] is True and app_home["messages_tab_read_only_enabled"] is False


def test_manifest_creates_both_slash_commands() -> None:
    assert [c["command"] for c in manifest()["features"]["slash_commands"]] == ["/ledger", "/payout"]


def test_manifest_turns_interactivity_on() -> None:
    interactivity = manifest()["settings"]["interactivity"]

    assert interactivity["is_enabled"] is True and interactivity["request_url"].endswith("/slack/events")


def test_procfile_runs_web_worker_clock_and_release() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()

    assert lines == ["web: payouts serve", "worker: payouts socket", "clock: payouts clock", "release: payouts init"]
