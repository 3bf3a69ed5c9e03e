"""`column IN (values)` for lists of thousands, bound as one value.

A batch pays up to 100,000 partners and an API request names up to 10,000; binding each value on its
own (SQLAlchemy compiling one parameter per value, the driver binding each) cost more than the query.
The list goes as one JSON array read by `json_each` on SQLite and as one array on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import BigInteger, ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column: ColumnElement, values: Iterable[int] | Iterable[str]) -> ColumnElement[bool]:
    """Whether `column` is one of `values` (whole numbers or text, as the column holds)."""
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        element = String if column.type.python_type is str else BigInteger
        return column == any_(bindparam(None, listed, type_=ARRAY(element)))
    return column.in_(select(func.json_each(json.dumps(listed)).table_valued("value").c.value))
