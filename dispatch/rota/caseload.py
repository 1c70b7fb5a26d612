"""Caseload figures: clients per staff member against the service model's ratio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caseload:
    """Clients per staff member of a team against its service model's ratio."""

    team_id: str
    service_model: str
    clients: int
    staff: int
    clients_per_staff: float | None  # None: a team with no staff
    target_per_staff: int
    over_ratio: bool


# Clients per staff member each model is built for (about): ACT 1:10, ICM 1:20, Assertive
# Outreach 1:12 (ten to twelve people per worker).
TARGET_PER_STAFF = {"ACT": 10, "ICM": 20, "AOT": 12}


def caseload(team_id: str, service_model: str, *, clients: int, staff: int) -> Caseload:
    """The team's figure; over_ratio when clients per staff exceed the model's target
    (a team with clients and no staff is over)."""
    target = TARGET_PER_STAFF.get(service_model, TARGET_PER_STAFF["ACT"])
    per_staff = round(clients / staff, 2) if staff else None
    over = clients > 0 if per_staff is None else per_staff > target
    return Caseload(team_id, service_model, clients, staff, per_staff, target, over)
