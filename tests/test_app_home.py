"""SPEC §13 App Home through the real Bolt app: `app_home_opened` publishes a view fitted to the
person's role (SPEC §8), valid for slack_sdk's models and within Slack's limits, and Approve on
Home posts the batch once and republishes Home."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.slack.home import MAX_VIEW_BLOCKS, home_view
from commands import chat
from commands.chat_payout_views import APPROVE
from commands.context import Request
from commands.use_home import PENDING_SHOWN, BatchLine, HomeFigures, HomePage
from domain.batches import CurrencyTotal
from domain.models import Entry
from domain.roles import Access, Member, Role, Roles
from tests.factories import add_entry, add_partner
from tests.slack_signing import dispatch, home_action_body, home_opened_body, sign
from tests.test_slack_app import SECRET, double, make_app, request_batch  # noqa: F401  (fixtures)
from tests.test_slack_payloads import check_view

ROLES = dict(viewers=("U_VIEW",), requesters=("U_ASK",), approvers=("U_BOSS", "U_REQ"))


@pytest.fixture
def owed(sqlite_db):
    """Ann is owed $100.00 and Bob €20.00, both payable on FIXED_NOW's date (no hold)."""
    with sqlite_db.write() as s:
        ann = add_partner(s, "ANN", "Ann <&> Co")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
    return sqlite_db


def open_home(app, double, user: str, tab: str = "home"):
    body = home_opened_body(user, tab)
    return dispatch(app, body, sign(body, SECRET, content_type="application/json"))


def published(double, user: str, showing: str = "") -> dict:
    """The view of the latest views.publish for `user` whose text has `showing`, once Slack accepted it."""
    calls = double.wait_for("views.publish", predicate=lambda call: call.args.get("user_id") == user
                            and showing in texts(call.arg("view")))
    assert calls[-1].error is None, calls[-1].error
    view = calls[-1].arg("view")
    check_view(view)
    return view


def texts(view: dict) -> str:
    found = []
    for block in view["blocks"]:
        found.append((block.get("text") or {}).get("text", ""))
        found += [element.get("text", "") for element in block.get("elements", []) if block["type"] == "context"]
    return "\n".join(found)


def buttons(view: dict) -> list[str]:
    return [element["action_id"] for block in view["blocks"] if block["type"] == "actions"
            for element in block["elements"]]


def test_a_viewer_sees_what_is_payable_per_currency_without_decision_buttons(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)
    request_batch(app, double, owed)

    assert open_home(app, double, "U_VIEW").status == 200

    view = published(double, "U_VIEW")
    shown = texts(view)
    assert "$100.00 to 1 partner(s)" in shown and "€20.00 to 1 partner(s)" in shown
    assert "Awaiting approval (1)" in shown and "You hold the viewer role" in shown
    assert buttons(view) == []


def test_a_requester_sees_the_pending_batch_without_decision_buttons(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)
    batch_id = request_batch(app, double, owed)

    open_home(app, double, "U_ASK")

    view = published(double, "U_ASK")
    assert batch_id in texts(view) and "You hold the requester role" in texts(view)
    assert buttons(view) == []


def test_an_approver_gets_approve_and_reject_on_each_pending_batch(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)
    batch_id = request_batch(app, double, owed)

    open_home(app, double, "U_BOSS")

    view = published(double, "U_BOSS")
    assert [action.split("#")[0] for action in buttons(view)] == ["payout.approve", "payout.reject"]
    assert {element["value"] for block in view["blocks"] if block["type"] == "actions"
            for element in block["elements"]} == {batch_id}


def test_a_person_with_no_role_is_told_how_to_get_one_and_sees_no_figures(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)

    open_home(app, double, "U_NOBODY")

    view = published(double, "U_NOBODY")
    assert "LEDGER_VIEWERS" in texts(view) and "U_NOBODY" in texts(view)
    assert "$100.00" not in texts(view) and buttons(view) == []


def test_opening_the_messages_tab_publishes_nothing(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)

    assert open_home(app, double, "U_BOSS", tab="messages").status == 200
    open_home(app, double, "U_VIEW")

    published(double, "U_VIEW")
    assert [call.args["user_id"] for call in double.calls("views.publish")] == ["U_VIEW"]


def test_approve_on_home_posts_the_batch_once_and_refreshes_home(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)
    batch_id = request_batch(app, double, owed)
    body = home_action_body(f"{APPROVE}#1", batch_id, "U_BOSS")

    assert dispatch(app, body, sign(body, SECRET)).status == 200

    double.wait_for("chat.postMessage", predicate=lambda call: call.args.get("channel") == "D_APP_U_BOSS"
                    and "approved by U_BOSS" in call.args.get("text", ""))
    view = published(double, "U_BOSS", showing="Awaiting approval (0)")
    assert buttons(view) == [] and "Nobody is owed anything payable today." in texts(view)
    with owed.read() as s:
        assert s.scalar(select(func.count(Entry.id)).where(Entry.kind == "payment")) == 2


def test_requesting_a_batch_refreshes_the_approvers_home(make_app, double, owed) -> None:
    app = make_app(owed, **ROLES)

    batch_id = request_batch(app, double, owed)

    published(double, "U_BOSS", showing=batch_id)


# ---- within Slack's limits for any amount of data -------------------------------------------------


def _many(pending: int, currencies: int) -> HomeFigures:
    at = datetime(2015, 7, 1, 9, 0)
    totals = [CurrencyTotal(f"X{index:02d}"[:3], 123_456_789, 9_999) for index in range(currencies)]
    line = BatchLine("B-" + "9" * 62, "pending", "U_REQ", at, date(2015, 6, 1), date(2015, 6, 30), totals)
    return HomeFigures(date(2015, 7, 15), totals, [line] * min(pending, PENDING_SHOWN), pending, [line] * 5, [], at)


def test_home_for_100_currencies_and_1000_pending_batches_fits_slacks_limits_and_counts_the_rest() -> None:
    view = home_view(HomePage(Role.APPROVER, _many(1_000, 100)), "UTC")

    check_view(view)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert f"{1_000 - PENDING_SHOWN} more waiting" in texts(view)


def test_more_currencies_than_fit_point_to_a_report_command_that_runs() -> None:
    import re

    from commands.grammar import parse_command
    from domain.settings import Settings

    view = home_view(HomePage(Role.VIEWER, _many(0, 1_000)), "UTC")

    check_view(view)
    [hint] = [text for text in texts(view).splitlines() if "More currencies" in text]
    text = re.search(r"`/ledger ([^`]+)`", hint).group(1)
    parse_command("/ledger", text, Settings())


# ---- the gate ------------------------------------------------------------------------------------


def _request(db, settings, user: str) -> Request:
    access = Access(Roles(viewers=("U_VIEW",), approvers=("U_BOSS",)), Member(user))
    return Request(db=db, settings=settings, actor=user, access=access)


def test_home_reads_nothing_for_a_person_with_no_role(sqlite_db, settings, monkeypatch) -> None:
    from commands import use_home

    monkeypatch.setattr(use_home, "figures", lambda request: pytest.fail("figures read without a role"))

    page = chat.run_home(_request(sqlite_db, settings, "U_NOBODY"))

    assert page.role is None and "viewer role" in (page.refusal or "")


def test_home_takes_the_highest_role_the_person_holds(db, settings) -> None:
    assert chat.run_home(_request(db, settings, "U_BOSS")).role is Role.APPROVER
    assert chat.run_home(_request(db, settings, "U_VIEW")).role is Role.VIEWER


def test_payable_today_leaves_out_commissions_still_on_hold(db, settings) -> None:
    """SPEC §12: a commission within HOLD_DAYS of today is not payable yet."""
    from dataclasses import replace

    with db.write() as s:
        ann = add_partner(s, "ANN")
        add_entry(s, ann, "commission", 10_000, "2015-06-01")
        add_entry(s, ann, "commission", 5_000, settings.today() - timedelta(days=2))

    page = chat.run_home(_request(db, replace(settings, hold_days=30), "U_VIEW"))

    assert page.figures is not None
    assert [(t.currency, t.amount, t.count) for t in page.figures.payable] == [("USD", 10_000, 1)]


def test_payable_today_reads_only_the_entries_dated_after_today_on_sqlite(sqlite_db, settings) -> None:
    """Home's payable figures come from the reminders' due summary; SQLite must search the
    (date, partner) index for the few entries after the day rather than walk every entry."""
    from sqlalchemy import select

    from domain import reminders
    from domain.dates import DateRange

    today = settings.today()
    with sqlite_db.read() as s:
        compiled = select(reminders._endings(s, DateRange(today, today))).compile(s.get_bind())
        params = [compiled.params[name] for name in compiled.positiontup]
        plan = s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params)).all()

    assert any("ix_entry_date_partner" in row[-1] for row in plan), plan


def test_homes_being_published_never_hold_up_the_acknowledgement_of_a_command(make_app, double, owed,
                                                                              monkeypatch) -> None:
    """SPEC §13: Home never blocks other acks. More Homes wait than Bolt has acknowledging threads;
    a slash command is still answered at once, since Home is built in the app's work queue."""
    import threading

    from bot.slack.app import ACK_THREADS
    from commands import use_home
    from tests.test_slack_app import send_command

    release = threading.Event()
    real_figures = use_home.figures
    monkeypatch.setattr(use_home, "figures", lambda request: release.wait(30) and real_figures(request))
    app = make_app(owed, **ROLES)
    for _ in range(ACK_THREADS + 8):
        assert open_home(app, double, "U_BOSS").status == 200

    started = time.monotonic()
    response = send_command(app, double, "help")
    acked = time.monotonic() - started
    release.set()

    assert response.status == 200 and acked < 2
    published(double, "U_BOSS", showing="Awaiting approval (0)")


def test_a_batch_requested_through_the_form_refreshes_the_approvers_home(make_app, double, owed) -> None:
    from tests.test_slack_app import form_values, submit_form

    app = make_app(owed, **ROLES)

    assert submit_form(app, form_values(batch="B-FORM")).status == 200

    published(double, "U_BOSS", showing="B-FORM")
