"""The names the ledger's rows carry: the kinds of entry and the lengths of a checkpoint period.

Kept apart from the tables (domain.models) so that the report's query text and its rows, which a
report read through the driver alone uses (domain.direct_read), load without SQLAlchemy.
"""

from __future__ import annotations

COMMISSION = "commission"
CLAWBACK = "clawback"
PAYMENT = "payment"
ENTRY_KINDS = (COMMISSION, CLAWBACK, PAYMENT)

MONTH, YEAR = 1, 12  # partner_period.months: the length of a checkpoint period
