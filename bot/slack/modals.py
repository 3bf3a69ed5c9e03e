"""A Reply's Form as a Slack modal, and a submitted modal back as values by field name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.slack.blocks import clip
from bot.slack.templating import render_json
from commands.reply import Form

MAX_TITLE = 24
MAX_INPUTS = 100
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_LABEL = 2000
MAX_METADATA = 3000
VALUE_ACTION = "value"


@dataclass(frozen=True)
class Choice:
    text: str
    value: str


@dataclass(frozen=True)
class FieldParts:
    name: str
    label: str
    hint: str
    required: bool
    default: str
    choices: tuple[Choice, ...]
    initial: Choice | None


@dataclass(frozen=True)
class ModalOrigin:
    """What the modal carries in private_metadata: the form's context and where it was opened."""

    context: str
    channel: str | None

    def encode(self) -> str:
        return json.dumps({"context": self.context, "channel": self.channel}, separators=(",", ":"))

    @classmethod
    def decode(cls, metadata: str) -> ModalOrigin:
        try:
            data = json.loads(metadata or "{}")
        except ValueError:
            return cls("", None)
        return cls(str(data.get("context") or ""), data.get("channel"))


def _field_parts(field: Any) -> FieldParts:
    """An option's value is its position, unique however alike two choices begin; the choice itself
    comes back as the option's text, which holds all of it (PAYMENT_TYPES entries fit an option)."""
    offered = field.choices[:MAX_OPTIONS]
    choices = tuple(Choice(clip(c, MAX_OPTION_TEXT), str(i)) for i, c in enumerate(offered))
    initial = next((choices[i] for i, c in enumerate(offered) if c == field.default), None)
    return FieldParts(
        name=field.name, label=clip(field.label, MAX_LABEL), hint=clip(field.hint, MAX_LABEL),
        required=field.required, default=field.default, choices=choices, initial=initial,
    )


def render_modal(form: Form, origin: ModalOrigin) -> dict[str, Any]:
    metadata = origin.encode()
    if len(metadata) > MAX_METADATA:
        raise ValueError(f"form context of {len(metadata)} characters does not fit a modal's private_metadata")
    return render_json(
        "modal.j2",
        callback_id=form.action,
        title=clip(form.title, MAX_TITLE),
        submit=clip(form.submit_label, MAX_TITLE),
        private_metadata=metadata,
        fields=[_field_parts(field) for field in form.fields[:MAX_INPUTS]],
    )


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """Each input's value by block_id (the field name); an empty input is an empty string."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for element in actions.values():
            selected = element.get("selected_option")
            if selected is not None:
                values[block_id] = (selected.get("text") or {}).get("text") or ""
            else:
                values[block_id] = element.get("value") or ""
    return values


def errors_for_view(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Slack only shows errors under blocks that exist; any other is shown under the first input."""
    block_ids = [block.get("block_id") for block in view.get("blocks", []) if block.get("type") == "input"]
    shown: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in block_ids or not block_ids else block_ids[0]
        shown[target] = clip(f"{shown[target]}; {message}" if target in shown else message, 2000)
    return shown
