"""The rota over a window: contiguous segments of one answer each (for `rota show`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.rota.events import Layer
from dispatch.rota.oncall import Source, coverage, handoff_instant, on_call
from dispatch.rota.state import TeamRota


@dataclass(frozen=True)
class Segment:
    layer: Layer
    starts_at: datetime
    ends_at: datetime
    staff_id: str | None
    source: Source
    unavailable: str | None = None  # source "leaver": who the rota names but has left


def boundaries(rota: TeamRota, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in [start, end) where the answer may change, start included."""
    zone = ZoneInfo(rota.time_zone)
    points = {start}
    times = {r.handoff_time for _, r in rota.live(rota.rotations)}
    points.update(left for who in rota.leavers if (left := rota.left_at(who)) is not None)
    c = coverage(rota)
    if not c.all_day:
        times |= {c.opens, c.closes}
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date() + timedelta(days=1):
        points.update(handoff_instant(day, t, zone) for t in times)
        day += timedelta(days=1)
    spans: list[tuple[datetime, datetime | None]] = [
        *((r.starts_at, r.ends_at) for _, r in rota.live(rota.rotations)),
        *((o.starts_at, o.ends_at) for _, o in rota.live(rota.overrides)),
        *((w.starts_at, w.ends_at) for _, w in rota.live(rota.swaps)),
        *((s.starts_at, s.ends_at) for _, s in rota.live(rota.shifts)),
    ]
    for a, b in spans:
        points.add(a)
        if b is not None:
            points.add(b)
    return sorted(p for p in points if start <= p < end)


def segments(rota: TeamRota, layer: Layer, start: datetime, end: datetime) -> list[Segment]:
    """The layer's answers over [start, end), merged where consecutive answers agree."""
    out: list[Segment] = []
    cuts = [*boundaries(rota, start, end), end]
    for a, b in itertools.pairwise(cuts):
        answer = on_call(rota, layer, a)
        said = (answer.staff_id, answer.source, answer.unavailable)
        if out and (out[-1].staff_id, out[-1].source, out[-1].unavailable) == said:
            out[-1] = replace(out[-1], ends_at=b)
        else:
            out.append(Segment(layer, a, b, *said))
    return out
