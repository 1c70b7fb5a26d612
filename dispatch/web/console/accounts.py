"""Who may get a console account, and with what team: the rules `dispatch user add` checks
before anything is stored (pure: the staff member, if any, is read by the caller)."""

from __future__ import annotations

from datetime import datetime

from dispatch.web.console.access import ROLES
from projections.console_accounts import NewAccount
from projections.models import StaffMember

NAME_MAX = 100


class AccountRefused(ValueError):
    """Not created; `option` names the command-line option at fault."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def new_account(
    account_id: str,
    *,
    role: str,
    team_id: str | None,
    staff: StaffMember | None,
    now: datetime,
    created_by: str,
) -> NewAccount:
    """The account to create for a staff member (their team is the staff read model's; a
    different --team is refused, as is a leaver) or, with role admin only, for someone who
    is not on the staff (then --team is optional: without one the account sees no team)."""
    name = account_id.strip()
    if not name or len(name) > NAME_MAX or any(ch.isspace() for ch in name):
        raise AccountRefused("--staff", f"give a staff id of 1-{NAME_MAX} characters, no spaces")
    if role not in ROLES:
        raise AccountRefused("--role", f"must be one of {', '.join(ROLES)}")
    if staff is None:
        if role != "admin":
            raise AccountRefused(
                "--staff", f"no staff member {name}; only an admin account may be for someone "
                "who is not on a team's staff (`dispatch staff join` first)",
            )  # fmt: skip
        return NewAccount(account_id=name, staff_id=None, team_id=team_id, role=role,
                          created_at=now, created_by=created_by)  # fmt: skip
    if staff.has_left(now):
        raise AccountRefused("--staff", f"{name} has left the team")
    if team_id is not None and team_id != staff.team_id:
        raise AccountRefused("--team", f"{name} is on the staff of {staff.team_id}, not {team_id}")
    return NewAccount(account_id=name, staff_id=staff.staff_id, team_id=None, role=role,
                      created_at=now, created_by=created_by)  # fmt: skip
