"""Jinja2 templates for what people read: `shell/` for the terminal, `slack/` for Block Kit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2


def environment(folder: str, filters: dict[str, Callable[..., Any]]) -> jinja2.Environment:
    """One folder's templates. Nothing is HTML, so no autoescaping; each transport escapes for its
    own markup, and a missing value is an error rather than an empty string."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("templates", folder),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env
