"""The ledger report and partner ledger agree with SPEC §2 on hand-made ledgers."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from commands.json_text import document
from commands.ledger_files import ledger_json, write_ledger_json
from domain.dates import DateRange
from domain.ledger import ledger_report, ledger_report_plain, ledger_rows, partner_ledger
from domain.ledger_data import UnknownPartner
from domain.models import Partner
from tests.factories import add_entry, add_partner

JUNE = DateRange(date(2015, 6, 1), date(2015, 6, 30))


def _june_ledger(db) -> None:
    with db.write() as s:
        ann = add_partner(s, "ANN", "Ann")
        bob = add_partner(s, "BOB", "Bob", currency="EUR")
        add_partner(s, "IDLE", "Idle")
        add_entry(s, ann, "commission", 10_000, "2015-05-10")
        add_entry(s, ann, "clawback", 2_500, "2015-05-20")
        add_entry(s, ann, "commission", 5_000, "2015-06-01")
        add_entry(s, ann, "payment", 7_500, "2015-06-30")
        add_entry(s, ann, "commission", 999, "2015-07-01")
        add_entry(s, bob, "commission", 1_234, "2015-06-15")


def test_report_row_follows_the_spec_definitions(db):
    _june_ledger(db)
    with db.read() as s:
        row = ledger_report(s, JUNE).row_for("ANN")
    assert (row.beginning_balance, row.commissions, row.clawbacks, row.payments, row.ending_balance) == (
        7_500, 5_000, 0, 7_500, 5_000)


def test_report_lists_only_partners_with_a_figure_unless_all_are_asked_for(db):
    _june_ledger(db)
    with db.read() as s:
        assert [r.partner_code for r in ledger_report(s, JUNE).rows] == ["ANN", "BOB"]
        assert [r.partner_code for r in ledger_report(s, JUNE, include_all=True).rows] == ["ANN", "BOB", "IDLE"]


def test_report_totals_are_per_currency(db):
    _june_ledger(db)
    with db.read() as s:
        totals = {t.currency: t for t in ledger_report(s, JUNE).totals}
    assert totals["USD"].ending_balance == 5_000 and totals["EUR"].ending_balance == 1_234


def test_fast_report_equals_plain_aggregate(db):
    _june_ledger(db)
    with db.read() as s:
        for period in (JUNE, DateRange(date(2015, 5, 20), date(2015, 5, 20)), DateRange(date(2014, 1, 1), date(2014, 12, 31))):
            assert ledger_report(s, period).rows == ledger_report_plain(s, period).rows


def test_rows_read_without_emails_are_the_same_rows_with_none_for_each_email(db):
    _june_ledger(db)
    with db.read() as s:
        with_emails = list(ledger_rows(s, JUNE).rows)
        without = list(ledger_rows(s, JUNE, with_email=False).rows)
    assert [row.email for row in with_emails] == ["partner@example.com"] * 2
    assert without == [row._replace(email=None) for row in with_emails]


def test_partner_ledger_running_balance_agrees_with_report_row(db):
    _june_ledger(db)
    with db.read() as s:
        ledger = partner_ledger(s, "ANN", JUNE)
        row = ledger_report(s, JUNE).row_for("ANN")
    assert ledger.beginning_balance == row.beginning_balance
    assert [line.balance for line in ledger.lines] == [12_500, 5_000]
    assert ledger.ending_balance == row.ending_balance


def test_a_partner_ledger_agrees_with_its_report_row_while_an_entry_is_committed_between_its_reads(db):
    _june_ledger(db)
    with db.read() as s:
        row = ledger_report(s, JUNE).row_for("ANN")
        with db.write() as other:
            add_entry(other, other.scalar(select(Partner).where(Partner.code == "ANN")), "commission", 300, "2015-05-02")
        ledger = partner_ledger(s, "ANN", JUNE)
    assert (ledger.beginning_balance, ledger.ending_balance) == (row.beginning_balance, row.ending_balance)


def test_partner_ledger_of_an_unknown_code_names_it(db):
    with db.read() as s, pytest.raises(UnknownPartner, match="NOPE"):
        partner_ledger(s, "NOPE", JUNE)


def test_entries_cannot_be_updated_or_deleted(db):
    _june_ledger(db)
    for statement in ("UPDATE entry SET amount = 1", "DELETE FROM entry"):
        with pytest.raises(DBAPIError, match="append-only"), db.write() as s:
            s.execute(text(statement))


def test_the_code_expects_the_newest_migration():
    from domain.migrations_runner import script_head
    from domain.schema_version import HEAD_REVISION

    assert script_head() == HEAD_REVISION


@pytest.mark.parametrize("hold_days", [0, 30])
def test_the_json_report_written_as_it_is_read_is_byte_for_byte_the_json_document(db, hold_days):
    """SPEC §5: scripts read `--format json`; streaming it must not change a byte (nor the totals)."""
    _june_ledger(db)
    with db.write() as session:
        add_partner(session, "ÉLISE", "Élise \"quoted\"", currency="JPY")
    period = DateRange(date(2015, 6, 1), date(2015, 6, 30))
    with db.read() as session:
        whole = document(ledger_json(ledger_report(session, period, include_all=True, hold_days=hold_days)))
        written = io.StringIO()
        write_ledger_json(ledger_rows(session, period, include_all=True, hold_days=hold_days), written)
    assert written.getvalue() == whole


def test_an_empty_json_report_written_as_it_is_read_is_the_json_document(db):
    period = DateRange(date(2015, 6, 1), date(2015, 6, 30))
    with db.read() as session:
        whole = document(ledger_json(ledger_report(session, period)))
        written = io.StringIO()
        write_ledger_json(ledger_rows(session, period), written)
    assert written.getvalue() == whole


def test_the_streamed_report_rows_are_the_report_rows(db):
    _june_ledger(db)
    period = DateRange(date(2015, 6, 10), date(2015, 6, 30))
    with db.read() as session:
        assert list(ledger_rows(session, period, hold_days=14).rows) == ledger_report(session, period, hold_days=14).rows


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.none(), st.integers()), max_size=6))
def test_a_report_item_put_together_from_its_strings_is_what_the_json_encoder_writes(item):
    """The streamed JSON writes each row by hand when every value is text; any item must come out as
    `document` nests it in a list, whether it takes that path or not."""
    from commands.ledger_files import _item_text

    nested = document({"rows": [item]})
    assert nested == '{\n  "rows": [\n    ' + _item_text(item) + "\n  ]\n}\n"


amounts = st.integers(-10**18, 10**18)


@given(code=st.text(), name=st.text(), currency=st.sampled_from(["USD", "JPY", "KWD", "XAU", "QQQ"]),
       figures=st.tuples(amounts, amounts, amounts, amounts, amounts), holds=st.booleans())
def test_a_report_row_written_from_its_pieces_is_the_row_the_json_document_holds(code, name, currency, figures,
                                                                                  holds):
    """The streamed report puts each row together from fixed pieces and its values instead of building
    the row's dictionary; any code, name, currency and figures must come out, after the separator
    from the row before, as `_item_text` writes `_json_row`."""
    from commands.ledger_files import _figure_ints, _item_text, _json_row, _json_rows_text, _names
    from domain.ledger_data import LedgerRow

    row = LedgerRow(1, code, name, None, currency, *figures)
    columns = list(zip(row, strict=True))
    written = _json_rows_text(columns, _figure_ints(columns, holds)[:len(_names(holds))], holds)
    assert written == ",\n    " + _item_text(_json_row(row, holds))
