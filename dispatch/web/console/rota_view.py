"""The rota calendar as the page shows it: who covers each layer, day by day in the team's
time zone, with overrides, swaps, shifts, gaps and the out-of-hours fallback marked.
Pure: the rota state (dispatch.rota.state.TeamRota) and the instant are passed in; the
answers are dispatch.rota's own (`segments`, the fold `dispatch rota show` prints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.rota.events import Layer
from dispatch.rota.oncall import LAYERS, coverage, on_call
from dispatch.rota.state import TeamRota
from dispatch.rota.timeline import Segment, segments

DAYS = 7
# What a slot's mark says (the segment's source, or "swap" for a rotation turn a swap moved).
KINDS = {
    "rotation": "rotation",
    "swap": "swap",
    "override": "override",
    "shift": "shift",
    "nobody": "gap: nobody on the rota",
    "leaver": "gap: has left",
    "fallback": "out of hours: fallback",
}


@dataclass(frozen=True)
class Slot:
    """One stretch of one layer within one local day."""

    starts: str  # HH:MM local
    ends: str  # HH:MM local, 24:00 at midnight
    staff_id: str | None
    name: str  # who covers, the fallback, or who the rota names but has left
    kind: str  # a key of KINDS

    @property
    def mark(self) -> str:
        return KINDS[self.kind]

    @property
    def gap(self) -> bool:
        return self.kind in ("nobody", "leaver")


@dataclass(frozen=True)
class Day:
    day: date
    label: str  # "Mon 30 Nov"
    today: bool
    layers: dict[Layer, list[Slot]]


@dataclass(frozen=True)
class Change:
    """An override or a swap touching the calendar's week, in local time."""

    ident: str
    layer: Layer
    who: str
    starts: str
    ends: str


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    hours: str  # "24 hours a day" or "08:00 to 20:00"
    fallback: str  # where calls go when nobody of the team covers
    days: list[Day]
    overrides: list[Change]
    swaps: list[Change]


def week_bounds(now: datetime, zone_name: str) -> tuple[datetime, datetime]:
    """From the start of today to the end of the seventh day, local midnights (UTC)."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    return _midnight(today, zone), _midnight(today + timedelta(days=DAYS), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def fallback_text(team_id: str | None, number: str | None) -> str:
    if team_id:
        return f"team {team_id}"
    return number or "none set"


def names(rota: TeamRota) -> dict[str, str]:
    return {m.staff_id: m.display_name for m in rota.members()}


def kind_of(rota: TeamRota, seg: Segment) -> str:
    """The segment's source, or "swap" when a live swap moved this rotation turn."""
    if seg.source != "rotation" or seg.staff_id is None:
        return seg.source
    for _, swap in rota.live(rota.swaps):
        covers = swap.starts_at <= seg.starts_at < swap.ends_at
        if swap.layer == seg.layer and covers and seg.staff_id in (swap.staff_a, swap.staff_b):
            return "swap"
    return "rotation"


def _clock(at: datetime, zone: ZoneInfo, day: date) -> str:
    local = at.astimezone(zone)
    return "24:00" if local.date() > day else f"{local:%H:%M}"


def _slot(rota: TeamRota, seg: Segment, who: dict[str, str], fallback: str) -> Slot:
    kind = kind_of(rota, seg)
    if kind == "fallback":
        name = fallback
    elif seg.staff_id is not None:
        name = who.get(seg.staff_id, seg.staff_id)
    elif seg.unavailable is not None:
        name = who.get(seg.unavailable, seg.unavailable)
    else:
        name = "nobody"
    return Slot("", "", seg.staff_id, name, kind)


def calendar(rota: TeamRota, now: datetime) -> Calendar:
    """Seven local days from today, each layer's slots cut at local midnight."""
    zone = ZoneInfo(rota.time_zone)
    start, end = week_bounds(now, rota.time_zone)
    c = coverage(rota)
    fallback = fallback_text(c.fallback_team_id, c.fallback_number)
    who = names(rota)
    today = now.astimezone(zone).date()
    days = [
        Day(d, f"{d:%a %d %b}", d == today, {layer: [] for layer in LAYERS})
        for d in (today + timedelta(days=i) for i in range(DAYS))
    ]
    for layer in LAYERS:
        for seg in segments(rota, layer, start, end):
            shown = _slot(rota, seg, who, fallback)
            for day in days:
                lo = max(seg.starts_at, _midnight(day.day, zone))
                hi = min(seg.ends_at, _midnight(day.day + timedelta(days=1), zone))
                if lo < hi:
                    slot = Slot(_clock(lo, zone, day.day), _clock(hi, zone, day.day),
                                shown.staff_id, shown.name, shown.kind)  # fmt: skip
                    day.layers[layer].append(slot)
    hours = "24 hours a day" if c.all_day else f"{c.opens:%H:%M} to {c.closes:%H:%M}"
    return Calendar(rota.time_zone, hours, fallback, days,
                    _overrides(rota, start, end, who), _swaps(rota, start, end, who))  # fmt: skip


def _local(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%a %d %b %H:%M}"


def _overrides(rota: TeamRota, start: datetime, end: datetime, who: dict[str, str]) -> list[Change]:
    zone = ZoneInfo(rota.time_zone)
    found = [o for _, o in rota.live(rota.overrides) if o.starts_at < end and o.ends_at > start]
    return [
        Change(
            o.override_id,
            o.layer,
            who.get(o.staff_id, o.staff_id),
            _local(o.starts_at, zone),
            _local(o.ends_at, zone),
        )
        for o in sorted(found, key=lambda o: (o.starts_at, o.layer))
    ]


def _swaps(rota: TeamRota, start: datetime, end: datetime, who: dict[str, str]) -> list[Change]:
    zone = ZoneInfo(rota.time_zone)
    found = [w for _, w in rota.live(rota.swaps) if w.starts_at < end and w.ends_at > start]
    return [
        Change(
            w.swap_id,
            w.layer,
            f"{who.get(w.staff_a, w.staff_a)} and {who.get(w.staff_b, w.staff_b)}",
            _local(w.starts_at, zone),
            _local(w.ends_at, zone),
        )
        for w in sorted(found, key=lambda w: (w.starts_at, w.layer))
    ]


@dataclass(frozen=True)
class NowOnCall:
    """The on-call card: each layer's answer now, with what kind of entry gives it."""

    covered: bool
    primary: Slot
    backup: Slot
    fallback: str


def on_call_now(rota: TeamRota, now: datetime) -> NowOnCall:
    who = names(rota)
    c = coverage(rota)
    fallback = fallback_text(c.fallback_team_id, c.fallback_number)
    shown: dict[Layer, Slot] = {}
    for layer in LAYERS:
        answer = on_call(rota, layer, now)
        seg = Segment(layer, now, now + timedelta(seconds=1), answer.staff_id, answer.source,
                      answer.unavailable)  # fmt: skip
        shown[layer] = _slot(rota, seg, who, fallback)
    covered = on_call(rota, "primary", now).covered
    return NowOnCall(covered, shown["primary"], shown["backup"], fallback)


def local_input(value: str, zone_name: str) -> datetime | None:
    """A form's date and time: with an offset as given, else the team's local wall-clock
    time (a time that occurs twice is its first occurrence); None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone_name), fold=0)
    return parsed


def input_value(at: datetime, zone_name: str) -> str:
    """An instant as a datetime-local input's value in the team's zone."""
    return f"{at.astimezone(ZoneInfo(zone_name)):%Y-%m-%dT%H:%M}"
