"""The ledger report as CSV and JSON: the shapes of SPEC §5 and §7 that scripts depend on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from operator import sub
from typing import Any, TextIO

from commands.csv_safety import csv_text_column, write_rows
from domain.ledger_data import (
    CurrencyTotals,
    LedgerLine,
    LedgerReport,
    LedgerRow,
    LedgerRows,
    PartnerLedger,
    add_column_totals,
    ending_balances,
    row_blocks,
)
from domain.money import format_column, format_plain, plain_formatter

LEDGER_CSV_HEADER = (
    "partner_code", "partner_name", "email", "currency",
    "beginning_balance", "commissions", "clawbacks", "payments", "ending_balance",
)
FIGURES = ("beginning_balance", "commissions", "clawbacks", "payments", "ending_balance")
HOLD_FIGURES = ("on_hold", "payable")


def _names(holds: bool) -> tuple[str, ...]:
    """The figures a report carries: SPEC §12's two more only when a hold is configured."""
    return FIGURES + HOLD_FIGURES if holds else FIGURES


def _figures(item: LedgerRow | CurrencyTotals, currency: str, holds: bool = False) -> list[str]:
    return [format_plain(getattr(item, name), currency) for name in _names(holds)]


def _row_figures(row: LedgerRow, holds: bool) -> list[str]:
    """A row's figures in the order of `_names`, without looking each up by name: a report of a large
    program formats half a million of them."""
    plain = plain_formatter(row.currency)
    ending = row.ending_balance
    figures = [plain(row.beginning_balance), plain(row.commissions), plain(row.clawbacks), plain(row.payments),
               plain(ending)]
    if holds:
        figures += [plain(row.on_hold), plain(ending - row.on_hold)]
    return figures


def write_ledger_csv(report: LedgerReport | LedgerRows, handle: TextIO) -> None:
    """The report as CSV, as `csv.writer` writes it, each block of rows written as it is read (a
    streamed report is never held whole)."""
    holds = report.holds
    write_rows(handle, LEDGER_CSV_HEADER + (HOLD_FIGURES if holds else ()), ())
    for block in row_blocks(report.rows):
        columns = list(zip(*block, strict=True))
        texts = [csv_text_column(columns[index]) for index in (1, 2, 3)]
        figures = _figure_texts(columns[4], _figure_ints(columns, holds))
        cells = zip(*texts, csv_text_column(columns[4], formulas=False), *figures, strict=True)
        handle.write("\r\n".join(map(",".join, cells)) + "\r\n")  # each row joined in C, then the block


def interleaved(pieces: Sequence[str], columns: Sequence[Iterable[str]]) -> str:
    """Every row as `pieces[0] + cell 0 + pieces[1] + … + last cell + pieces[-1]`, in one text.

    The fixed pieces and the columns are interleaved by `zip` and joined once: a format string mapped
    over the rows is parsed again for each of them, and took most of the writing of a large report.
    """
    if len(pieces) != len(columns) + 1:
        raise ValueError("a row has one piece more than it has cells")
    parts: list[Iterable[str]] = []
    for piece, column in zip(pieces, columns, strict=False):
        parts += (repeat(piece), column)
    parts.append(repeat(pieces[-1]))
    return "".join(chain.from_iterable(zip(*parts, strict=False)))  # the pieces repeat without end


def _figure_ints(columns: Sequence[Sequence[int]], holds: bool) -> list[Sequence[int]]:
    """The figures of a block of rows (`LedgerRow`'s columns), in the order of `_names`, added up in C."""
    beginning, commissions, clawbacks, payments, on_hold = columns[5:10]
    ending = ending_balances(beginning, commissions, clawbacks, payments)
    figures = [beginning, commissions, clawbacks, payments, ending]
    return figures + [on_hold, list(map(sub, ending, on_hold))] if holds else figures


def _figure_texts(currencies: Sequence[str], figures: Sequence[Sequence[int]]) -> list[Iterable[str]]:
    """Columns of figures as plain amounts, each in its row's currency."""
    return [format_column(plain_formatter, currencies, column) for column in figures]


def _json_row(row: LedgerRow, holds: bool) -> dict[str, Any]:
    return {"partner_code": row.partner_code, "partner_name": row.partner_name, "currency": row.currency,
            **dict(zip(_names(holds), _row_figures(row, holds), strict=True))}


def _json_total(total: CurrencyTotals, holds: bool) -> dict[str, Any]:
    return {"currency": total.currency, **dict(zip(_names(holds), _figures(total, total.currency, holds), strict=True))}


def ledger_json(report: LedgerReport) -> dict[str, Any]:
    return {
        "start": report.range.start.isoformat(),
        "end": report.range.end.isoformat(),
        "rows": [_json_row(row, report.holds) for row in report.rows],
        "totals": [_json_total(total, report.holds) for total in report.totals],
    }


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=2)  # as `document` encodes, made once for every row
_encode_text = json.encoder.encode_basestring  # a string as that encoder writes it (ensure_ascii=False)


def _item_text(item: dict[str, Any]) -> str:
    """An item of a nested list as `document` indents it. An item of text values only (every report
    row) is put together from the encoded strings: json's own encoder, once given an indent, runs in
    pure Python and took most of the time of a large report."""
    if all(type(value) is str for value in item.values()):
        fields = ",\n      ".join(f"{_encode_text(name)}: {_encode_text(value)}" for name, value in item.items())
        return "{\n      " + fields + "\n    }" if fields else "{}"
    return _ROW_ENCODER.encode(item).replace("\n", "\n    ")


def _write_json_list(handle: TextIO, items: Iterable[dict[str, Any]]) -> None:
    """A list nested one level in a document, item by item, in the bytes `document` gives it."""
    _write_json_texts(handle, map(_item_text, items))


def _write_json_texts(handle: TextIO, texts: Iterable[str]) -> None:
    separator = "[\n"
    for text in texts:
        handle.write(separator + "    " + text)
        separator = ",\n"
    handle.write("[]" if separator == "[\n" else "\n  ]")


def _row_pieces(holds: bool) -> list[str]:
    """A report row as `_item_text` writes `_json_row`, around its values (`interleaved`), after the
    separator from the row before: the three texts go in encoded, the figures (digits, a sign and a
    point, which JSON writes as they are) between quotes."""
    texts = [f'"{name}": ' for name in ("partner_code", "partner_name", "currency")]
    figures = [f'"{name}": "' for name in _names(holds)]
    opened = [",\n    {\n      " + texts[0], *(",\n      " + text for text in texts[1:])]
    opened += ['",\n      ' + figure if index else ",\n      " + figure for index, figure in enumerate(figures)]
    return [*opened, '"\n    }']


_ROW_PIECES = {holds: _row_pieces(holds) for holds in (False, True)}


def _json_rows_text(columns: Sequence[Sequence[Any]], figures: Sequence[Sequence[int]], holds: bool) -> str:
    """`_item_text(_json_row(row, holds))` of each row of a block, each after a separator and indented,
    without the dictionaries (a large report writes 100,000 rows)."""
    texts = [map(_encode_text, columns[index]) for index in (1, 2, 4)]
    return interleaved(_ROW_PIECES[holds], [*texts, *_figure_texts(columns[4], figures)])


def write_ledger_json(report: LedgerRows, handle: TextIO) -> None:
    """`document(ledger_json(report))`, byte for byte, written a block of rows at a time as the rows
    are read; the totals, which come last, are added up on the way."""
    totals: dict[str, CurrencyTotals] = {}
    dates = json.dumps(report.range.start.isoformat()), json.dumps(report.range.end.isoformat())
    handle.write(f'{{\n  "start": {dates[0]},\n  "end": {dates[1]},\n  "rows": ')
    first = True
    for block in row_blocks(report.rows):
        columns = list(zip(*block, strict=True))
        figures = _figure_ints(columns, report.holds)
        add_column_totals(totals, columns[4], [*figures[:5], columns[9]])  # and the on-hold column
        text = _json_rows_text(columns, figures, report.holds)
        handle.write("[\n" + text[2:] if first else text)  # the first row has no row before it
        first = False
    handle.write("[]" if first else "\n  ]")
    handle.write(',\n  "totals": ')
    _write_json_list(handle, (_json_total(totals[currency], report.holds) for currency in sorted(totals)))
    handle.write("\n}\n")


def _json_line(line: LedgerLine, currency: str, holds: bool) -> dict[str, Any]:
    """An entry; with a hold configured each carries `payable_on`, the day a held commission is payable."""
    item = {"date": line.date.isoformat(), "kind": line.kind, "reference": line.reference,
            "description": line.description, "amount": format_plain(line.amount, currency),
            "balance": format_plain(line.balance, currency)}
    if holds:
        item["payable_on"] = line.payable_on.isoformat() if line.payable_on else None
    return item


def partner_ledger_json(ledger: PartnerLedger) -> dict[str, Any]:
    currency = ledger.currency
    body = {
        "partner_code": ledger.partner_code,
        "partner_name": ledger.partner_name,
        "currency": currency,
        "start": ledger.range.start.isoformat(),
        "end": ledger.range.end.isoformat(),
        "beginning_balance": format_plain(ledger.beginning_balance, currency),
        "entries": [_json_line(line, currency, ledger.holds) for line in ledger.lines],
        "ending_balance": format_plain(ledger.ending_balance, currency),
    }
    if ledger.holds:
        body["on_hold"] = format_plain(ledger.on_hold, currency)
        body["payable"] = format_plain(ledger.payable, currency)
    return body
