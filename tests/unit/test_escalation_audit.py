"""The escalation auditor's decisions: which dispatches are late, and the re-drive event."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.crisis.decide import DispatchView, Responder, acknowledge
from dispatch.escalation.audit import AUDITOR, fold, is_late, lateness, redrive
from dispatch.escalation.decide import escalate
from dispatch.escalation.events import EscalationDeadlineReached
from dispatch.escalation.policy import Target
from dispatch.escalation.service import EscalationService
from tests.unit.test_escalation import BACKUP, PRIMARY, ROTA, T0
from tests.unit.test_escalation import opened_events as opened

GRACE = timedelta(seconds=30)


class Rota:
    async def targets(
        self, team_id: str, targets: tuple[Target, ...], at: datetime
    ) -> dict[Target, list[Responder]]:
        return ROTA


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def test_a_step_past_its_deadline_by_more_than_the_grace_is_late() -> None:
    """Unanswered 60 s after the page, the step is due; 30 s more and the auditor calls it late."""
    state = fold(opened())
    assert state is not None
    deadline = T0 + timedelta(seconds=60)
    assert lateness(state, deadline + timedelta(seconds=5)) == timedelta(seconds=5)
    assert not is_late(state, deadline + GRACE, GRACE)
    assert is_late(state, deadline + GRACE + timedelta(seconds=1), GRACE)


def test_a_moved_acknowledged_or_unplanned_dispatch_is_not_late() -> None:
    """Once the step moved (new deadline) or someone took it, the old deadline is no longer late."""
    events = opened()
    state = fold(events)
    assert state is not None
    cause = redrive(state, now=T0 + timedelta(seconds=100))
    moved = escalate(state, cause, responders={"backup": [BACKUP]}, now=cause.recorded_at)
    late_at = T0 + timedelta(seconds=100)
    moved_state = fold([*events, *moved])
    assert moved_state is not None and not is_late(moved_state, late_at, GRACE)
    view = DispatchView(state.dispatch_id, state.short_code, "open", None)
    ack = acknowledge(view, staff_id=PRIMARY.staff_id, via="sms", reply_id="r-1",
                      occurred_at=T0, now=T0, correlation_id=str(state.correlation_id))  # fmt: skip
    acked = fold([*events, ack])
    assert acked is not None and lateness(acked, late_at) is None
    unplanned = fold(events[:1])
    assert unplanned is not None and lateness(unplanned, late_at) is None


def test_the_redrive_is_the_current_steps_deadline_marked_as_the_auditors() -> None:
    """The re-drive names the step and deadline the dispatch is on; its id is one per step."""
    state = fold(opened())
    assert state is not None
    now = T0 + timedelta(seconds=120)
    event = redrive(state, now=now)
    payload = event.payload
    assert isinstance(payload, EscalationDeadlineReached)
    assert (payload.sequence, payload.deadline_at) == (0, T0 + timedelta(seconds=60))
    assert event.actor == AUDITOR and event.key == str(state.dispatch_id)
    assert event.occurred_at == payload.deadline_at and event.recorded_at == now
    assert event.event_id == redrive(state, now=now + GRACE).event_id


async def test_the_escalation_agent_moves_once_on_a_redrive_and_ignores_a_second_copy() -> None:
    """Re-driven twice, the dispatch moves one step: the second copy aims at a step it left."""
    service = EscalationService(Rota(), Clock(T0 + timedelta(seconds=120)))
    state = fold(opened())
    assert state is not None
    cause = redrive(state, now=T0 + timedelta(seconds=120))
    moved_state, moved = await service.handle(state, cause)
    assert [e.type for e in moved][:2] == ["DispatchEscalated", "PageRequested"]
    again_state, again = await service.handle(moved_state, cause)
    assert again == [] and again_state == moved_state
