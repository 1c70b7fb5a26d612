"""The pure risk fold: scores, decay, contacts, crisis calls and hysteresis, in event time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.events import Envelope
from dispatch.risk.fold import RiskState, evolve, initial, reasons
from dispatch.risk.levels import DEFAULT_POLICY, LEVELS, RANK, level_for
from tests.unit.risk_builders import (
    CLIENT,
    contact,
    crisis_call,
    enrolled,
    plan,
    sign,
)


def fold(events: list[Envelope], state: RiskState | None = None) -> RiskState:
    s = state or initial(CLIENT)
    for e in events:
        s = evolve(s, e)
    return s


def test_three_warning_signs_in_48h_make_a_client_elevated() -> None:
    """Three early warning signs within two days move a stable client to elevated."""
    s = fold([enrolled(0), sign(1, "sleep_loss"), sign(20, "withdrawal"), sign(40, "missed_meds")])
    assert s.level == "elevated"
    assert any("withdrawal" in r for r in reasons(s))


def test_plan_weights_make_a_sign_count_more_for_this_client() -> None:
    """A sign the plan weights heavily moves the client further than an unweighted one."""
    plain = fold([enrolled(0), sign(1, "substance_use", 2)])
    weighted = fold([enrolled(0), plan(0, substance_use=3.0), sign(1, "substance_use", 2)])
    assert plain.level == "stable" and weighted.level == "elevated"


def test_signals_decay_with_the_half_life() -> None:
    """A signal counts half as much one half-life later, and the level falls back."""
    s = fold([enrolled(0), contact(0.5), sign(1, "sleep_loss", 5)])
    assert s.level == "elevated"
    later = fold([contact(1 + 72)], s)  # a visit halves it as well
    assert later.level == "stable"
    half = fold([sign(1 + 72, "other", 1)], s)
    assert abs(half.score - (2.5 + 1)) < 1e-9


def test_a_crisis_call_holds_crisis_until_a_face_to_face_visit() -> None:
    """A crisis call puts the client at crisis; a phone call does not lower it, a visit does."""
    s = fold([enrolled(0), crisis_call(2)])
    assert s.level == "crisis"
    assert fold([contact(3, "phone")], s).level == "crisis"
    visited = fold([contact(5)], s)
    assert RANK[visited.level] < RANK["crisis"]


def test_missed_contacts_and_no_visit_raise_risk() -> None:
    """Attempted contacts and a long time without a visit push the score up, and say so."""
    s = fold([enrolled(0), *(contact(h, "attempted") for h in (1, 5, 10))])
    assert s.level == "elevated"
    assert any("missed contact" in r for r in reasons(s))
    quiet = fold([enrolled(0), sign(24 * 6, "other", 1)])
    assert any("no face-to-face contact" in r for r in reasons(quiet))


def test_a_redelivered_event_is_folded_once() -> None:
    """An event at or below the last folded offset (a redelivery) changes nothing."""
    s = evolve(initial(CLIENT), sign(1, severity=3), offset=7)
    assert evolve(s, sign(1, severity=3), offset=7) is s
    assert evolve(s, sign(2, severity=3), offset=8).score > s.score


def test_events_of_other_kinds_or_clients_leave_the_state_alone() -> None:
    """Events the fold does not read, and crisis calls about someone else, change nothing."""
    s = fold([enrolled(0)])
    other = crisis_call(3).model_copy(
        update={"payload": crisis_call(3).payload.model_copy(update={"client_id": "c-99"})}
    )
    assert evolve(s, other) is s


event_lists = st.lists(
    st.one_of(
        st.builds(sign, st.floats(0, 200), st.sampled_from(["a", "b", "c"]), st.integers(1, 5)),
        st.builds(
            contact, st.floats(0, 200), st.sampled_from(["face_to_face", "phone", "attempted"])
        ),
        st.builds(crisis_call, st.floats(0, 200)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(event_lists)
def test_the_fold_is_deterministic_and_survives_serialisation(events: list[Envelope]) -> None:
    """Folding the same events twice, or through the table's JSON, gives identical states."""
    ordered = sorted(events, key=lambda e: e.occurred_at)
    direct = fold([enrolled(0), *ordered])
    again = fold([enrolled(0), *ordered])
    assert direct == again
    s = initial(CLIENT)
    for e in [enrolled(0), *ordered]:
        s = RiskState.model_validate_json(evolve(s, e).model_dump_json())
    assert s == direct


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.sampled_from(["a", "b"]), st.integers(1, 5)), max_size=12
    )
)
def test_signals_at_one_instant_commute(specs: list[tuple[float, str, int]]) -> None:
    """Signals observed at the same instant give the same level in any order (only time orders)."""
    events = [sign(10, name, sev, tag=str(i)) for i, (_, name, sev) in enumerate(specs)]
    forward = fold([enrolled(0), *events])
    backward = fold([enrolled(0), *reversed(events)])
    assert forward.level == backward.level
    assert abs(forward.score - backward.score) < 1e-9


def test_order_matters_where_it_should() -> None:
    """A visit before the signs leaves the client at risk; the same visit after lowers it."""
    signs = [sign(1, "a", 3), sign(2, "b", 3), sign(3, "c", 3)]
    visit_first = fold([enrolled(0), contact(0.5), *signs])
    visit_last = fold([enrolled(0), *signs, contact(3.5)])
    assert RANK[visit_first.level] > RANK[visit_last.level]


@settings(max_examples=300)
@given(
    st.sampled_from(LEVELS[1:]),
    st.lists(st.floats(0.0, 0.999), min_size=1, max_size=50),
)
def test_hysteresis_never_flaps_within_the_band(level: str, wiggles: list[float]) -> None:
    """Once a level is reached, a score wandering in [threshold - band, threshold] keeps it."""
    threshold = DEFAULT_POLICY.threshold(level)  # type: ignore[arg-type]
    current = level_for(threshold, "stable")
    assert current == level
    for w in wiggles:
        current = level_for(threshold - DEFAULT_POLICY.band * w, current)
        assert current == level


def test_levels_rise_at_the_threshold_and_fall_below_the_band() -> None:
    """Elevated at 4; stays elevated down to 3; stable below 3."""
    assert level_for(3.99, "stable") == "stable"
    assert level_for(4.0, "stable") == "elevated"
    assert level_for(3.0, "elevated") == "elevated"
    assert level_for(2.99, "elevated") == "stable"
    assert level_for(20.0, "stable") == "crisis"
    assert level_for(0.0, "crisis") == "stable"


def test_a_signal_reported_late_counts_as_decayed_from_when_it_happened() -> None:
    """A sign observed two half-lives before it reached us counts a quarter of its points."""
    s = fold([enrolled(0), contact(200), sign(200 - 144, "late", 4)])
    assert abs(s.score - 1.0) < 1e-9
