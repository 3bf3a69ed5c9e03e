"""How a batch's totals and overlaps are said in words, alike in chat and at the terminal."""

from __future__ import annotations

from domain.batches import CurrencyTotal, PlannedLine, currency_totals
from domain.money import format_display


def totals_text(lines: list[PlannedLine]) -> str:
    return describe_totals(currency_totals(lines))


def describe_totals(totals: list[CurrencyTotal]) -> str:
    return ", ".join(
        f"{format_display(total.amount, total.currency)} to {total.count} partner(s)" for total in totals
    ) or "nothing"


def conflicts_text(conflicts: dict[str, list[str]]) -> str:
    listed = "; ".join(f"{code} in {', '.join(ids)}" for code, ids in sorted(conflicts.items())[:10])
    more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
    return f"Already paid for an overlapping range: {listed}{more}"
