"""A Reply as a Block Kit message that Slack accepts however large the reply is.

Python cuts the reply to Slack's limits (50 blocks, 3,000 characters a section, 10 fields a
section, 75-character button labels); templates/slack/message.j2 lays the pieces out.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.slack.templating import escape_code, escape_mrkdwn, mrkdwn_line, plain_line, render_json
from commands.reply import Button, Reply, Section, Style, Table
from commands.text_table import render as render_table

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER = 150
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_CONFIRM_TEXT = 300
MAX_FALLBACK_TEXT = 3000
MAX_BUTTON_VALUE = 2000
MAX_MESSAGE_CHARS = 12_000  # Slack refuses a message whose blocks add up to much more, whatever each block's limit
log = logging.getLogger(__name__)

FENCE = "```"
ACTION_SUFFIX = "#"  # action_ids must be unique in a message; a repeated action gets "#2", "#3"…


@dataclass(frozen=True)
class ButtonParts:
    action_id: str
    label: str
    value: str
    style: str | None
    confirm: str | None


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chunk_lines(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where a line allows it."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def code_chunks(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Monospace text split over several sections, each fenced on its own so none is left open."""
    room = limit - 2 * len(FENCE) - 2
    return [f"{FENCE}\n{piece}\n{FENCE}" for piece in chunk_lines(text, room)]


def section_texts(section: Section) -> list[str]:
    """A section's mrkdwn, escaped, then chunked; a fenced code block stays fenced in every chunk, and
    what is inside it can never close it."""
    title = f"*{mrkdwn_line(clip(section.title, 200))}*\n" if section.title else ""
    body = section.text.strip()
    if len(body) > 2 * len(FENCE) and body.startswith(FENCE) and body.endswith(FENCE):
        inner = escape_code(body[len(FENCE):-len(FENCE)].strip("\n"))
        chunks = code_chunks(inner, MAX_SECTION_TEXT - len(title))
    else:
        chunks = chunk_lines(escape_mrkdwn(body), MAX_SECTION_TEXT - len(title))
    return [title + chunks[0], *chunks[1:]]


def table_chunks(table: Table) -> list[str]:
    right = table.right_aligned or (False,) * len(table.columns)
    text = render_table(table.columns, table.rows, right, max_width=40)
    return code_chunks(escape_code(text))


def figure_groups(reply: Reply) -> list[list[str]]:
    """Fields' mrkdwn ("*label*\nvalue"), escaped and then clipped, so escaping cannot overflow them."""
    texts = [clip(f"*{mrkdwn_line(f.label)}*\n{mrkdwn_line(f.value)}", MAX_FIELD_TEXT) for f in reply.figures]
    return [texts[i:i + MAX_FIELDS] for i in range(0, len(texts), MAX_FIELDS)]


def button_parts(buttons: list[Button]) -> list[ButtonParts]:
    """A button whose value Slack would refuse (over 2,000 characters) is left out, and logged,
    rather than costing the whole message."""
    seen: dict[str, int] = {}
    parts = []
    for button in buttons[:MAX_BUTTONS]:
        if len(button.value) > MAX_BUTTON_VALUE:
            log.warning("button %r left out: its value has %d characters, Slack takes %d", button.label[:40],
                        len(button.value), MAX_BUTTON_VALUE)
            continue
        seen[button.action] = seen.get(button.action, 0) + 1
        count = seen[button.action]
        parts.append(ButtonParts(
            action_id=button.action if count == 1 else f"{button.action}{ACTION_SUFFIX}{count}",
            label=clip(plain_line(button.label), MAX_BUTTON_LABEL),
            value=button.value,
            style=None if button.style is Style.DEFAULT else button.style.value,
            confirm=clip(plain_line(button.confirm), MAX_CONFIRM_TEXT) if button.confirm else None,
        ))
    return parts


def action_of(action_id: str) -> str:
    """The Reply's action behind a rendered action_id (undoing the suffix of repeated actions)."""
    return action_id.split(ACTION_SUFFIX, 1)[0]


def action_id_pattern(action: str) -> re.Pattern[str]:
    """Every action_id `button_parts` renders for `action` ("payout.approve", "payout.approve#2"…) and
    nothing else, so a listener registered with it gets exactly that action's clicks."""
    return re.compile(rf"\A{re.escape(action)}(?:{re.escape(ACTION_SUFFIX)}[0-9]+)?\Z")


def fit_blocks(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS,
               budget: int = MAX_MESSAGE_CHARS) -> list[dict[str, Any]]:
    """At most `limit` blocks and `budget` characters in all: the middle gives way, the headline and
    the buttons stay, and a note says how much is not shown."""
    if len(blocks) <= limit and blocks_size(blocks) <= budget:
        return blocks
    tail = [blocks[-1]] if blocks[-1].get("type") == "actions" else []
    body = blocks[:len(blocks) - len(tail)]
    keep = min(len(body), limit - 1 - len(tail))
    while keep > 1 and blocks_size([*body[:keep], _not_shown(len(body) - keep), *tail]) > budget:
        keep -= 1
    return [*body[:keep], _not_shown(len(body) - keep), *tail]


def blocks_size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")))


def _not_shown(dropped: int) -> dict[str, Any]:
    return {"type": "context", "elements": [{
        "type": "mrkdwn", "text": f"… {dropped} more part(s) not shown here; the attached file or the CLI has it all.",
    }]}


def fallback_text(reply: Reply) -> str:
    """The notification and screen-reader text; errors carry their explanation too."""
    parts = [mrkdwn_line(reply.headline)]
    if reply.is_error:
        parts += [escape_mrkdwn(section.text) for section in reply.sections]
    return clip("\n".join(parts), MAX_FALLBACK_TEXT)


def lead_text(reply: Reply) -> str:
    """The first block as a mrkdwn section instead of a header: for errors, and for a headline too long
    for a header (totals in many currencies, what changed in a stale batch), which would lose its end."""
    if reply.is_error:
        return clip(":warning: " + mrkdwn_line(reply.headline), MAX_SECTION_TEXT)
    if len(reply.headline) > MAX_HEADER:
        return clip(f"*{mrkdwn_line(reply.headline)}*", MAX_SECTION_TEXT)
    return ""


def render_blocks(reply: Reply, *, with_buttons: bool = True) -> list[dict[str, Any]]:
    blocks = render_json(
        "message.j2",
        headline=clip(plain_line(reply.headline), MAX_HEADER),
        lead_text=lead_text(reply),
        figure_groups=figure_groups(reply),
        table_chunks=table_chunks(reply.table) if reply.table and reply.table.rows else [],
        caption=clip(mrkdwn_line(reply.table.caption), MAX_SECTION_TEXT) if reply.table else "",
        section_texts=[text for section in reply.sections for text in section_texts(section)],
        files=clip(mrkdwn_line(", ".join(attachment.filename for attachment in reply.files)), MAX_SECTION_TEXT - 20),
        buttons=button_parts(reply.buttons) if with_buttons else [],
    )
    return fit_blocks(blocks)


def render_message(reply: Reply, *, with_buttons: bool = True) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage, chat.update, chat.postEphemeral or a response_url."""
    return {"text": fallback_text(reply), "blocks": render_blocks(reply, with_buttons=with_buttons)}
