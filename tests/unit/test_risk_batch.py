"""The risk engine's batch path decides exactly what its per-event path decides, and the
worker's compact table value reads back as the state it was (old JSON dicts too)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.bench_risk import workload
from dispatch.crisis.decide import Responder
from dispatch.risk.fold import RiskState, evolve, initial
from dispatch.risk.service import RiskEngine
from dispatch.worker.risk_agent import dump_state, load_state

NOW = datetime(2026, 2, 1, tzinfo=UTC)


class Rota:
    def __init__(self) -> None:
        self.lookups = 0

    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        self.lookups += 1
        return Responder(staff_id="s-on-duty", phone="+15550100001")


class Clock:
    def now(self) -> datetime:
        return NOW


async def test_a_batch_decides_what_one_event_at_a_time_decides() -> None:
    events = workload(3000, 40, 30)
    one_rota, batch_rota = Rota(), Rota()
    one, batch = RiskEngine(one_rota, Clock()), RiskEngine(batch_rota, Clock())  # type: ignore[arg-type]
    states: dict[str, RiskState] = {}
    decided_one = []
    for offset, e in enumerate(events):
        after, decided = await one.handle(states.get(e.key) or initial(e.key), e, offset=offset)
        states[e.key] = after
        decided_one += decided
    held: dict[str, bytes] = {}
    decided_batch = []
    for start in range(0, len(events), 500):
        items = [(e, start + i) for i, e in enumerate(events[start : start + 500])]
        moved, decided = await batch.handle_many(items, lambda k: load_state(held.get(k), k))
        held.update({k: dump_state(s) for k, s in moved.items()})
        decided_batch += decided
    assert [e.event_id for e in decided_batch] == [e.event_id for e in decided_one]
    assert {k: load_state(v, k) for k, v in held.items()} == states
    assert batch_rota.lookups < one_rota.lookups  # one lookup per team per batch


def test_the_table_value_reads_back_whole_in_either_format() -> None:
    events = workload(400, 3, 30)
    state = initial("b-00000")
    for offset, e in enumerate(x for x in events if x.key == "b-00000"):
        state = evolve(state, e, offset=offset)
    assert load_state(dump_state(state), state.client_id) == state
    assert load_state(state.model_dump(mode="json"), state.client_id) == state  # before 022
    assert len(dump_state(state)) < len(state.model_dump_json())
