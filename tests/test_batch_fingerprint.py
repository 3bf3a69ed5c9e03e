"""A batch's fingerprint is the digest batches already stored carry: the `repr` of each line's partner,
currency and figures in partner order, hashed in one stream."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from domain.batches import PlannedLine, fingerprint

_FIGURE = st.integers(min_value=-(10**17), max_value=10**17)
_LINE = st.builds(
    PlannedLine, partner_id=st.integers(min_value=1, max_value=10**9), partner_code=st.just("P1"),
    partner_name=st.just("Partner"), currency=st.sampled_from(["USD", "EUR", "JPY", "KWD", "X'Y"]),
    amount=_FIGURE, beginning_balance=_FIGURE, commissions=_FIGURE, clawbacks=_FIGURE, payments=_FIGURE,
    ending_balance=_FIGURE,
)


def _as_first_written(lines: list[PlannedLine]) -> str:
    digest = hashlib.sha256()
    for line in sorted(lines, key=lambda item: item.partner_id):
        digest.update(repr((line.partner_id, line.currency, *line.figures)).encode())
    return digest.hexdigest()


@given(st.lists(_LINE, max_size=30, unique_by=lambda line: line.partner_id))
def test_the_fingerprint_is_the_digest_of_each_lines_repr_in_partner_order(lines):
    assert fingerprint(lines) == _as_first_written(lines)


def test_the_fingerprint_does_not_depend_on_the_order_lines_arrive_in():
    lines = [PlannedLine(pid, f"P{pid}", "n", "USD", pid * 100, 0, pid * 100, 0, 0, pid * 100) for pid in (3, 1, 2)]
    assert fingerprint(lines) == fingerprint(list(reversed(lines)))
