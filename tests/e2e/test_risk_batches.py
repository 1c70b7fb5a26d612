"""The risk agent's batches keep at-least-once: a worker killed (SIGKILL) in the middle of a
backlog, and one stopped (SIGTERM) in the middle of another, lose no risk change and
record none twice."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.risk.decide import decide
from dispatch.risk.events import RelapseSignalObserved, RiskLevelChanged
from dispatch.risk.fold import RiskState, evolve, initial
from dispatch.stack.runtime import Stack
from projections.risk_queries import RiskQueries
from tests.e2e.helpers import until

TEAM = "t-batches"  # no rota: the agent decides level changes and tasks, nobody is paged
CLIENTS = [f"c-batch-{i:02d}" for i in range(20)]
SIGNS = ("sleep_loss", "missed_meds", "withdrawal", "carer_concern")


def backlog(start: datetime, per_client: int, seed: int, *, enrol: bool) -> list[Envelope]:
    """Signals (75%) and visits (25%) of every client, a minute apart in event time."""
    rnd = random.Random(seed)
    out: list[Envelope] = []

    def ev(payload: EventPayload, key: str, at: datetime) -> Envelope:
        return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test")

    if enrol:
        out += [
            ev(ClientEnrolled(client_id=c, team_id=TEAM, display_name=c, phone=None), c, start)
            for c in CLIENTS
        ]
    at = start
    for _ in range(per_client * len(CLIENTS)):
        at += timedelta(seconds=rnd.randint(1, 20))
        c = rnd.choice(CLIENTS)
        p: EventPayload
        if rnd.random() < 0.75:
            p = RelapseSignalObserved(
                client_id=c, source="staff", sign=rnd.choice(SIGNS), severity=rnd.randint(1, 4)
            )
        else:
            p = ContactRecorded(client_id=c, staff_id="s-batches", kind="face_to_face")
        out.append(ev(p, c, at))
    return out


def expected_changes(events: list[Envelope]) -> dict[str, list[tuple[str, str, object]]]:
    """What the pure fold decides: each client's (from, to, event id) in order."""
    states: dict[str, RiskState] = {}
    out: dict[str, list[tuple[str, str, object]]] = {c: [] for c in CLIENTS}
    for e in events:
        before = states.get(e.key) or initial(e.key)
        after = evolve(before, e)
        states[e.key] = after
        for d in decide(before, after, e, responder=None, now=e.occurred_at):
            if isinstance(d.payload, RiskLevelChanged):
                out[e.key].append((d.payload.from_level, d.payload.to_level, d.event_id))
    return out


async def recorded(stack: Stack) -> dict[str, list[tuple[str, str, object]]]:
    queries = RiskQueries(stack.pool)
    return {c: list(await queries.risk_history(c)) for c in CLIENTS}


async def test_a_worker_killed_or_stopped_in_a_batch_loses_no_risk_change(stack: Stack) -> None:
    start = stack.clock.now() - timedelta(hours=30)
    first = backlog(start, 100, seed=12, enrol=True)
    second = backlog(first[-1].occurred_at, 100, seed=13, enrol=False)
    want_first = expected_changes(first)
    want_all = expected_changes(first + second)
    assert sum(map(len, want_first.values())) > 50, "the workload moves levels"

    async def changes() -> int:
        return int(
            await stack.pool.fetchval(
                "SELECT count(*) FROM risk_changes WHERE client_id = ANY($1)", CLIENTS
            )
        )

    async def some_changed() -> bool:
        return await changes() > 0

    async def all_of(want: dict[str, list[tuple[str, str, object]]]) -> bool:
        return await recorded(stack) == want

    # 1. SIGKILL while the agent is in the middle of the backlog: nothing is committed
    # past what was handled, and what was appended before the kill is appended again with
    # the same ids (the read model records each once).
    await stack.publisher.publish(first)
    await until(some_changed, within_s=60, what="the agent's first risk changes")
    stack.workers[-1].kill()
    await stack.start_worker()
    await until(lambda: all_of(want_first), within_s=180, what="every risk change, once")

    # 2. SIGTERM in the middle of a second backlog: the worker stops on its own (faust used
    # to wait for the SIGKILL after the stop timeout) and a new one finishes the rest.
    before = sum(map(len, want_first.values()))

    async def more_changed() -> bool:
        return await changes() > before

    await stack.publisher.publish(second)
    await until(more_changed, within_s=60, what="risk changes from the second backlog")
    worker = stack.workers[-1]
    await worker.stop()
    assert worker.returncode == 0, f"the worker was killed ({worker.returncode}), not stopped"
    await stack.start_worker()
    await until(lambda: all_of(want_all), within_s=180, what="every risk change, once")
