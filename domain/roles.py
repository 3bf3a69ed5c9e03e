"""Who may do what (SPEC §8): three nested roles, each granted by a setting, refused unless granted.

A role's setting lists user IDs (`U…`, `W…`), user-group IDs (`S…`) or `*` for every member of the
app's own workspace or organisation. Approvers may do all a requester may, and requesters all a
viewer may, so each role also admits the lists above it. A transport says who is asking (`Member`):
the user, the user groups it found them in, and whether they belong to the app's own workspace.
Nothing here talks to a chat service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

EVERYONE = "*"


class Role(Enum):
    VIEWER = ("viewer", "LEDGER_VIEWERS")
    REQUESTER = ("requester", "PAYOUT_REQUESTERS")
    APPROVER = ("approver", "PAYOUT_APPROVERS")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def setting(self) -> str:
        return self.value[1]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def is_group(entry: str) -> bool:
    """User-group IDs start with S; their members are read by the transport."""
    return entry.startswith("S")


@dataclass(frozen=True)
class Roles:
    """The three settings as written; an unset one is empty and takes its default in `entries`."""

    viewers: tuple[str, ...] = ()
    requesters: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Roles:
        return cls(viewers=_split(env.get("LEDGER_VIEWERS")), requesters=_split(env.get("PAYOUT_REQUESTERS")),
                   approvers=_split(env.get("PAYOUT_APPROVERS")))

    def entries(self, role: Role) -> tuple[str, ...]:
        """Everyone a role admits: its own list and the lists of the roles that include it."""
        if role is Role.APPROVER:
            return self.approvers
        if role is Role.REQUESTER:
            return self.requesters + self.approvers
        return self.viewers + self.requesters + self.approvers

    def groups(self) -> tuple[str, ...]:
        """Every user group any role names, once each, for the transport to resolve."""
        return tuple(dict.fromkeys(e for e in self.entries(Role.VIEWER) if is_group(e)))


@dataclass(frozen=True)
class Member:
    """The person asking, as the transport resolved them."""

    user: str
    groups: frozenset[str] = field(default_factory=frozenset)  # the listed user groups they belong to
    outsider: bool = False  # from another workspace or organisation (a Slack Connect channel)


@dataclass(frozen=True)
class Access:
    roles: Roles
    member: Member

    def holds(self, role: Role) -> bool:
        if self.member.outsider:
            return False
        admitted = self.roles.entries(role)
        return EVERYONE in admitted or self.member.user in admitted or bool(self.member.groups & set(admitted))

    def refusal(self, role: Role) -> str | None:
        """Why the member may not act in `role`, naming the role and its setting; None when they may."""
        if self.member.outsider:
            return ("This app answers only members of its own workspace; requests from another "
                    "organisation are refused, whatever the roles.")
        if self.holds(role):
            return None
        return (f"This needs the {role.label} role, which you do not have: ask whoever runs the app to add "
                f"your user ID ({self.member.user}) or one of your user groups to {role.setting}.")


@dataclass(frozen=True)
class Home:
    """The app's own workspace and, on Enterprise Grid, organisation (from the transport's auth check)."""

    team_id: str | None = None
    enterprise_id: str | None = None

    def admits(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """A member of the same workspace, or of the same Enterprise Grid organisation."""
        if team_id and team_id == self.team_id:
            return True
        return bool(self.enterprise_id) and enterprise_id == self.enterprise_id
