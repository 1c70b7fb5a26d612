"""Escalation decisions: given a dispatch's events, when a deadline or ESC comes, then what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

import pytest
from pydantic import ValidationError

from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived, DispatchAcknowledged
from dispatch.escalation.decide import (
    deadline_reached,
    escalate,
    freeze_plan,
    next_targets,
    relative_to_first_paged,
    wants_escalation,
)
from dispatch.escalation.events import DispatchEscalated, EscalationRequested
from dispatch.escalation.policy import EscalationPolicy, EscalationStep, Target
from dispatch.escalation.service import EscalationService
from dispatch.escalation.state import EscalationState, evolve, is_due
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
PRIMARY = Responder("s-primary", "+15550000001")
BACKUP = Responder("s-backup", "+15550000002")
LEAD = Responder("s-lead", "+15550000003")
OTHER = Responder("s-other", "+15550000004")
ROTA: dict[Target, list[Responder]] = {
    "primary": [PRIMARY],
    "backup": [BACKUP],
    "team_lead": [LEAD],
    "whole_team": [PRIMARY, BACKUP, LEAD, OTHER],
    "manager": [],
}
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=60),
        EscalationStep(targets=("backup",), channels=("sms", "voice"), ack_timeout_s=60),
        EscalationStep(targets=("team_lead",), ack_timeout_s=60),
    ),
    rounds=1,
    exhausted_repeat_s=30,
)


def opened_events() -> list[Envelope]:
    call = new_event(
        CrisisCallReceived(
            call_sid="CA1",
            caller_number="+15559990000",
            caller_kind="client",
            client_id="c-1",
            team_id="t",
            dialled_staff_id=PRIMARY.staff_id,
        ),
        key="c-1",
        event_id=derived_id("twilio-call", "CA1"),
        occurred_at=T0,
        recorded_at=T0,
        actor="twilio",
    )
    opened, _page = open_dispatch(call, responder=PRIMARY, now=T0)
    return [opened, freeze_plan(opened, POLICY, now=T0)]


def fold(events: list[Envelope]) -> EscalationState:
    state = reduce(evolve, events, None)
    assert state is not None
    return state


def step_up(state: EscalationState, cause: Envelope) -> tuple[EscalationState, list[Envelope]]:
    assert wants_escalation(state, cause)
    out = escalate(state, cause, responders=ROTA, now=cause.occurred_at)
    new_state = reduce(evolve, out, state)
    assert new_state is not None
    return new_state, out


def test_no_ack_pages_backup_after_timeout() -> None:
    """No ACK within the primary's timeout: the backup is paged by SMS and voice."""
    state = fold(opened_events())
    assert state.deadline_at == T0 + timedelta(seconds=60)
    assert not is_due(state, T0 + timedelta(seconds=59)) and is_due(state, T0 + timedelta(60))
    state, out = step_up(state, deadline_reached(state, now=T0 + timedelta(seconds=61)))
    assert [e.type for e in out] == ["DispatchEscalated", "PageRequested", "PageRequested"]
    pages = [e.payload for e in out[1:]]
    assert all(isinstance(p, PageRequested) and p.staff_id == "s-backup" for p in pages)
    assert [p.channel for p in pages] == ["sms", "voice"]  # type: ignore[union-attr]
    assert state.sequence == 1 and state.step == 1
    assert state.deadline_at == T0 + timedelta(seconds=120)  # event time, not processing time


def test_ack_before_deadline_stops_escalation() -> None:
    """Once acknowledged, a deadline for the dispatch changes nothing."""
    events = opened_events()
    state = fold(events)
    ack = new_event(
        DispatchAcknowledged(dispatch_id=state.dispatch_id, staff_id="s-primary", via="sms"),
        key=str(state.dispatch_id),
        occurred_at=T0 + timedelta(seconds=30),
        recorded_at=T0 + timedelta(seconds=30),
        actor="s-primary",
    )
    acked = fold([*events, ack])
    assert not wants_escalation(acked, deadline_reached(state, now=T0 + timedelta(minutes=2)))
    assert not acked.waiting


def test_stale_deadline_is_a_no_op() -> None:
    """A deadline for a step the dispatch already left does not escalate it again."""
    state = fold(opened_events())
    old_deadline = deadline_reached(state, now=T0 + timedelta(seconds=61))
    state, _ = step_up(state, old_deadline)
    assert not wants_escalation(state, old_deadline)


def test_esc_moves_to_next_step_at_once() -> None:
    """ESC from the paged worker escalates immediately, before any timeout."""
    state = fold(opened_events())
    esc = new_event(
        EscalationRequested(
            dispatch_id=state.dispatch_id, staff_id="s-primary", via="sms", sequence=0
        ),
        key=str(state.dispatch_id),
        occurred_at=T0 + timedelta(seconds=5),
        recorded_at=T0 + timedelta(seconds=5),
        actor="s-primary",
    )
    state, out = step_up(state, esc)
    escalated = out[0].payload
    assert isinstance(escalated, DispatchEscalated) and escalated.reason == "requested"
    assert escalated.staff_ids == ("s-backup",)
    assert state.deadline_at == T0 + timedelta(seconds=65)


def test_exhausted_policy_pages_everyone_and_keeps_repeating() -> None:
    """After the last step the whole team and manager are paged, again every 30 s."""
    state = fold(opened_events())
    now = T0
    for _ in range(2):  # backup, team lead
        now = state.deadline_at  # type: ignore[assignment]
        state, _ = step_up(state, deadline_reached(state, now=now))
    seen: list[tuple[str, ...]] = []
    for _ in range(3):
        state, out = step_up(state, deadline_reached(state, now=state.deadline_at))  # type: ignore[arg-type]
        escalated = out[0].payload
        assert isinstance(escalated, DispatchEscalated) and escalated.exhausted
        seen.append(escalated.staff_ids)
        assert state.waiting
    assert seen == [("s-primary", "s-backup", "s-lead", "s-other")] * 3
    assert state.deadline_at == now + timedelta(seconds=60 + 3 * 30)


def test_target_nobody_fills_is_reported_not_skipped() -> None:
    """A step naming a manager when none is on the rota reports it as unreachable."""
    state = fold(opened_events())
    for _ in range(2):
        state, _ = step_up(state, deadline_reached(state, now=state.deadline_at))  # type: ignore[arg-type]
    assert next_targets(state) == ("whole_team", "manager")
    _, out = step_up(state, deadline_reached(state, now=state.deadline_at))  # type: ignore[arg-type]
    unreachable = [e for e in out if e.type == "EscalationTargetUnreachable"]
    assert len(unreachable) == 1 and "manager" in unreachable[0].payload.reason  # type: ignore[attr-defined]


def test_replaying_the_same_events_gives_the_same_state() -> None:
    """The fold is deterministic: the same events give the same state, every time."""
    state = fold(opened_events())
    _, out = step_up(state, deadline_reached(state, now=T0 + timedelta(seconds=90)))
    history = [*opened_events(), *out]
    assert fold(history) == fold(history)
    assert fold(history).model_dump_json() == fold(list(history)).model_dump_json()


def test_policy_must_start_with_a_person() -> None:
    """A policy whose first step pages the whole team is refused with the reason."""
    with pytest.raises(ValidationError, match="first step"):
        EscalationPolicy(steps=(EscalationStep(targets=("whole_team",), ack_timeout_s=60),))


def test_backup_step_pages_primary_when_backup_was_paged_first() -> None:
    """A client's preference paged the on-duty backup first: the next step tries the primary."""
    swapped = relative_to_first_paged(ROTA, BACKUP.staff_id)
    assert swapped["primary"] == [BACKUP] and swapped["backup"] == [PRIMARY]
    assert relative_to_first_paged(ROTA, PRIMARY.staff_id) == ROTA
    assert relative_to_first_paged(ROTA, None) == ROTA


async def test_service_escalates_to_the_other_on_duty_worker() -> None:
    """End to end through the service: first page to the backup, timeout pages the primary."""

    class Rota:
        async def targets(
            self, team_id: str, targets: tuple[Target, ...], at: datetime
        ) -> dict[Target, list[Responder]]:
            return {t: ROTA[t] for t in targets}

    class Clock:
        def now(self) -> datetime:
            return T0

    call = new_event(
        CrisisCallReceived(
            call_sid="CA2",
            caller_number="+15559990001",
            caller_kind="client",
            client_id="c-2",
            team_id="t",
            dialled_staff_id=BACKUP.staff_id,
        ),
        key="c-2",
        event_id=derived_id("twilio-call", "CA2"),
        occurred_at=T0,
        recorded_at=T0,
        actor="twilio",
    )
    opened, _ = open_dispatch(call, responder=BACKUP, now=T0)
    state = fold([opened, freeze_plan(opened, POLICY, now=T0)])
    service = EscalationService(Rota(), Clock())
    _, out = await service.handle(state, deadline_reached(state, now=T0 + timedelta(seconds=60)))
    paged = [e.payload.staff_id for e in out if isinstance(e.payload, PageRequested)]
    assert paged == [PRIMARY.staff_id, PRIMARY.staff_id]  # sms and voice


def test_step_naming_nobody_is_reported_to_the_manager() -> None:
    """No team lead on the rota: the step is recorded unreachable and the manager is told."""
    manager = Responder("s-manager", "+15550000009")
    rota: dict[Target, list[Responder]] = {**ROTA, "team_lead": [], "manager": [manager]}
    state = fold(opened_events())
    state, _ = step_up(state, deadline_reached(state, now=state.deadline_at))  # type: ignore[arg-type]
    out = escalate(
        state,
        deadline_reached(state, now=state.deadline_at),  # type: ignore[arg-type]
        responders=rota,
        now=T0,
    )
    types = [e.type for e in out]
    assert types == ["DispatchEscalated", "EscalationTargetUnreachable", "PageRequested"]
    notice = out[2].payload
    assert isinstance(notice, PageRequested) and notice.staff_id == "s-manager"
    assert notice.body.startswith("ACT NOTICE") and "team lead" in notice.body
    assert len(notice.body) <= 160
