"""Who may see and do what on the console: the roles, the team scope and the checks made
on every request (not only at sign-in). Pure: the facts are read by the caller.

Roles and team scoping are the API's: a console account stands for the API token
`team:role:staff_id` its person would hold. Everyone sees only their own team; the rota
and staff changes and the review are for the API's team leads and managers
(`LEADS`, the same sets the API routes name); an admin counts as a manager of its
team. Acting on a dispatch needs a staff member, as the API needs a token naming one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from projections.console_accounts import Account, Failures
from projections.models import StaffMember

ConsoleRole = Literal["staff", "team_lead", "manager", "admin"]
ROLES: tuple[ConsoleRole, ...] = ("staff", "team_lead", "manager", "admin")
API_ROLE: dict[str, str] = {
    "staff": "staff",
    "team_lead": "team_lead",
    "manager": "manager",
    "admin": "manager",
}
LEADS = frozenset({"team_lead", "manager"})  # dispatch/web/rota_api.py, staff_api.py, review_api.py

# Sign-in attempts: refused for a while after this many failures in the window.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20


@dataclass(frozen=True)
class Viewer:
    """The signed-in person behind a request, as checked for this request."""

    account_id: str
    staff_id: str | None
    team_id: str | None  # None: an admin with no team, who sees no team's data
    role: str
    display_name: str
    csrf_token: str
    session_digest: str

    @property
    def api_role(self) -> str:
        return API_ROLE.get(self.role, "staff")

    def may(self, roles: frozenset[str]) -> bool:
        """Whether the API would let this person's token through a route for `roles`."""
        return self.api_role in roles

    @property
    def may_act(self) -> bool:
        """Take, pass on and close dispatches: a staff member of the team."""
        return self.staff_id is not None and self.team_id is not None

    @property
    def audit_name(self) -> str:
        """Who read client records, in ClientRecordsViewed.viewer."""
        return f"console:{self.role}:{self.account_id}"


REFUSALS = {
    "left": "This account no longer has access: its staff member has left the team.",
    "disabled": "This account has been disabled.",
    "not_on_staff": "This account's staff member is not on any team's staff.",
}


@dataclass(frozen=True)
class Refused:
    """Why an account may not use the console now (a key of REFUSALS)."""

    why: str

    @property
    def reason(self) -> str:
        return REFUSALS[self.why]


def access(
    account: Account, staff: StaffMember | None, now: datetime
) -> tuple[str | None, str] | Refused:
    """(team id, display name) the account sees now, or why it is refused. A staff
    account follows the staff read model: a leaver is refused from the instant they
    leave, and someone who moved team sees the new team."""
    if account.disabled_at is not None and account.disabled_at <= now:
        return Refused("disabled")
    if account.staff_id is None:
        return account.team_id, account.account_id
    if staff is None:
        return Refused("not_on_staff")
    if staff.has_left(now):
        return Refused("left")
    return staff.team_id, staff.display_name


def sign_in_blocked(failures: Failures) -> bool:
    """Too many recent failures for the name typed or from the address."""
    return failures.by_account >= MAX_FAILURES_PER_ACCOUNT or failures.by_ip >= MAX_FAILURES_PER_IP
