"""Whether the person behind a Slack request belongs to the app's own workspace (SPEC §8, outsiders).

The app's workspace and Enterprise Grid organisation come from `auth.test`, which Bolt calls to
authorize every request (`context.authorize_result`). The person's come from the payload: a slash
command carries `team_id` and, on Enterprise Grid, `enterprise_id`; a click or a form carries
`user.team_id` and the organisation in `enterprise` (or `team.enterprise_id`); with an org-wide
install `team` is null. A Slack Connect user's `team_id` is their own organisation's.
"""

from __future__ import annotations

from typing import Any

from domain.roles import Home


def home_of(context: Any) -> Home:
    """The app's own workspace; an unknown one admits nobody."""
    result = getattr(context, "authorize_result", None)
    if result is None:
        return Home()
    return Home(team_id=result.team_id or None, enterprise_id=result.enterprise_id or None)


def command_is_outsider(body: dict[str, Any], context: Any) -> bool:
    return not home_of(context).admits(_text(body.get("team_id")), _text(body.get("enterprise_id")))


def interaction_is_outsider(body: dict[str, Any], context: Any) -> bool:
    """For block_actions and view_submission payloads."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    enterprise = body.get("enterprise")
    enterprise_id = enterprise.get("id") if isinstance(enterprise, dict) else enterprise
    return not home_of(context).admits(_text(user.get("team_id") or team.get("id")),
                                       _text(enterprise_id or team.get("enterprise_id")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
