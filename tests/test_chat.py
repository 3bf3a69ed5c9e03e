"""`/payout` through the chat door: the grammar wired to the payout and reminder handlers, without Slack."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from commands import reminder_handlers
from commands.chat import run_action, run_command, run_form
from commands.chat_payout_views import REQUEST_FORM, SUBMIT
from commands.context import Request
from commands.reply import FormErrors, Reply, Target
from domain.roles import Access, Member, Roles
from tests.factories import add_entry, add_partner
from tests.test_grammar import ANY_TEXT, near_miss

FULL = "2015-06 method=ending-balance type=paypal batch=June-1 date=2015-07-01 min=25"


@pytest.fixture
def ledger(db):
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        bob = add_partner(s, "BOB", "Bob")
        add_entry(s, ann, "commission", 10_000, "2015-06-10")
        add_entry(s, bob, "commission", 2_000, "2015-06-12")
    return db


ROLES = Roles(requesters=("U_REQ",), approvers=("U_BOSS",))


def req(db, settings, actor: str = "U_REQ") -> Request:
    return Request(db=db, settings=settings, actor=actor, channel="C_FIN", approvers=frozenset({"U_BOSS"}),
                   access=Access(ROLES, Member(actor)))


def test_payout_with_every_option_is_a_preview_with_a_submit_button(ledger, settings):
    [reply] = run_command("/payout", FULL, req(ledger, settings))
    assert reply.headline == "Preview of June-1: 1 payment(s)"
    assert {f.label: f.value for f in reply.figures}["Payment type"] == "PayPal"
    assert reply.sections[0].title == "Skipped" and "BOB" in reply.sections[0].text
    assert [b.action for b in reply.buttons] == [SUBMIT]


def test_payout_without_every_option_opens_the_form_prefilled_with_what_was_given(ledger, settings):
    [reply] = run_command("payout", "last-month type=wise overlap=allow", req(ledger, settings))
    defaults = {f.name: f.default for f in reply.form.fields}
    assert defaults["range"] == "2015-06-01..2015-06-30" and defaults["type"] == "Wise"
    assert defaults["overlap"] == "allow" and defaults["method"] == "ending-balance"
    assert defaults["batch"] == "Batch-20150715"


def test_a_taken_batch_id_in_the_preview_is_an_error_naming_it(ledger, settings):
    [preview] = run_command("payout", FULL, req(ledger, settings))
    run_action(SUBMIT, preview.buttons[0].value, req(ledger, settings))
    [reply] = run_command("payout", FULL, req(ledger, settings))
    assert reply.is_error and "June-1" in reply.headline


def test_submitting_the_form_creates_the_batch_and_asks_the_approvers(ledger, settings):
    values = {"range": "2015-06", "method": "commission", "type": "Check", "date": "2015-07-01", "batch": ""}
    replies = run_form(REQUEST_FORM, values, "", req(ledger, settings))
    assert any(r.target is Target.APPROVERS for r in replies)


def test_a_form_with_bad_values_raises_form_errors_by_field(ledger, settings):
    values = {"range": "June", "method": "commission", "type": "Check", "date": "2015-07-01"}
    with pytest.raises(FormErrors) as caught:
        run_form(REQUEST_FORM, values, "", req(ledger, settings))
    assert set(caught.value.errors) == {"range"}


def test_an_unknown_form_is_an_error_reply(ledger, settings):
    [reply] = run_form("payout.nothing", {}, "", req(ledger, settings, actor="U_BOSS"))
    assert reply.is_error and "payout.nothing" in reply.headline


def test_an_unknown_button_is_an_error_reply(ledger, settings):
    [reply] = run_action("payout.explode", "x", req(ledger, settings, actor="U_BOSS"))
    assert reply.is_error and "payout.explode" in reply.headline


def test_a_submit_button_with_a_mangled_value_is_an_error_reply(ledger, settings):
    [reply] = run_action(SUBMIT, "{not json", req(ledger, settings))
    assert reply.is_error


def test_list_with_no_batches_suggests_a_first_command(ledger, settings):
    [reply] = run_command("payout", "list", req(ledger, settings))
    assert reply.headline == "No batches yet. Try /payout last-month"


def test_status_of_an_unknown_batch_is_a_private_error(ledger, settings):
    [reply] = run_command("payout", "status Batch-19990101", req(ledger, settings))
    assert reply.is_error and reply.private and "Batch-19990101" in reply.headline


def test_void_by_someone_who_is_not_an_approver_is_refused(ledger, settings):
    [reply] = run_command("payout", "void Batch-20150701 wrong amounts", req(ledger, settings))
    assert reply.is_error and "approver" in reply.headline


def test_void_of_a_batch_that_does_not_exist_is_an_error_naming_it(ledger, settings):
    [reply] = run_command("payout", "void Nope-1 wrong amounts", req(ledger, settings, actor="U_BOSS"))
    assert reply.is_error and "Nope-1" in reply.headline


def test_status_of_an_unknown_batch_gives_the_status_example(ledger, settings):
    [reply] = run_command("payout", "status NOPE", req(ledger, settings))
    assert [section.text for section in reply.sections] == ["Example: /payout status Batch-20150701"]


def test_void_of_an_unknown_batch_gives_the_void_example(ledger, settings):
    [reply] = run_command("payout", "void NOPE-1 x", req(ledger, settings, actor="U_BOSS"))
    assert [section.text for section in reply.sections] == [
        "Example: /payout void Batch-20150701 the checks were never sent"]


def test_a_void_reason_over_400_characters_gives_the_void_example_and_voids_nothing(ledger, settings):
    [reply] = run_command("payout", "void Batch-20150701 " + "x" * 401, req(ledger, settings, actor="U_BOSS"))
    assert reply.is_error and "at most 400 characters (it has 401)" in reply.headline
    assert [section.text for section in reply.sections] == [
        "Example: /payout void Batch-20150701 the checks were never sent"]


def test_an_error_echoes_at_most_40_characters_of_a_huge_token(ledger, settings):
    [reply] = run_command("payout", "status " + "N" * 10_000, req(ledger, settings))
    assert f"'{'N' * 40}…'" in reply.headline and len(reply.headline) < 100


def test_a_usage_error_echoes_at_most_40_characters_of_a_huge_token(ledger, settings):
    [reply] = run_command("ledger", "2015-06 " + "x" * 10_000, req(ledger, settings))
    assert reply.is_error and f"'{'x' * 40}…'" in reply.headline and len(reply.headline) < 200


def test_payout_help_lists_every_form_with_an_example(ledger, settings):
    [reply] = run_command("payout", "help", req(ledger, settings))
    forms = reply.sections[0].text
    for form in ("/payout RANGE", "list", "status BATCH", "void BATCH REASON", "remind add monthly",
                 "remind add weekly", "remind list", "remind remove ID"):
        assert form in forms
    assert forms.count("e.g. /payout") == forms.count(" — ")


def test_an_unknown_command_is_a_usage_error(ledger, settings):
    [reply] = run_command("/refund", "2015-06", req(ledger, settings))
    assert reply.is_error and reply.sections[0].text == "Example: /ledger help"


@pytest.fixture
def reminder_calls(monkeypatch):
    calls: list[tuple] = []

    def record(name):
        def handler(request, *args, **kwargs):
            calls.append((name, args, kwargs))
            return [Reply(name)]
        return handler

    for name in ("add_schedule", "list_schedules", "remove_schedule"):
        monkeypatch.setattr(reminder_handlers, name, record(name))
    return calls


def test_remind_add_calls_the_reminder_handlers_with_the_parsed_schedule(ledger, settings, reminder_calls):
    run_command("payout", "remind add weekly Fri 16:30 <#C0123ABCD|finance>", req(ledger, settings))
    assert reminder_calls == [("add_schedule", (), {
        "frequency": "weekly", "day": 4, "at_time": "16:30", "channel": "C0123ABCD", "range_expression": "last-week",
    })]


def test_remind_list_and_remove_reach_their_handlers(ledger, settings, reminder_calls):
    run_command("payout", "remind list", req(ledger, settings))
    run_command("payout", "remind remove 7", req(ledger, settings))
    assert reminder_calls == [("list_schedules", (), {}), ("remove_schedule", (7,), {})]


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["ledger", "payout"]), st.one_of(ANY_TEXT, near_miss().map(lambda case: case[1])))
def test_any_command_text_gets_replies_and_never_an_exception(sqlite_db, settings, command, text):
    replies = run_command(command, text, req(sqlite_db, settings))
    assert replies and all(isinstance(reply, Reply) for reply in replies)
