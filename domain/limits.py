"""How much a partner and a currency may accumulate, so that no sum the product computes overflows.

Every figure the product computes — a balance, a report column for any range, a currency's total,
a batch's total — is a signed sum of some of one currency's entries, so its size is at most the
sum of those entries' absolute amounts (their *turnover*). The database keeps each partner's
turnover beside its balance; keeping a currency's turnover under 3×10^18 minor units, and
refusing before anything is written, keeps every such sum inside the signed 64-bit integers both
databases compute with (9.22×10^18), even while a refused batch is being rolled back.

Imports stop at a tenth of the batch limits, so a partner or currency that imports up to its limit
can still be paid, and the payments voided and paid again, several times over.
"""

from __future__ import annotations

PARTNER_IMPORT_LIMIT = 10**17
PARTNER_LIMIT = 10**18
CURRENCY_IMPORT_LIMIT = 10**18
CURRENCY_LIMIT = 3 * 10**18
DATABASE_PARTNER_LIMIT = 2 * 10**18


class TurnoverBudget:
    """Running turnover of the partners and currencies an import adds to, refusing what would cross.

    Every row is counted as new, even one a re-import finds already recorded: the bound is then a
    little stricter than it needs to be, never looser, and no row is ever written past it.
    """

    def __init__(self, partner_limit: int = PARTNER_IMPORT_LIMIT, currency_limit: int = CURRENCY_IMPORT_LIMIT) -> None:
        self.partner_limit = partner_limit
        self.currency_limit = currency_limit
        self._partners: dict[int, int] = {}
        self._currencies: dict[str, int] = {}

    def start(self, partner_id: int, currency: str, turnover: int) -> None:
        """What a partner has already accumulated, before this import."""
        self._partners[partner_id] = turnover
        self._currencies[currency] = self._currencies.get(currency, 0) + turnover

    def start_currency(self, currency: str, turnover: int) -> None:
        """What partners this import cannot touch have already accumulated in a currency."""
        self._currencies[currency] = self._currencies.get(currency, 0) + turnover

    def add(self, partner_id: int, currency: str, amount: int) -> str | None:
        """Count one amount in; the reason it would cross a limit (and is not counted), or None."""
        partner_total = self._partners.get(partner_id, 0) + abs(amount)
        currency_total = self._currencies.get(currency, 0) + abs(amount)
        if partner_total > self.partner_limit:
            return "partner"
        if currency_total > self.currency_limit:
            return "currency"
        self._partners[partner_id] = partner_total
        self._currencies[currency] = currency_total
        return None
