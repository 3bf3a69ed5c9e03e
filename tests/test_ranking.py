"""What a short message shows when amounts come in several currencies."""

from __future__ import annotations

from commands.ranking import largest_per_currency


def rank(items: list[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    return largest_per_currency(items, amount=lambda item: item[1], currency=lambda item: item[0], limit=limit)


def test_one_currency_gives_the_largest_amounts_first():
    assert rank([("USD", 5), ("USD", 50), ("USD", 20), ("USD", 1)], 3) == [("USD", 50), ("USD", 20), ("USD", 5)]


def test_a_large_yen_amount_does_not_push_out_every_euro():
    items = [("JPY", 198_750), ("JPY", 176_850), ("JPY", 90_000), ("EUR", 213_600), ("EUR", 100)]
    assert rank(items, 3) == [("EUR", 213_600), ("EUR", 100), ("JPY", 198_750)]


def test_each_currency_takes_places_in_turn_and_the_limit_holds():
    items = [(currency, amount) for currency in ("EUR", "GBP", "USD") for amount in range(1, 10)]
    chosen = rank(items, 7)
    assert len(chosen) == 7
    assert [currency for currency, _ in chosen] == ["EUR", "EUR", "EUR", "GBP", "GBP", "USD", "USD"]
    assert chosen[:3] == [("EUR", 9), ("EUR", 8), ("EUR", 7)]


def test_fewer_items_than_the_limit_are_all_shown():
    assert rank([("USD", 3), ("EUR", 4)], 10) == [("EUR", 4), ("USD", 3)]
