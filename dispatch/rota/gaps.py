"""Coverage gaps: periods where the rota names someone who has left the team. Pure.

The on-call fold already refuses a leaver (source "leaver"); this turns those answers
into gaps over a window, as values for the huddle board and as CoverageGapDetected events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from dispatch.events import Envelope, derived_id, new_event
from dispatch.rota.events import CoverageGapDetected, Layer
from dispatch.rota.oncall import LAYERS, explicit_pick
from dispatch.rota.state import TeamRota
from dispatch.rota.timeline import segments

GAP_HORIZON = timedelta(days=28)
"""How far ahead a departure is checked against the rota (four weeks of rotations)."""

NamedBy = Literal["override", "shift", "rotation"]


@dataclass(frozen=True)
class CoverageGap:
    """Nobody covers `layer` from `starts_at` to `ends_at`: the rota names `staff_id`, who
    has left; `named_by` is the kind of rota entry that names them."""

    team_id: str
    layer: Layer
    starts_at: datetime
    ends_at: datetime
    staff_id: str
    named_by: NamedBy


def coverage_gaps(rota: TeamRota, start: datetime, end: datetime) -> list[CoverageGap]:
    """Every gap of the team's rota in [start, end), by layer then time."""
    gaps: list[CoverageGap] = []
    for layer in LAYERS:
        for seg in segments(rota, layer, start, end):
            if seg.source == "leaver" and seg.unavailable is not None:
                gaps.append(
                    CoverageGap(rota.team_id, layer, seg.starts_at, seg.ends_at,
                                seg.unavailable, _named_by(rota, layer, seg.starts_at))
                )  # fmt: skip
    return gaps


def _named_by(rota: TeamRota, layer: Layer, at: datetime) -> NamedBy:
    explicit = explicit_pick(rota, layer, at)
    by = explicit[1] if explicit else "rotation"
    return "override" if by == "override" else "shift" if by == "shift" else "rotation"


def gap_events(
    gaps: list[CoverageGap], *, now: datetime, actor: str, cause: Envelope | None = None
) -> list[Envelope]:
    """One CoverageGapDetected per gap; the id derives from the gap, so finding the same gap
    again records nothing new."""
    out: list[Envelope] = []
    for g in gaps:
        found = CoverageGapDetected(
            team_id=g.team_id,
            layer=g.layer,
            starts_at=g.starts_at,
            ends_at=g.ends_at,
            staff_id=g.staff_id,
            source=g.named_by,
        )
        gap_id = derived_id("coverage-gap", g.team_id, g.layer, g.staff_id,
                            g.starts_at.isoformat(), g.ends_at.isoformat())  # fmt: skip
        event = new_event(found, key=g.team_id, event_id=gap_id, occurred_at=now,
                          recorded_at=now, actor=actor, cause=cause)  # fmt: skip
        out.append(event)
    return out


def gap_line(gap: CoverageGap) -> str:
    """The gap as one line of text (UTC), for the huddle board."""
    return (
        f"COVERAGE GAP {gap.layer} {gap.starts_at:%Y-%m-%d %H:%M}Z -> "
        f"{gap.ends_at:%Y-%m-%d %H:%M}Z: the {gap.named_by} names {gap.staff_id}, who has left"
    )
