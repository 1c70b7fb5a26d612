"""The escalation table's values (decision 030): compact bytes that round-trip exactly, old
dict values still read, and a resolved dispatch kept as a tombstone that answers every late
or redelivered event exactly as its full state would."""

from __future__ import annotations

from datetime import timedelta

import orjson

from dispatch.crisis.decide import open_dispatch
from dispatch.crisis.events import CrisisCallReceived, DispatchResolved
from dispatch.escalation.decide import deadline_reached, freeze_plan, wants_escalation
from dispatch.escalation.events import DispatchEscalated
from dispatch.escalation.policy import default_policy
from dispatch.escalation.state import EscalationState, evolve, is_due, retire
from dispatch.events import Envelope, derived_id, new_event
from dispatch.replies.decide import confirmation_sms, decide_reply
from dispatch.replies.events import StaffReplyDecided
from dispatch.worker.due_index import DueIndex
from dispatch.worker.escalation_table import (
    deadline_of,
    dump,
    load,
    may_be_open,
    waiting_states,
)
from tests.unit.test_staff_replies import PRIMARY, T0, opened, reply, run


def escalated(state: EscalationState) -> EscalationState:
    """The first step timed out: the backup was paged (sequence 1, a deadline set)."""
    after = evolve(state, escalation(state))
    assert after is not None
    return after


def escalation(state: EscalationState) -> Envelope:
    return new_event(
        DispatchEscalated(
            dispatch_id=state.dispatch_id, sequence=1, round=0, step=1, exhausted=False,
            reason="timeout", staff_ids=("s-2",), deadline_at=T0 + timedelta(minutes=10),
        ),
        key=str(state.dispatch_id), event_id=derived_id(state.dispatch_id, "escalated", 1),
        occurred_at=T0 + timedelta(minutes=5), recorded_at=T0, actor="escalation-agent",
    )  # fmt: skip


def resolved() -> tuple[EscalationState, list[Envelope]]:
    """Escalated once, then DONE by the backup; the DONE's events."""
    state = escalated(opened())
    done = reply(state, "s-2", "resolve", outcome='visited, "status":"ok"', sid="SM-done")
    after, out = run(state, [done])
    assert after is not None and after.status == "resolved"
    return after, out


def test_every_state_round_trips_exactly_and_is_smaller_than_the_old_dict() -> None:
    open_state = escalated(opened())
    acked, _ = run(open_state, [reply(open_state, "s-1")])
    done, _ = resolved()
    # replies whose outcome, holder and status differ from the dispatch's latest (one at
    # its default), and one refused while nobody held it
    busy, _ = run(
        open_state,
        [
            reply(open_state, "s-9", team="t-south", sid="SM-stranger"),
            reply(open_state, "s-1"),
            reply(open_state, "s-2"),
            reply(open_state, "s-1", "resolve", outcome="safe", sid="SM-done"),
        ],
    )
    assert busy is not None and len(busy.replies) == 4
    for state in (opened(), open_state, acked, done, retire(done), busy, retire(busy)):
        assert state is not None
        compact = dump(state)
        assert load(compact) == state
        old = state.model_dump(mode="json")  # the value before decision 030
        assert load(old) == state and load(orjson.dumps(old)) == state
        assert len(compact) < len(orjson.dumps(old))
    assert load(None) is None and load(b"") is None


def test_a_reply_decision_of_another_code_keeps_its_own_fields() -> None:
    state, _ = resolved()
    other = state.replies[0].model_copy(update={"short_code": "K99999"})
    mixed = state.model_copy(update={"replies": (*state.replies, other)})
    assert load(dump(mixed)) == mixed


def test_the_timer_decodes_only_values_that_may_be_open() -> None:
    open_state = escalated(opened())
    acked, _ = run(open_state, [reply(open_state, "s-1")])
    done, _ = resolved()
    assert acked is not None
    assert may_be_open(dump(open_state)) and may_be_open(open_state.model_dump(mode="json"))
    assert may_be_open(orjson.dumps(open_state.model_dump(mode="json")))
    for closed in (acked, done, retire(done)):
        assert not may_be_open(dump(closed))
        assert not may_be_open(closed.model_dump(mode="json"))
        assert not may_be_open(orjson.dumps(closed.model_dump(mode="json")))
    # an outcome quoting a status is escaped inside its string: not taken for the key
    assert not may_be_open(dump(done)) and '"status":"ok"' in done.outcome


def test_the_tombstone_keeps_no_policy_or_deadline_and_is_smaller() -> None:
    done, _ = resolved()
    tomb = retire(done)
    assert tomb.policy is None and tomb.deadline_at is None and tomb.first_paged is None
    assert (tomb.status, tomb.paged, tomb.replies) == (done.status, done.paged, done.replies)
    assert len(dump(tomb)) < len(dump(done)) - 150
    open_state = escalated(opened())
    assert retire(open_state) is open_state  # only a resolved dispatch is retired


def test_late_and_redelivered_replies_get_the_same_answers_from_the_tombstone() -> None:
    """What the agent holds after a resolution (the tombstone, through the table's bytes)
    decides every later reply exactly as the full state: the redelivered DONE its first
    answer, a late ACK and ESC that it is closed, another team's reply a refusal."""
    full, first = resolved()
    tomb = load(dump(retire(full)))
    assert tomb is not None
    done_again = reply(full, "s-2", "resolve", outcome='visited, "status":"ok"', sid="SM-done")
    late = [
        done_again,
        reply(full, "s-3", "ack", sid="SM-late-ack"),
        reply(full, "s-1", "esc", sid="SM-late-esc"),
        reply(full, "s-9", "ack", team="t-south", sid="SM-stranger"),
        reply(full, "s-2", "resolve", outcome="visited again", sid="SM-done-2"),
    ]
    for r in late:
        later = r.model_copy(update={"occurred_at": T0 + timedelta(days=40)})
        for event in (r, later):
            from_full = decide_reply(full, event, now=T0 + timedelta(days=41))
            from_tomb = decide_reply(tomb, event, now=T0 + timedelta(days=41))
            assert [e.model_dump() for e in from_tomb] == [e.model_dump() for e in from_full]
    (again,) = decide_reply(tomb, done_again, now=T0 + timedelta(days=41))
    first_decided = next(e for e in first if isinstance(e.payload, StaffReplyDecided))
    assert again.event_id == first_decided.event_id and again.payload == first_decided.payload
    (ack,) = decide_reply(tomb, late[1], now=T0)
    assert isinstance(ack.payload, StaffReplyDecided) and not ack.payload.accepted
    assert confirmation_sms(ack.payload) == f"{full.short_code} is already closed."


def test_redelivered_dispatch_events_leave_the_tombstone_as_it_is() -> None:
    """The dispatch's own events delivered again (opening, plan, escalation, resolution, a
    deadline) change nothing the agent keeps and never make it wait again."""
    full, _ = resolved()
    tomb = retire(full)
    call = new_event(
        CrisisCallReceived(
            call_sid="CA1", caller_number="+15559990000", caller_kind="client",
            client_id="c-1", team_id="t-north", dialled_staff_id=PRIMARY.staff_id,
        ),
        key="c-1", event_id=derived_id("twilio-call", "CA1"), occurred_at=T0,
        recorded_at=T0, actor="twilio",
    )  # fmt: skip
    opened_event, _page = open_dispatch(call, responder=PRIMARY, now=T0)
    plan = freeze_plan(opened_event, default_policy(), now=T0)
    open_state = escalated(opened())
    resolution = [e for e in resolved()[1] if isinstance(e.payload, DispatchResolved)]
    again = [opened_event, plan, escalation(opened()), *resolution]
    for event in [*again, deadline_reached(open_state, now=T0)]:
        after = evolve(tomb, event)
        assert after is not None and retire(after) == tomb
        assert not wants_escalation(tomb, event) and not tomb.waiting


def test_the_deadline_index_finds_what_is_due_as_dispatches_move_on() -> None:
    """The timer's index (decision 055), told of each write, and built again from the table
    after a restore, answers as `is_due` on every decoded value would, tick after tick, as
    the dispatches move on."""
    waiting = escalated(opened())
    deadline = waiting.deadline_at
    assert deadline is not None
    acked, _ = run(waiting, [reply(waiting, "s-1")])
    done, _ = resolved()
    later = waiting.model_copy(update={"deadline_at": deadline + timedelta(hours=1)})
    index: DueIndex[EscalationState] = DueIndex(deadline_of)
    table: dict[str, bytes] = {}
    ticks = [
        ({"d-1": waiting, "d-2": done}, deadline - timedelta(seconds=1)),
        ({}, deadline),
        ({"d-3": later}, deadline + timedelta(minutes=1)),
        ({"d-1": later}, deadline + timedelta(minutes=30)),  # escalated again: a new deadline
        ({}, deadline + timedelta(hours=1)),
        ({"d-1": acked}, deadline + timedelta(hours=2)),  # acknowledged: waits no more
    ]
    found = []
    for writes, now in ticks:
        for key, state in writes.items():
            table[key] = dump(retire(state))
            index.note(key, load(table[key]))
        expected = [key for key, raw in table.items() if (s := load(raw)) and is_due(s, now)]
        assert index.due(now) == expected
        restored: DueIndex[EscalationState] = DueIndex(deadline_of)
        restored.replace(waiting_states(table.items()))
        assert restored.due(now) == expected and not restored.stale
        found.append(expected)
    assert found == [[], ["d-1"], ["d-1"], [], ["d-1", "d-3"], ["d-3"]]
