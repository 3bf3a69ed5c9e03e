"""Choosing the few rows a message can show when amounts come in several currencies.

Amounts in different currencies cannot be compared without an exchange rate, so "the largest"
means the largest within each currency: the top of every currency gets a place in turn, and the
chosen rows are shown grouped by currency, largest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby
from typing import TypeVar

Item = TypeVar("Item")


def largest_per_currency(
    items: Iterable[Item], *, amount: Callable[[Item], int], currency: Callable[[Item], str], limit: int
) -> list[Item]:
    """Up to `limit` items, the largest of each currency taking places in turn."""
    ordered = sorted(items, key=lambda item: (currency(item), -amount(item)))
    queues = [list(group) for _, group in groupby(ordered, key=currency)]
    chosen: list[Item] = []
    rank = 0
    while len(chosen) < limit and any(rank < len(queue) for queue in queues):
        chosen.extend(queue[rank] for queue in queues if rank < len(queue))
        rank += 1
    kept = {id(item) for item in chosen[:limit]}
    return [item for item in ordered if id(item) in kept]
