"""Approvers are the listed user IDs plus the members of the listed user groups, read briefly cached."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack.approvers import ApproverDirectory
from bot.slack.client import web_client
from bot.slack.settings import SlackSettings
from tests.slack_double import SlackApiDouble, running_double

double = pytest.fixture(running_double)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(double: SlackApiDouble) -> WebClient:
    return web_client(SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=double.base_url))


def test_listed_users_approve_without_asking_slack(double, client) -> None:
    assert ApproverDirectory(client, ("U1", "U2")).approvers() == {"U1", "U2"}
    assert double.calls() == []


def test_user_group_members_are_approvers(double, client) -> None:
    double.usergroups = {"S1": ["U7", "U8"]}

    assert ApproverDirectory(client, ("U1", "S1")).approvers() == {"U1", "U7", "U8"}


def test_group_members_are_cached_for_the_ttl(double, client) -> None:
    double.usergroups = {"S1": ["U7"]}
    clock = FakeClock()
    directory = ApproverDirectory(client, ("S1",), ttl=60, clock=clock)
    directory.approvers()

    double.usergroups = {"S1": ["U9"]}
    clock.now += 59
    assert directory.approvers() == {"U7"}
    clock.now += 2
    assert directory.approvers() == {"U9"}
    assert len(double.calls("usergroups.users.list")) == 2


def test_an_unreadable_group_keeps_its_last_known_members(double, client) -> None:
    double.usergroups = {"S1": ["U7"]}
    clock = FakeClock()
    directory = ApproverDirectory(client, ("S1",), ttl=60, clock=clock)
    directory.approvers()
    double.error_next("usergroups.users.list", "missing_scope")

    clock.now += 120
    assert directory.approvers() == {"U7"}


def test_an_unreadable_group_never_seen_approves_nobody(double, client) -> None:
    assert ApproverDirectory(client, ("S404",)).approvers() == frozenset()


def test_without_refresh_no_slack_call_is_made(double, client) -> None:
    double.usergroups = {"S1": ["U7"]}

    assert ApproverDirectory(client, ("U1", "S1")).approvers(refresh=False) == {"U1"}
    assert double.calls() == []


def test_a_group_slack_cannot_be_reached_for_keeps_its_last_known_members(double, client) -> None:
    double.usergroups = {"S1": ["U7"]}
    clock = FakeClock()
    directory = ApproverDirectory(client, ("S1",), ttl=60, clock=clock)
    directory.approvers()
    double.stop()

    clock.now += 120
    assert directory.approvers() == {"U7"}
