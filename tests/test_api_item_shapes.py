"""The quick shape check of API items agrees with the pydantic models that define the shapes.

An item the quick check passes goes to the row checks without its model being built, so the check
must never pass what the model would refuse (and should pass what the model accepts, or every item
pays for the model).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.api.records import MODELS, SHAPES, read_items

_JSON_VALUES = st.one_of(st.none(), st.booleans(), st.text(max_size=5),
                         st.decimals(allow_nan=False, allow_infinity=False, places=2),
                         st.lists(st.none(), max_size=1), st.dictionaries(st.just("a"), st.none(), max_size=1))


def _items(what: str) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(MODELS[what].model_fields) + ["extra", "Amount"]
    return st.dictionaries(st.sampled_from(names), _JSON_VALUES, max_size=len(names))


def _model_accepts(what: str, item: dict[str, Any]) -> bool:
    try:
        MODELS[what].model_validate(item, strict=True)
    except ValidationError:
        return False
    return True


@settings(max_examples=1500, deadline=None)
@given(what=st.sampled_from(sorted(MODELS)), data=st.data())
def test_the_quick_check_passes_exactly_the_items_the_model_accepts(what: str, data: st.DataObject) -> None:
    item = data.draw(_items(what))
    assert SHAPES[what].fits(item) == _model_accepts(what, item)


def test_an_item_that_fits_becomes_its_cells_as_text() -> None:
    item = {"date": "2015-06-01", "partner_code": "ACME", "kind": "commission", "amount": Decimal("120.50"),
            "reference": "ORD-1", "description": None}
    records, problems = read_items([item], "entries")
    assert problems == []
    assert records == [(0, {"date": "2015-06-01", "partner_code": "ACME", "kind": "commission", "amount": "120.50",
                            "reference": "ORD-1", "description": ""})]
