"""Risk levels from a score, with hysteresis so a score near a threshold does not flap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dispatch.vocabulary import RiskLevel, ServiceModel

LEVELS: tuple[RiskLevel, ...] = ("stable", "elevated", "high", "crisis")
RANK: dict[RiskLevel, int] = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class RiskPolicy:
    """The numbers of the risk model. One policy for every replay: change it and replay."""

    half_life: timedelta = timedelta(hours=72)
    elevated_at: float = 4.0
    high_at: float = 8.0
    crisis_at: float = 14.0
    band: float = 1.0  # a level is left only when the score falls this far below its threshold
    visit_factor: float = 0.5  # a face-to-face visit halves the score
    phone_relief: float = 1.0
    missed_contact_points: float = 2.0
    crisis_contact_points: float = 8.0
    discharge_points: float = 4.0
    # A client with no ContactTargetSet yet (older events, a team not on the roster) gets
    # the strictest target: ACT's several face-to-face contacts a week.
    contact_target: timedelta = timedelta(days=3)
    act_contact_target: timedelta = timedelta(days=3)
    icm_contact_target: timedelta = timedelta(days=7)  # ICM: at least one visit a week
    aot_contact_target: timedelta = timedelta(days=3)  # Assertive Outreach: intensive, like ACT
    overdue_points_per_day: float = 1.0
    overdue_cap: float = 3.0
    plan_review_interval: timedelta = timedelta(days=182)  # plans are reviewed every 6 months

    def target_for(self, service_model: ServiceModel) -> timedelta:
        """The face-to-face contact target of a team's service model."""
        return {
            "ACT": self.act_contact_target,
            "ICM": self.icm_contact_target,
            "AOT": self.aot_contact_target,
        }[service_model]

    def threshold(self, level: RiskLevel) -> float:
        return {
            "stable": 0.0,
            "elevated": self.elevated_at,
            "high": self.high_at,
            "crisis": self.crisis_at,
        }[level]


DEFAULT_POLICY = RiskPolicy()


def level_for(score: float, current: RiskLevel, policy: RiskPolicy = DEFAULT_POLICY) -> RiskLevel:
    """Rise to the highest level whose threshold the score reaches; fall only below the band."""
    at = (0.0, policy.elevated_at, policy.high_at, policy.crisis_at)  # policy.threshold, by rank
    rank = RANK[current]
    for higher_rank in range(len(LEVELS) - 1, rank, -1):
        if score >= at[higher_rank]:
            return LEVELS[higher_rank]
    while rank > 0 and score < at[rank] - policy.band:
        rank -= 1
    return LEVELS[rank]


def higher(a: RiskLevel, b: RiskLevel | None) -> RiskLevel:
    if b is None:
        return a
    return a if RANK[a] >= RANK[b] else b
