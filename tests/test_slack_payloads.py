"""Block Kit checks shared by the Slack tests, and the rendering of replies and forms within Slack's limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS, action_of, blocks_size, render_message
from bot.slack.modals import ModalOrigin, errors_for_view, render_modal, submitted_values
from commands.reply import Button, Field, Figure, Form, Reply, Section, Style, Table
from tests.slack_double import Call

PAYLOAD_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")


def check_blocks(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS) -> None:
    """Every block parses with slack_sdk's models and passes their checks; the count is within the limit,
    and a message's blocks add up to no more than Slack takes."""
    assert len(blocks) <= limit, f"{len(blocks)} blocks, Slack allows {limit}"
    if limit == MAX_BLOCKS:
        assert blocks_size(blocks) <= MAX_MESSAGE_CHARS, f"{blocks_size(blocks)} characters of blocks"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"unknown block {block!r}"
        assert parsed.to_dict() == block


def check_view(view: dict[str, Any]) -> None:
    check_blocks(view["blocks"], limit=100)
    View(**view).to_dict()


def check_call(call: Call) -> None:
    """A recorded Web API call or response_url post that carries Block Kit is valid Block Kit."""
    if call.method in ("views.open", "views.publish"):
        check_view(call.arg("view"))
        return
    if call.method in PAYLOAD_METHODS and call.status == 200:
        assert call.args.get("text"), f"{call.method} without a plain-text fallback"
        blocks = call.arg("blocks")
        if blocks is not None:
            check_blocks(blocks)


def big_reply(rows: int = 2000) -> Reply:
    return Reply(
        "Ledger for 2015-06-01..2015-06-30: " + "x" * 300,
        figures=[Figure(f"Total C{i:02d}", f"{i}.00") for i in range(23)],
        table=Table(("Code", "Partner", "Amount"), tuple((f"P{i:04d}", "Ann <&> Co " * 3, "1.00") for i in range(rows)),
                    (False, False, True), caption="All partners"),
        sections=[Section("line\n" * 2000, title="Skipped")] * 3,
        buttons=[Button("CSV", "ledger.csv", "2015-06"), Button("Again", "ledger.csv", "2015-07")],
    )


def test_slack_sdk_models_refuse_an_invalid_section() -> None:
    with pytest.raises(SlackObjectFormationError):
        check_blocks([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}])


def test_block_limit_is_checked() -> None:
    with pytest.raises(AssertionError, match="51 blocks"):
        check_blocks([{"type": "divider"}] * 51)


def test_every_message_has_a_plain_text_fallback() -> None:
    message = render_message(Reply("Ledger for June", sections=[Section("body")]))

    assert message["text"] == "Ledger for June"


def test_partner_names_are_escaped_in_mrkdwn() -> None:
    reply = Reply("Preview", figures=[Figure("Partner", "Ann <&> Co")], sections=[Section("Ann <!channel> & Co")])

    blocks = render_message(reply)["blocks"]

    check_blocks(blocks)
    assert blocks[1]["fields"][0]["text"] == "*Partner*\nAnn &lt;&amp;&gt; Co"
    assert blocks[2]["text"]["text"] == "Ann &lt;!channel&gt; &amp; Co"


def test_a_headline_too_long_for_a_header_is_shown_whole() -> None:
    totals = ", ".join(f"{currency} 1,234.50 to 12 partner(s)" for currency in ("USD", "EUR", "GBP", "JPY", "CAD"))
    headline = f"Your batch Batch-20150701 approved by U012ABCDEF and posted: {totals}"

    blocks = render_message(Reply(headline))["blocks"]

    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == f"*{headline}*"


def test_a_huge_reply_keeps_to_slacks_limits_and_keeps_its_buttons() -> None:
    blocks = render_message(big_reply())["blocks"]

    check_blocks(blocks)
    assert blocks[-1]["type"] == "actions"
    assert "more part(s) not shown" in blocks[-2]["elements"][0]["text"]


def test_figures_are_grouped_ten_to_a_section() -> None:
    blocks = render_message(Reply("Totals", figures=[Figure(f"F{i}", "1") for i in range(23)]))["blocks"]

    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 10, 3]


def test_long_code_sections_stay_fenced_in_every_chunk() -> None:
    text = "```" + "\n".join(f"row {i}" for i in range(1000)) + "```"

    chunks = [b["text"]["text"] for b in render_message(Reply("List", sections=[Section(text)]))["blocks"][1:]]

    assert len(chunks) > 1
    assert all(len(c) <= 3000 and c.startswith("```\n") and c.endswith("\n```") for c in chunks)


def test_repeated_actions_get_unique_action_ids_that_map_back() -> None:
    [actions] = [b for b in render_message(big_reply(1))["blocks"] if b["type"] == "actions"]

    ids = [element["action_id"] for element in actions["elements"]]
    assert len(set(ids)) == 2
    assert {action_of(i) for i in ids} == {"ledger.csv"}


def test_a_confirmed_button_carries_a_confirm_dialog() -> None:
    reply = Reply("Approval needed", buttons=[Button("Approve", "payout.approve", "B-1", Style.PRIMARY, confirm="Post B-1?")])

    [actions] = [b for b in render_message(reply)["blocks"] if b["type"] == "actions"]

    check_blocks([actions])
    assert actions["elements"][0]["confirm"]["text"]["text"] == "Post B-1?"
    assert actions["elements"][0]["style"] == "primary"


def test_buttons_can_be_left_out_for_a_decided_message() -> None:
    reply = Reply("Decided", buttons=[Button("Approve", "payout.approve", "B-1")])

    assert all(b["type"] != "actions" for b in render_message(reply, with_buttons=False)["blocks"])


def test_an_error_reply_is_a_warning_section_with_its_example_in_the_fallback() -> None:
    message = render_message(Reply.error("unknown range 'junk'", example="/ledger 2015-06"))

    assert message["blocks"][0]["text"]["text"] == ":warning: unknown range 'junk'"
    assert message["text"] == "unknown range 'junk'\nExample: /ledger 2015-06"


FORM = Form(
    "Create payments for a very long range name", "payout.request",
    (
        Field("range", "Date range", "2015-06-01..2015-06-30", hint="YYYY-MM-DD..YYYY-MM-DD"),
        Field("method", "Amount method", "ending-balance", choices=("commission", "ending-balance")),
        Field("min", "Minimum payout", "", required=False),
    ),
    submit_label="Submit for approval",
)


def test_a_form_becomes_a_valid_modal_with_selects_for_choices() -> None:
    view = render_modal(FORM, ModalOrigin("ctx", "C_FIN"))

    check_view(view)
    assert view["callback_id"] == "payout.request"
    assert len(view["title"]["text"]) <= 24
    method = view["blocks"][1]
    assert method["element"]["type"] == "static_select"
    assert method["element"]["initial_option"]["text"]["text"] == "ending-balance"
    assert view["blocks"][2]["optional"] is True
    assert ModalOrigin.decode(view["private_metadata"]) == ModalOrigin("ctx", "C_FIN")


def test_submitted_values_come_back_by_field_name() -> None:
    view = {"state": {"values": {
        "range": {"value": {"type": "plain_text_input", "value": "2015-06"}},
        "method": {"value": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "commission"}, "value": "1"}}},
        "min": {"value": {"type": "plain_text_input", "value": None}},
    }}}

    assert submitted_values(view) == {"range": "2015-06", "method": "commission", "min": ""}


def test_errors_for_unknown_fields_are_shown_under_the_first_input() -> None:
    view = render_modal(FORM, ModalOrigin("", None))

    assert errors_for_view({"range": "bad", "nope": "also bad"}, view) == {"range": "bad; also bad"}


def test_escaping_cannot_push_a_text_over_slacks_limits() -> None:
    reply = Reply("&" * 2990, figures=[Figure("<" * 300, "&" * 1900)], sections=[Section(">" * 2990)], is_error=True)

    blocks = render_message(reply)["blocks"]

    check_blocks(blocks)
    assert len(blocks[0]["text"]["text"]) <= 3000
    assert len(blocks[1]["fields"][0]["text"]) <= 2000
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks[2:] if b["type"] == "section")


# ---- stored text is shown, never obeyed ---------------------------------------------------------
# Names may predate the import rules (or come from elsewhere): whatever they hold, an approver
# reads them as text. The code block of a table cannot be closed by a name, prose cannot be
# emphasised, and no control character reaches Slack.

FORGED_FENCE = "Big Payee\n```\n*:white_check_mark: Reviewed and approved by the CFO*\n```"


def table_reply(name: str) -> Reply:
    return Reply("Approval needed", table=Table(("Code", "Partner", "Amount"), (("BIG", name, "$9,999.00"),),
                                               (False, False, True)))


def test_a_name_holding_a_code_fence_cannot_close_the_table_block() -> None:
    [table] = render_message(table_reply(FORGED_FENCE))["blocks"][1:]
    text = table["text"]["text"]

    assert text.startswith("```\n") and text.endswith("\n```") and text.count("```") == 2
    assert "ˋˋˋ" in text


def test_a_newline_in_a_name_cannot_draw_a_row_in_a_slack_table() -> None:
    [table] = render_message(table_reply("Big Payee\nA     Alice          $1.00"))["blocks"][1:]

    rows = table["text"]["text"].strip("`\n").split("\n")
    assert len(rows) == 3 and "Big Payee\\nA     Alice          $1.00" in rows[2]


def test_emphasis_marks_and_backticks_in_stored_text_are_swapped_for_look_alikes() -> None:
    reply = Reply("Preview", figures=[Figure("Payment type", "*Approved by the CFO* _urgent_ ~void~ `x`")])

    [field] = render_message(reply)["blocks"][1]["fields"]

    assert field["text"] == "*Payment type*\n∗Approved by the CFO∗ ˍurgentˍ ∼void∼ ˋxˋ"


def test_marks_between_two_letters_or_digits_stay_as_typed_since_slack_does_not_read_them() -> None:
    reply = Reply("Preview", figures=[Figure("Partner", "ACME_CO_2 2*3")])

    assert render_message(reply)["blocks"][1]["fields"][0]["text"] == "*Partner*\nACME_CO_2 2*3"


def test_a_code_fence_in_prose_cannot_open_a_code_block() -> None:
    reply = Reply("Preview", sections=[Section("BIG Big ```Payee: under the minimum", title="Skipped")])

    assert render_message(reply)["blocks"][1]["text"]["text"] == "*Skipped*\nBIG Big ˋˋˋPayee: under the minimum"


def test_a_newline_in_a_one_line_value_shows_as_an_escape() -> None:
    reply = Reply("Ann\nApproved", figures=[Figure("Partner", "Ann\n*Approved*")])

    message = render_message(reply)

    assert message["text"] == "Ann\\nApproved"
    assert message["blocks"][0]["text"]["text"] == "Ann\\nApproved"
    assert message["blocks"][1]["fields"][0]["text"] == "*Partner*\nAnn\\n*Approved∗"  # a mark between letters opens nothing


def test_escape_sequences_in_headlines_buttons_and_files_show_as_escapes() -> None:
    reply = Reply("Ann\x1b]0;pwned\x07", buttons=[Button("Pay \x1b[2J", "x", confirm="Sure\u202e?")])

    message = render_message(reply)

    assert message["blocks"][0]["text"]["text"] == "Ann\\x1b]0;pwned\\x07"
    [button] = message["blocks"][1]["elements"]
    assert button["text"]["text"] == "Pay \\x1b[2J" and button["confirm"]["text"]["text"] == "Sure\\u202e?"


def test_options_whose_first_150_characters_agree_still_have_unique_values() -> None:
    """Slack refuses a select whose options share a value; values are the choices' positions."""
    alike = ("x" * 150 + " by check", "x" * 150 + " by wire")
    form = Form("Pay", "payout.request", (Field("type", "Type", default=alike[1], choices=alike),))

    [block] = render_modal(form, ModalOrigin("", None))["blocks"]

    assert [option["value"] for option in block["element"]["options"]] == ["0", "1"]
    assert block["element"]["initial_option"]["value"] == "1"


def test_a_message_is_cut_to_slacks_total_size_keeping_its_headline_and_buttons() -> None:
    """Slack refuses a message whose blocks add up to much more than 12,000 characters."""
    reply = Reply("Report", sections=[Section("y" * 2900) for _ in range(20)], buttons=[Button("CSV", "ledger.csv", "v")])

    blocks = render_message(reply)["blocks"]

    assert blocks_size(blocks) <= MAX_MESSAGE_CHARS
    assert blocks[0]["type"] == "header" and blocks[-1]["type"] == "actions"
    assert "more part(s) not shown" in blocks[-2]["elements"][0]["text"]


def test_a_button_whose_value_slack_would_refuse_is_left_out_and_the_rest_stay() -> None:
    reply = Reply("Preview", buttons=[Button("Submit", "payout.submit", "v" * 2001), Button("CSV", "ledger.csv", "ok")])

    [actions] = [b for b in render_message(reply)["blocks"] if b["type"] == "actions"]

    assert [e["action_id"] for e in actions["elements"]] == ["ledger.csv"]
