"""Who may do what (SPEC §8): the roles, deny by default, and the one gate every chat way in passes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from commands.chat import run_action, run_command, run_form
from commands.chat_payout_views import APPROVE, REQUEST_FORM, START
from commands.context import Request
from commands.ledger_views import CSV_ACTION
from domain.models import Batch
from domain.roles import Access, Home, Member, Role, Roles
from tests.factories import add_entry, add_partner

ONLY_APPROVERS = Roles(approvers=("U_BOSS",))


@pytest.fixture
def ledger(db):
    with db.write() as s:
        add_entry(s, add_partner(s, "ANN", "Ann"), "commission", 10_000, "2015-06-10")
    return db


def asking(db, settings, user: str, roles: Roles = ONLY_APPROVERS, *, outsider: bool = False,
           groups: frozenset[str] = frozenset(), channel: str = "C_FIN", places: tuple[str, ...] = ()) -> Request:
    return Request(db=db, settings=settings, actor=user, channel=channel, approvers=frozenset({"U_BOSS"}),
                   reminder_channels=places, access=Access(roles, Member(user, groups, outsider)))


def batches(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count(Batch.id)))


# ---- the roles --------------------------------------------------------------------------------


def test_with_only_approvers_set_nobody_else_holds_any_role() -> None:
    access = Access(ONLY_APPROVERS, Member("U_FIN"))

    assert [access.holds(role) for role in Role] == [False, False, False]


def test_approvers_hold_every_role() -> None:
    access = Access(ONLY_APPROVERS, Member("U_BOSS"))

    assert all(access.holds(role) for role in Role)


def test_requesters_are_viewers_but_not_approvers() -> None:
    access = Access(Roles(requesters=("U_REQ",), approvers=("U_BOSS",)), Member("U_REQ"))

    assert [access.holds(role) for role in Role] == [True, True, False]


def test_viewers_may_only_view() -> None:
    access = Access(Roles(viewers=("U_VIEW",), approvers=("U_BOSS",)), Member("U_VIEW"))

    assert [access.holds(role) for role in Role] == [True, False, False]


def test_a_member_of_a_listed_user_group_holds_its_role() -> None:
    access = Access(Roles(requesters=("S_FINANCE",)), Member("U_ANY", frozenset({"S_FINANCE"})))

    assert access.holds(Role.REQUESTER) and not access.holds(Role.APPROVER)


def test_star_admits_every_member_of_the_workspace() -> None:
    assert Access(Roles(viewers=("*",)), Member("U_ANYONE")).holds(Role.VIEWER)


def test_star_never_admits_an_outsider() -> None:
    """SPEC §8: a user of another workspace or organisation is refused whatever the roles."""
    access = Access(Roles(viewers=("*",), requesters=("*",), approvers=("*",)), Member("U_EXT", outsider=True))

    assert not any(access.holds(role) for role in Role)
    assert "another organisation" in (access.refusal(Role.VIEWER) or "")


def test_a_refusal_names_the_role_and_the_setting_that_grants_it() -> None:
    refusal = Access(ONLY_APPROVERS, Member("U_FIN")).refusal(Role.REQUESTER)

    assert refusal is not None and "requester role" in refusal and "PAYOUT_REQUESTERS" in refusal and "U_FIN" in refusal


def test_roles_come_from_their_settings() -> None:
    roles = Roles.from_env({"LEDGER_VIEWERS": "U1, S2", "PAYOUT_REQUESTERS": "*", "PAYOUT_APPROVERS": "W3"})

    assert (roles.viewers, roles.requesters, roles.approvers) == (("U1", "S2"), ("*",), ("W3",))
    assert roles.groups() == ("S2",)


def test_home_admits_its_own_workspace_and_organisation_only() -> None:
    assert Home("T1").admits("T1", None)
    assert not Home("T1").admits("T_OTHER", None)
    assert Home(None, "E1").admits("T2", "E1")
    assert not Home(None, "E1").admits("T9", "E9")
    assert not Home(None, None).admits(None, None)


# ---- the gate: every way in ---------------------------------------------------------------------


def test_a_non_viewers_ledger_command_is_refused_privately_naming_the_setting(ledger, settings) -> None:
    [reply] = run_command("ledger", "2015-06", asking(ledger, settings, "U_FIN"))

    assert reply.is_error and reply.private and "LEDGER_VIEWERS" in reply.headline


def test_a_non_viewer_gets_the_refusal_rather_than_a_usage_message(ledger, settings) -> None:
    [reply] = run_command("ledger", "not a range", asking(ledger, settings, "U_FIN"))

    assert "LEDGER_VIEWERS" in reply.headline and not reply.sections


def test_a_non_approvers_button_click_is_refused_naming_the_setting(ledger, settings) -> None:
    [reply] = run_action(CSV_ACTION, "2015-06-01..2015-06-30|all", asking(ledger, settings, "U_FIN"))

    assert reply.is_error and "viewer role" in reply.headline and "LEDGER_VIEWERS" in reply.headline
    assert not reply.files


def test_a_non_approvers_form_submission_is_refused_and_creates_no_batch(ledger, settings) -> None:
    values = {"range": "2015-06-01..2015-06-30", "method": "ending-balance", "type": "Check", "batch": "",
              "date": "2015-07-01", "min": "", "overlap": "no"}

    [reply] = run_form(REQUEST_FORM, values, "", asking(ledger, settings, "U_FIN"))

    assert reply.is_error and "PAYOUT_REQUESTERS" in reply.headline
    assert batches(ledger) == 0


def test_a_viewer_may_not_open_the_payment_form(ledger, settings) -> None:
    roles = Roles(viewers=("U_VIEW",), approvers=("U_BOSS",))

    [reply] = run_action(START, "2015-06-01..2015-06-30", asking(ledger, settings, "U_VIEW", roles))

    assert reply.form is None and "PAYOUT_REQUESTERS" in reply.headline


def test_a_requester_may_not_approve(ledger, settings) -> None:
    roles = Roles(requesters=("U_REQ",), approvers=("U_BOSS",))

    [reply] = run_action(APPROVE, "B-1", asking(ledger, settings, "U_REQ", roles))

    assert "approver role" in reply.headline and "PAYOUT_APPROVERS" in reply.headline


def test_a_requester_may_not_void(ledger, settings) -> None:
    roles = Roles(requesters=("U_REQ",), approvers=("U_BOSS",))

    [reply] = run_command("payout", "void B-1 wrong", asking(ledger, settings, "U_REQ", roles))

    assert "PAYOUT_APPROVERS" in reply.headline


def test_an_outsider_is_refused_even_where_star_admits_everyone(ledger, settings) -> None:
    roles = Roles(viewers=("*",))

    [reply] = run_command("ledger", "2015-06", asking(ledger, settings, "U_EXT", roles, outsider=True))

    assert reply.is_error and "another organisation" in reply.headline


def test_a_button_in_a_channel_outside_ledger_channels_is_refused(ledger, settings) -> None:
    request = asking(ledger, settings, "U_BOSS", channel="C_GONE", places=("C_FIN", "C_APPROVE"))

    [reply] = run_action(START, "2015-06-01..2015-06-30", request)

    assert reply.form is None and "LEDGER_CHANNELS" in reply.headline and "<#C_FIN>" in reply.headline


def test_the_channel_refusal_names_a_few_channels_and_counts_the_rest(ledger, settings) -> None:
    places = tuple(f"C{n:08d}" for n in range(40))
    request = asking(ledger, settings, "U_BOSS", channel="C_GONE", places=places)

    [reply] = run_command("ledger", "2015-06", request)

    assert "<#C00000004>" in reply.headline and "<#C00000005>" not in reply.headline
    assert "and 35 more" in reply.headline


def test_a_request_that_does_not_say_who_is_asking_is_refused(ledger, settings) -> None:
    request = Request(db=ledger, settings=settings, actor="U_BOSS", channel="C_FIN")

    [reply] = run_command("ledger", "2015-06", request)

    assert reply.is_error and "who is asking" in reply.headline


def test_the_terminal_operator_is_trusted(ledger, settings) -> None:
    """SPEC §8: the terminal (payouts shell, the CLI) is not subject to roles."""
    request = Request(db=ledger, settings=settings, actor="cli:ops", trusted_operator=True)

    [reply] = run_command("ledger", "2015-06", request)

    assert not reply.is_error
