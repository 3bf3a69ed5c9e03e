"""JSON items into the (index, fields as text) records the import's row checks read.

The models check each item's shape; every shape problem is named with the item's index and field,
and the rest of the item still goes on to the row checks, so one answer lists every problem.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.api.models import EntryItem, PartnerItem
from bot.api.openapi import MAX_ITEMS
from commands.use_imports import RowProblem

MODELS: dict[str, type[BaseModel]] = {"partners": PartnerItem, "entries": EntryItem}
# Beyond this many digits either side of the point a number is no amount; it is passed on as JSON wrote
# it, for the amount check to refuse, rather than written out in full.
_MAX_PLAIN_DIGITS = 40
_NUMBERS = ("amount", "hold_days")  # fields that may be given as a JSON string or number


@dataclass
class RecordsRefused(Exception):
    """The body as a whole cannot be read as items: not an array (400), or too many items (413)."""

    status: int
    reason: str


def _text(value: Any) -> str:
    """A value as the cell of a file would hold it; a JSON number exactly as written, not via float."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value.adjusted()) <= _MAX_PLAIN_DIGITS:
            return format(value, "f")
        return str(value)
    return str(value)


def _reason(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return f"unknown field (the fields are: {', '.join(model.model_fields)})"
    if error["loc"] and error["loc"][0] in _NUMBERS:
        return "must be a string or a number"
    if kind == "string_type":
        return "must be a string"
    return str(error["msg"])


@dataclass(frozen=True)
class _Shape:
    """What a model accepts, as plain sets read from its fields: an item that plainly fits passes
    without a model being built (a request holds 10,000 items); any other goes to the model itself,
    which names each problem. JSON gives exactly str, Decimal, bool, None, list and dict, so
    comparing exact types agrees with the model's strict mode."""

    fields: frozenset[str]
    required: frozenset[str]
    accepted: dict[str, tuple[type, ...]]

    @classmethod
    def of(cls, model: type[BaseModel]) -> _Shape:
        accepted = {}
        for name, info in model.model_fields.items():
            union = typing.get_origin(info.annotation) in (typing.Union, types.UnionType)
            accepted[name] = typing.get_args(info.annotation) if union else (info.annotation,)
        required = frozenset(name for name, info in model.model_fields.items() if info.is_required())
        return cls(frozenset(model.model_fields), required, accepted)

    def fits(self, item: dict[str, Any]) -> bool:
        accepted = self.accepted
        return (not getattr(item, "repeated", ()) and item.keys() <= self.fields and self.required <= item.keys()
                and all(type(value) in accepted[name] for name, value in item.items()))


SHAPES = {what: _Shape.of(model) for what, model in MODELS.items()}


def _shape_problems(index: int, item: dict[str, Any], model: type[BaseModel]) -> list[RowProblem]:
    """Every shape problem of one item, one per field (a union type reports once, not per alternative)."""
    problems = [RowProblem(index, name, "given more than once in the item (only one value may count)")
                for name in getattr(item, "repeated", ())]
    try:
        model.model_validate(item, strict=True)
    except ValidationError as exc:
        named: set[str] = {problem.column for problem in problems}
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "(item)"
            if name not in named:
                named.add(name)
                problems.append(RowProblem(index, name, _reason(error, model)))
    return problems


def read_items(items: Any, what: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    """(index, fields) for the row checks, and the shape problems found on the way."""
    if not isinstance(items, list):
        raise RecordsRefused(400, f"the body must be a JSON array of {what}")
    if len(items) > MAX_ITEMS:
        raise RecordsRefused(413, f"{len(items):,} items; send at most {MAX_ITEMS:,} a request")
    model, shape = MODELS[what], SHAPES[what]
    fields = shape.fields
    records: list[tuple[int, dict[str, str]]] = []
    problems: list[RowProblem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(RowProblem(index, "(item)", "must be a JSON object"))
            continue
        if shape.fits(item):
            records.append((index, {name: value if type(value) is str else _text(value) for name, value in item.items()}))
            continue
        found = _shape_problems(index, item, model)
        problems.extend(found)
        refused = {problem.column for problem in found}
        records.append((index, {name: value if type(value) is str else _text(value)
                                for name, value in item.items() if name in fields and name not in refused}))
    return records, problems
