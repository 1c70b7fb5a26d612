"""The risk timer decides only the states due by its tick (decision 055). `timer_due_at`
must name exactly the moment `timer_events` first decides something for a state: a later
time would delay an alert, an earlier one only costs a decode."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.risk.decide import EARLIEST, timer_due_at, timer_events
from dispatch.risk.fold import RiskState
from tests.unit.risk_builders import CLIENT, TEAM, at

hours = st.one_of(st.none(), st.sampled_from([0, 24, 24 * 5, 24 * 40]).map(at))
states = st.builds(
    RiskState,
    client_id=st.just(CLIENT),
    team_id=st.sampled_from([None, TEAM]),
    target_team=st.sampled_from([None, TEAM]),
    contact_target_days=st.sampled_from([None, 1.5, 7.0]),
    enrolled_at=hours,
    team_since=hours,
    last_face_to_face=hours,
    admitted=st.booleans(),
    left_caseload_at=st.sampled_from([None, at(24 * 60)]),
    alerted_since=hours,
    plan_reviewed_at=hours,
    review_alerted_for=hours,
)
MODELS = {TEAM: "ICM"}


@given(states, st.floats(0, 24 * 400))
def test_nothing_is_decided_before_a_state_is_due_and_something_is_when_it_is(
    state: RiskState, hours_in: float
) -> None:
    due = timer_due_at(state)
    now = at(hours_in)
    decided = timer_events([state], MODELS, now=now)
    if due is None or now < due:
        assert decided == []
    if due is not None:
        assert timer_events([state], MODELS, now=max(due, at(0))) != []


def test_a_visited_client_is_next_due_one_contact_target_after_the_visit() -> None:
    state = RiskState(
        client_id=CLIENT, team_id=TEAM, target_team=TEAM, contact_target_days=7.0,
        enrolled_at=at(0), last_face_to_face=at(24 * 5),
    )  # fmt: skip
    assert timer_due_at(state) == at(24 * 12)
    alerted = state.model_copy(update={"alerted_since": at(24 * 5)})
    assert timer_due_at(alerted) is None  # alerted for this gap: nothing until a new one
    reviewed = alerted.model_copy(update={"plan_reviewed_at": at(24)})
    assert timer_due_at(reviewed) == at(24) + timedelta(days=182)
    assert timer_due_at(state.model_copy(update={"target_team": None})) == EARLIEST
