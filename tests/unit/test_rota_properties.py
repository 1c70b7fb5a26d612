"""Properties of the rota for any generated schedule with overrides and swaps."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.rota.oncall import on_call
from dispatch.rota.state import fold
from dispatch.rota.timeline import segments
from tests.unit.test_rota_support import STAFF, WINDOW_START, envelopes, instants, schedules


@settings(max_examples=150, deadline=None)
@given(schedules(), st.lists(instants(), min_size=1, max_size=20))
def test_one_primary_when_covered_else_the_fallback(schedule, moments) -> None:  # type: ignore[no-untyped-def]
    """Every covered instant has exactly one primary on the team; every other, the fallback."""
    zone, payloads = schedule
    rota = fold(envelopes(zone, payloads)).team("t")
    for at in moments:
        answer = on_call(rota, "primary", at)
        if answer.covered:
            assert answer.staff_id in STAFF
            assert answer.source in ("rotation", "override")
        else:
            assert answer.staff_id is None and answer.source == "fallback"
            assert (answer.fallback_team_id is None) != (answer.fallback_number is None)


@settings(max_examples=60, deadline=None)
@given(schedules(), instants())
def test_segments_partition_the_window(schedule, start) -> None:  # type: ignore[no-untyped-def]
    """Over three days the answers form contiguous segments: no gap, no overlap."""
    zone, payloads = schedule
    rota = fold(envelopes(zone, payloads)).team("t")
    end = start + timedelta(days=3)
    segs = segments(rota, "primary", start, end)
    assert segs[0].starts_at == start and segs[-1].ends_at == end
    for a, b in itertools.pairwise(segs):
        assert a.ends_at == b.starts_at
        assert (a.staff_id, a.source) != (b.staff_id, b.source)
    for s in segs:
        mid = s.starts_at + (s.ends_at - s.starts_at) / 2
        assert on_call(rota, "primary", mid).staff_id == s.staff_id


@settings(max_examples=100, deadline=None)
@given(schedules(), st.data())
def test_replay_gives_the_same_answer(schedule, data) -> None:  # type: ignore[no-untyped-def]
    """Folding from scratch, incrementally, shuffled or with redeliveries gives one state."""
    zone, payloads = schedule
    events = envelopes(zone, payloads)
    whole = fold(events)
    cut = data.draw(st.integers(0, len(events)))
    assert fold(events[cut:], fold(events[:cut])) == whole
    shuffled = data.draw(st.permutations(events))
    assert fold(shuffled) == whole
    assert fold([*events, *data.draw(st.lists(st.sampled_from(events)))]) == whole
    at = WINDOW_START + timedelta(hours=data.draw(st.integers(0, 40 * 24)))
    assert on_call(fold(shuffled).team("t"), "primary", at) == on_call(
        whole.team("t"), "primary", at
    )
