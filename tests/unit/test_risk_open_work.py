"""The team's open work for a client, in event time: outreach tasks closed by a visit,
post-crisis follow-ups opened by a resolved crisis dispatch and closed by a contact, the
caseload's discharge and re-referral, and the score as it stands when it is read."""

from __future__ import annotations

from datetime import timedelta

from dispatch.clients.events import ClientDischarged, ClientEnrolled, ClientReReferred
from dispatch.crisis.events import DispatchOpened, DispatchResolved
from dispatch.events import Envelope, derived_id, new_event
from dispatch.risk.decide import decide, missed_contact, needs_contact_target
from dispatch.risk.events import FollowUpClosed, FollowUpOpened, OutreachTaskClosed
from dispatch.risk.fold import RiskState, current_score, evolve, initial
from dispatch.risk.followups import closures, crisis_dispatch, open_follow_up
from tests.unit.risk_builders import CLIENT, TEAM, at, contact, enrolled, ev, sign

DISPATCH = derived_id("test-dispatch")


def run(events: list[Envelope]) -> tuple[RiskState, list[Envelope]]:
    """Fold each event and append what the risk agent decides about it (level changes,
    outreach tasks, closures), feeding decided client events back as the topic would."""
    state, decided = initial(CLIENT), []
    queue = list(events)
    while queue:
        event = queue.pop(0)
        after = evolve(state, event)
        out = decide(state, after, event, responder=None, now=event.occurred_at)
        out += closures(state, after, event, now=event.occurred_at)
        state = after
        decided += out
        queue = [e for e in out if e.key == CLIENT and e.type != "RiskLevelChanged"] + queue
    return state, decided


def elevated() -> list[Envelope]:
    return [enrolled(0), sign(1, "sleep_loss"), sign(2, "withdrawal", tag="a"), sign(3, "x")]


def follow_up(hours: float) -> Envelope:
    dispatch = opened("crisis_call")
    remembered = crisis_dispatch(dispatch)
    assert remembered is not None
    resolved = new_event(
        DispatchResolved(dispatch_id=DISPATCH, staff_id="s-nurse", via="sms", outcome="safe"),
        key=str(DISPATCH), occurred_at=at(hours), recorded_at=at(hours), actor="s-nurse",
    )  # fmt: skip
    return open_follow_up(remembered, resolved, within=timedelta(hours=24), now=at(hours))


def opened(reason: str, client_id: str | None = CLIENT) -> Envelope:
    payload = DispatchOpened(
        dispatch_id=DISPATCH, short_code="K7M2Q", team_id=TEAM, client_id=client_id,
        caller_kind="client", reason=reason, risk_level="crisis",  # type: ignore[arg-type]
        source_event_id=DISPATCH, assigned_staff_id="s-nurse",
    )  # fmt: skip
    return new_event(payload, key=str(DISPATCH), occurred_at=at(0), recorded_at=at(0), actor="t")


def test_a_visit_closes_the_outreach_task_the_elevated_level_opened() -> None:
    """Elevated opens a same-day outreach task; a phone call leaves it open, a face-to-face
    visit closes it, naming the visit."""
    state, decided = run([*elevated(), contact(4, "phone")])
    assert [e.type for e in decided].count("OutreachTaskCreated") == 1
    assert len(state.open_outreach) == 1 and "OutreachTaskClosed" not in [e.type for e in decided]
    visit = contact(5)
    state, decided = run([*elevated(), contact(4, "phone"), visit])
    (closed,) = [e.payload for e in decided if isinstance(e.payload, OutreachTaskClosed)]
    assert closed.contact_event_id == visit.event_id and closed.closed_by == "contact"
    assert state.open_outreach == ()


def test_a_task_that_arrives_after_the_visit_is_closed_at_once() -> None:
    """The task comes back from the agent after events already in the partition: when the
    visit that does it was folded first, it is closed as soon as it arrives."""
    state, decided = run(elevated())
    task = next(e for e in decided if e.type == "OutreachTaskCreated")
    before = evolve(state.model_copy(update={"open_outreach": ()}), contact(4))
    after = evolve(before, task)
    (closed,) = closures(before, after, task, now=at(4))
    assert closed.type == "OutreachTaskClosed" and after.open_outreach == ()


def test_a_resolved_crisis_call_opens_a_follow_up_that_a_contact_closes() -> None:
    """Resolving a client's crisis dispatch opens a follow-up due 24 h later; an attempted
    contact leaves it open, a phone call closes it."""
    opening = follow_up(2)
    p = opening.payload
    assert isinstance(p, FollowUpOpened)
    assert (opening.key, p.due_at, p.dispatch_id) == (CLIENT, at(26), DISPATCH)
    assert opening.event_id == follow_up(2).event_id  # once per dispatch
    state, decided = run([enrolled(0), opening, contact(3, "attempted")])
    assert state.open_follow_ups == (p.follow_up_id,)
    assert "FollowUpClosed" not in [e.type for e in decided]
    call = contact(4, "phone")
    state, decided = run([enrolled(0), opening, contact(3, "attempted"), call])
    (closed,) = [e.payload for e in decided if isinstance(e.payload, FollowUpClosed)]
    assert closed.contact_event_id == call.event_id and state.open_follow_ups == ()


def test_only_a_clients_crisis_dispatch_is_followed_up() -> None:
    """A risk dispatch or an unknown caller's call opens no follow-up."""
    assert crisis_dispatch(opened("crisis_text")) is not None
    assert crisis_dispatch(opened("risk_high")) is None
    assert crisis_dispatch(opened("crisis_call", client_id=None)) is None


def test_a_discharge_closes_open_work_and_stops_contact_alerts_until_re_referral() -> None:
    """Discharged: open tasks close (by discharge), no missed-contact alert; back after a
    re-referral, the contact gap starts again from then."""
    discharged = ev(ClientDischarged(client_id=CLIENT, team_id=TEAM, reason="stable"), 6, "d")
    state, decided = run([*elevated(), follow_up(5), discharged])
    closed = [e.payload for e in decided if isinstance(e.payload, OutreachTaskClosed)]
    assert [c.closed_by for c in closed] == ["discharge"]
    assert not state.on_caseload and state.open_follow_ups == ()
    assert missed_contact(state, now=at(24 * 30)) is None
    back = ev(ClientReReferred(client_id=CLIENT, team_id=TEAM, source="cmht", source_team="C",
                               contact_target_days=3.0), 24 * 30, "back")  # fmt: skip
    state = evolve(state, back)
    assert state.on_caseload and state.enrolled_at == at(24 * 30)
    assert missed_contact(state, now=at(24 * 32)) is None
    alert = missed_contact(state, now=at(24 * 33 + 1))
    assert alert is not None and alert.occurred_at == at(24 * 33)


def test_an_enrolment_with_the_teams_target_needs_no_contact_target_event() -> None:
    """A ClientEnrolled carrying the team's target sets it at once (no timer round trip)."""
    payload = ClientEnrolled(client_id=CLIENT, team_id=TEAM, display_name="C", phone=None,
                             contact_target_days=7.0)  # fmt: skip
    state = evolve(initial(CLIENT), ev(payload, 0, "enrol-icm"))
    assert state.contact_target_days == 7.0 and not needs_contact_target(state)
    assert missed_contact(state, now=at(24 * 6)) is None


def test_the_score_read_later_has_decayed() -> None:
    """Read 72 h after a signal, the score is half what it was (the half-life), not the
    value at the last change of level."""
    state, _ = run([enrolled(0), sign(0, "sleep_loss", 3)])
    assert current_score(state, at(0)) == 3.0
    assert abs(current_score(state, at(72)) - 1.5) < 1e-9
