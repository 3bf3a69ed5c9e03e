"""The app manifest and Procfile at the repository root create and run the app as SPEC §6 says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manifest() -> str:
    return (ROOT / "manifest.yml").read_text(encoding="utf-8")


def test_manifest_creates_both_slash_commands() -> None:
    assert re.findall(r"- command: (/\w+)", manifest()) == ["/ledger", "/payout"]


def test_manifest_turns_interactivity_on() -> None:
    assert re.search(r"interactivity:\n\s+is_enabled: true\n\s+request_url: \S+/slack/events", manifest())


def test_manifest_asks_for_the_scopes_the_app_uses() -> None:
    scopes = set(re.findall(r"^\s+- ([a-z.]+:[a-z.]+|commands)$", manifest(), re.MULTILINE))

    assert scopes >= {"commands", "chat:write", "files:write", "usergroups:read", "users:read"}


def test_procfile_runs_web_worker_clock_and_release() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()

    assert lines == ["web: payouts serve", "worker: payouts socket", "clock: payouts clock", "release: payouts init"]
