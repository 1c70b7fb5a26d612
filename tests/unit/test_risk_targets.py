"""Contact targets per service model and overdue plan reviews: pure fold and timer decisions."""

from __future__ import annotations

from datetime import timedelta

from dispatch.clients.events import ClientEnrolled
from dispatch.events import Envelope
from dispatch.risk.decide import (
    missed_contact,
    needs_contact_target,
    plan_review_overdue,
    set_contact_target,
    timer_events,
)
from dispatch.risk.events import (
    ContactTargetSet,
    MissedContactAlerted,
    PlanReviewOverdue,
    RelapsePlanRevised,
)
from dispatch.risk.fold import RiskState, evolve, initial, reasons
from dispatch.risk.levels import DEFAULT_POLICY
from tests.unit.risk_builders import CLIENT, TEAM, at, contact, enrolled, ev, plan, target

DAY = 24.0


def fold(*events: Envelope) -> RiskState:
    s = initial(CLIENT)
    for e in events:
        s = evolve(s, e)
    return s


def test_an_icm_client_is_not_overdue_within_seven_days() -> None:
    """Five days without a visit: overdue under ACT's 3-day target, not under ICM's 7."""
    act = fold(enrolled(0), target(0, "ACT", 3), contact(5 * DAY, "phone"))
    icm = fold(enrolled(0), target(0, "ICM", 7), contact(5 * DAY, "phone"))
    assert act.effective > 0 and icm.effective == 0
    assert any("target 3)" in r for r in reasons(act)) and not reasons(icm)
    late = evolve(icm, contact(9 * DAY, "phone"))
    assert any("no face-to-face contact for 9 days (target 7)" in r for r in reasons(late))


def test_a_client_without_a_target_event_keeps_the_act_default() -> None:
    """Old streams (no ContactTargetSet) read as before: the 3-day default applies."""
    s = fold(enrolled(0), contact(5 * DAY, "phone"))
    assert s.contact_target_days is None and s.effective == 2.0  # 2 days past 3


def test_missed_contact_alerts_use_the_clients_target() -> None:
    """The timer alerts an ICM client after 7 days, not 3, and the alert says 7."""
    icm = fold(enrolled(0), target(0, "ICM", 7))
    assert missed_contact(icm, now=at(4 * DAY)) is None
    alert = missed_contact(icm, now=at(8 * DAY))
    assert alert is not None and isinstance(alert.payload, MissedContactAlerted)
    assert alert.payload.target_days == 7 and alert.occurred_at == at(7 * DAY)


def test_a_target_for_a_team_the_client_left_is_ignored() -> None:
    """A target set for the previous team does not apply after a move to another team."""
    moved = ev(
        ClientEnrolled(client_id=CLIENT, team_id="icm-east", display_name="C 77", phone=None),
        30,
        "move",
    )
    s = fold(enrolled(0), target(0, "ACT", 3), moved, target(1, "ACT", 3))
    assert s.team_id == "icm-east" and s.team_since == at(30)
    assert needs_contact_target(s)


def test_the_timer_sets_the_target_from_the_teams_service_model_once() -> None:
    """A new client of an ICM team: the tick emits ContactTargetSet (dated at enrolment,
    id from the enrolment) and no alert; once folded, nothing more is set."""
    s = fold(enrolled(0))
    (event,) = timer_events([s], {TEAM: "ICM"}, now=at(4 * DAY))
    assert isinstance(event.payload, ContactTargetSet)
    assert (event.payload.target_days, event.occurred_at) == (7, at(0))
    again = set_contact_target(s, "ICM", now=at(5 * DAY))
    assert again is not None and again.event_id == event.event_id
    folded = evolve(s, event)
    assert not needs_contact_target(folded)
    assert timer_events([folded], {TEAM: "ICM"}, now=at(4 * DAY)) == []


def test_a_team_not_on_the_roster_falls_back_to_the_default_target() -> None:
    """No service model known for the team: no target event, alerts at the ACT default."""
    s = fold(enrolled(0))
    (alert,) = timer_events([s], {}, now=at(4 * DAY))
    assert isinstance(alert.payload, MissedContactAlerted) and alert.payload.target_days == 3


def test_an_unreviewed_plan_is_flagged_once_six_months_on() -> None:
    """Six months after the plan was agreed the timer flags it, once per plan version; a
    revision restarts the clock."""
    s = fold(enrolled(0), target(0, "ACT", 3), plan(1, sleep_loss=2.0), contact(2))
    due = at(1) + DEFAULT_POLICY.plan_review_interval
    assert plan_review_overdue(s, now=due - timedelta(minutes=1)) is None
    flag = plan_review_overdue(s, now=due + timedelta(days=3))
    assert flag is not None and isinstance(flag.payload, PlanReviewOverdue)
    assert (flag.payload.reviewed_at, flag.occurred_at) == (at(1), due)
    assert flag.event_id == plan_review_overdue(s, now=due + timedelta(days=9)).event_id  # type: ignore[union-attr]
    flagged = evolve(s, flag)
    assert plan_review_overdue(flagged, now=due + timedelta(days=9)) is None
    revised = evolve(
        flagged,
        ev(RelapsePlanRevised(client_id=CLIENT, agreed_by="s-nurse"), 200 * DAY, "rev"),
    )
    assert revised.plan_reviewed_at == at(200 * DAY)
    assert plan_review_overdue(revised, now=due + timedelta(days=9)) is None


def test_old_table_states_are_readable() -> None:
    """A state stored before these fields existed loads with their defaults."""
    old = {"client_id": CLIENT, "team_id": TEAM, "score": 1.5, "level": "stable"}
    s = RiskState.model_validate(old)
    assert s.contact_target_days is None and s.plan_reviewed_at is None
