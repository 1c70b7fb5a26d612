"""Escalation policies: ordered steps, each naming who is paged, how, and for how long.

A policy is frozen onto the dispatch when it opens (DispatchOpened.escalation), so a later
edit of the team's policy never changes a dispatch in flight.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.vocabulary import Channel

Target = Literal["primary", "backup", "team_lead", "whole_team", "manager"]


class EscalationStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: tuple[Target, ...] = Field(min_length=1)
    channels: tuple[Channel, ...] = ("sms",)
    ack_timeout_s: int = Field(ge=1, le=3600)


class EscalationPolicy(BaseModel):
    """Steps run in order; the whole list runs `rounds` times; then everyone, repeating."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[EscalationStep, ...] = Field(min_length=1)
    rounds: int = Field(default=2, ge=1, le=10)
    exhausted_repeat_s: int = Field(default=300, ge=1, le=3600)

    @model_validator(mode="after")
    def _first_step_is_a_person(self) -> EscalationPolicy:
        if "whole_team" in self.steps[0].targets:
            raise ValueError("the first step must page a person, not the whole team")
        return self

    def step(self, index: int) -> EscalationStep | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None


EXHAUSTED_STEP = EscalationStep(
    targets=("whole_team", "manager"), channels=("sms",), ack_timeout_s=300
)


def default_policy() -> EscalationPolicy:
    """Primary, backup, team lead, then the whole team and manager; five minutes each."""
    return EscalationPolicy(
        steps=(
            EscalationStep(targets=("primary",), ack_timeout_s=300),
            EscalationStep(targets=("backup",), ack_timeout_s=300),
            EscalationStep(targets=("team_lead",), ack_timeout_s=300),
            EscalationStep(targets=("whole_team", "manager"), ack_timeout_s=300),
        ),
        rounds=2,
        exhausted_repeat_s=300,
    )
