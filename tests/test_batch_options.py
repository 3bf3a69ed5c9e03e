"""One parser for batch options (commands.batch_options): chat, forms and the CLI read them alike."""

from __future__ import annotations

from datetime import date

import pytest

from commands.batch_options import OptionErrors, batch_options, given_options
from domain.batches import ApprovalPolicy, BatchOptions, NotAllowed
from domain.dates import DateError, DateRange
from domain.settings import Settings

SETTINGS = Settings(fixed_now=None)
JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def test_form_fields_and_cli_arguments_give_the_same_options() -> None:
    form = {"range": "2015-06", "method": "Ending-Balance", "type": "paypal", "batch": " June-1 ", "date": "2015-07-01",
            "min": "25", "overlap": "allow"}
    assert batch_options(form, SETTINGS) == BatchOptions(JUNE, "ending-balance", "PayPal", date(2015, 7, 1), "June-1",
                                                         "25", True)


def test_every_bad_option_is_named_by_its_field_at_once() -> None:
    with pytest.raises(OptionErrors) as refused:
        given_options({"method": "everything", "date": "2015-02-30", "min": "1e3", "overlap": "maybe"}, SETTINGS)
    assert set(refused.value.errors) == {"method", "date", "min", "overlap"}
    assert "method 'everything' is not one of" in refused.value.errors["method"]


def test_a_blank_option_is_left_for_the_default() -> None:
    options = batch_options({"range": "2015-06", "method": "commission", "type": "", "min": " "}, SETTINGS)
    assert (options.payment_type, options.minimum, options.payment_date) == ("Check", None, SETTINGS.today())


def test_the_range_and_the_method_are_required() -> None:
    with pytest.raises(OptionErrors) as refused:
        batch_options({}, SETTINGS)
    assert set(refused.value.errors) == {"range", "method"}


def test_date_range_parse_reads_what_str_writes() -> None:
    assert DateRange.parse(str(JUNE)) == JUNE


@pytest.mark.parametrize("text", ["2015-06", "2015-06-01..", "2015-06-30..2015-06-01", ""])
def test_date_range_parse_refuses_anything_but_start_dot_dot_end(text) -> None:
    with pytest.raises(DateError):
        DateRange.parse(text)


def test_only_approvers_may_void_and_the_terminal_operator_is_trusted() -> None:
    """SPEC §8: voiding is the approvers'; the terminal is the trusted operator."""
    with pytest.raises(NotAllowed, match="only a payout approver can void a batch"):
        ApprovalPolicy(frozenset({"U_BOSS"})).check_void("U_REQ")
    ApprovalPolicy(frozenset({"U_BOSS"})).check_void("U_BOSS")
    ApprovalPolicy(frozenset(), trusted_operator=True).check_void("cli:me")
