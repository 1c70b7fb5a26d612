"""Builders and hypothesis strategies shared by the rota tests (no tests of its own)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import count

from hypothesis import strategies as st

from dispatch.events import Envelope, EventPayload, new_event
from dispatch.rota.events import (
    CoverageSet,
    OverrideCancelled,
    OverrideScheduled,
    RotationDefined,
    ShiftsSwapped,
    StaffRegistered,
    TeamFormed,
)

NY = "America/New_York"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_tick = count()


def ev(payload: EventPayload, *, at: datetime | None = None) -> Envelope:
    """An envelope for a rota payload; without `at`, each event is one second newer."""
    when = at or T0 + timedelta(seconds=next(_tick))
    team_id = str(getattr(payload, "team_id", "t"))
    return new_event(payload, key=team_id, occurred_at=when, recorded_at=when, actor="test")


def team(team_id: str = "t", zone: str = NY, model: str = "ACT") -> Envelope:
    return ev(
        TeamFormed(
            team_id=team_id,
            name=team_id,
            service_model=model,  # type: ignore[arg-type]
            time_zone=zone,
            fallback_number="+15550009999",
            crisis_line_number=None,
        )
    )


def staff(staff_id: str, team_id: str = "t", n: int = 1) -> Envelope:
    return ev(
        StaffRegistered(
            staff_id=staff_id,
            team_id=team_id,
            display_name=staff_id,
            role="nurse",
            gender="female",
            phone=f"+1555010{n:04d}",
        )
    )


def hm(h: int, m: int = 0) -> time:
    return time(h, m)


# --- hypothesis strategies ---------------------------------------------------------------
ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "UTC")
WINDOW_START = datetime(2026, 3, 1, tzinfo=UTC)  # spans the March/April DST changes
WINDOW = timedelta(days=40)
STAFF = ("s1", "s2", "s3", "s4")


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    minutes = draw(st.integers(0, int(WINDOW.total_seconds() // 60) - 1))
    return WINDOW_START + timedelta(minutes=minutes)


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(instants())
    return start, start + timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))


@st.composite
def schedules(draw: st.DrawFn) -> tuple[str, list[EventPayload]]:
    """A team's rota events: coverage, a primary (and maybe backup) rotation, overrides,
    cancellations and swaps. The primary rotation starts before the window."""
    zone = draw(st.sampled_from(ZONES))
    events: list[EventPayload] = []
    if draw(st.booleans()):
        opens, closes = draw(
            st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda oc: oc[0] != oc[1])
        )
        fallback = draw(
            st.sampled_from([{"fallback_team_id": "other"}, {"fallback_number": "+15550002222"}])
        )
        events.append(
            CoverageSet(
                team_id="t", all_day=False, opens=time(opens), closes=time(closes), **fallback
            )
        )
    for layer in ("primary", "backup"):
        if layer == "backup" and draw(st.booleans()):
            continue
        events.append(
            RotationDefined(
                team_id="t",
                rotation_id=f"r-{layer}",
                layer=layer,  # type: ignore[arg-type]
                period=draw(st.sampled_from(["daily", "weekly"])),
                handoff_time=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
                handoff_weekday=draw(st.integers(0, 6)),
                participants=tuple(
                    draw(st.lists(st.sampled_from(STAFF), min_size=1, max_size=4, unique=True))
                ),
                starts_at=WINDOW_START - timedelta(days=draw(st.integers(1, 30))),
            )
        )
    for i in range(draw(st.integers(0, 4))):
        a, b = draw(spans())
        events.append(
            OverrideScheduled(
                team_id="t",
                override_id=f"o{i}",
                layer=draw(st.sampled_from(["primary", "backup"])),
                staff_id=draw(st.sampled_from(STAFF)),
                starts_at=a,
                ends_at=b,
            )
        )
        if draw(st.booleans()):
            events.append(OverrideCancelled(team_id="t", override_id=f"o{i}"))
    for i in range(draw(st.integers(0, 3))):
        a, b = draw(spans())
        x, y = draw(st.lists(st.sampled_from(STAFF), min_size=2, max_size=2, unique=True))
        events.append(
            ShiftsSwapped(
                team_id="t",
                swap_id=f"w{i}",
                layer="primary",
                staff_a=x,
                staff_b=y,
                starts_at=a,
                ends_at=b,
            )
        )
    return zone, events


def envelopes(zone: str, payloads: list[EventPayload]) -> list[Envelope]:
    """The team, its staff and the payloads, stamped one second apart in order."""
    base = WINDOW_START - timedelta(days=60)
    out = [team(zone=zone), *(staff(s, n=i) for i, s in enumerate(STAFF))]
    out += [ev(p) for p in payloads]
    return [
        e.model_copy(
            update={
                "occurred_at": base + timedelta(seconds=i),
                "recorded_at": base + timedelta(seconds=i),
            }
        )
        for i, e in enumerate(out)
    ]
