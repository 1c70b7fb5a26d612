"""Who was on a team at an instant, from archived events: its clients and its staff.

ClientEnrolled puts a client on a team's caseload (a later one moves them), and so do a
re-referral after a discharge (ClientReReferred) and a completed transfer (TransferCompleted,
onto its `to_team_id`); StaffRegistered puts a staff member on a team. Events the journey
and staff areas add are read by name when they exist: StaffJoined like StaffRegistered,
ClientDischarged and StaffLeft take the person off. Only events that happened by the
instant count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispatch.review.facts import Archived, event_time_order, text

JOINS = {"ClientEnrolled": "client", "ClientReReferred": "client", "TransferCompleted": "client",
         "StaffRegistered": "staff", "StaffJoined": "staff"}  # fmt: skip
LEAVES = {"ClientDischarged": "client", "StaffLeft": "staff"}
MEMBERSHIP_TYPES = tuple(JOINS) + tuple(LEAVES)


def joined_team(fact: Archived) -> str | None:
    """The team a joining event puts its person on (a transfer: the team taking over)."""
    return text(fact, "to_team_id") or text(fact, "team_id")


@dataclass(frozen=True)
class Members:
    clients: tuple[str, ...]
    staff: tuple[str, ...]

    @property
    def clients_per_staff(self) -> float | None:
        return len(self.clients) / len(self.staff) if self.staff else None


def members_at(facts: Iterable[Archived], team_id: str, at: datetime) -> Members:
    """The team's clients and staff as the events up to `at` have them."""
    team_of: dict[tuple[str, str], str | None] = {}
    for f in event_time_order(facts):
        if f.occurred_at > at:
            break
        kind = JOINS.get(f.type) or LEAVES.get(f.type)
        person = text(f, f"{kind}_id") if kind else None
        if kind is None or person is None:
            continue
        team_of[(kind, person)] = joined_team(f) if f.type in JOINS else None
    on = sorted(k for k, t in team_of.items() if t == team_id)
    return Members(
        clients=tuple(p for kind, p in on if kind == "client"),
        staff=tuple(p for kind, p in on if kind == "staff"),
    )
