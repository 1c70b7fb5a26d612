"""Throughput of the risk projection: the pure fold alone (the ceiling) and the faust agent.

    .venv/bin/python bench/bench_risk.py [--fold-events 200000] [--agent-events 20000]

Prints figures; asserts nothing about time. The agent figure is measured on the embedded
stack (tansu broker, PostgreSQL, one faust worker process, one partition): the input is
published before the worker starts, the clock runs from the worker being ready to the
risk agent's output for a sentinel client, which comes after every other input event.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.risk.decide import decide
from dispatch.risk.events import RelapseSignalObserved
from dispatch.risk.fold import RiskState, evolve, initial

T0 = datetime(2026, 1, 5, tzinfo=UTC)
TEAM = "bench-team"
SIGNS = ("sleep_loss", "missed_meds", "withdrawal", "substance_use", "carer_concern")
SENTINEL = "bench-sentinel"


def workload(n: int, clients: int, gap_minutes: int, seed: int = 7) -> list[Envelope]:
    """n client events: enrolments, then signals (70%) and contacts (30%) in event time."""
    rnd = random.Random(seed)  # a reproducible workload
    ids = [f"b-{i:05d}" for i in range(clients)]

    def ev(payload: EventPayload, key: str, at: datetime) -> Envelope:
        return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="bench")

    out = [
        ev(ClientEnrolled(client_id=c, team_id=TEAM, display_name=c, phone=None), c, T0)
        for c in ids
    ]
    at = T0
    while len(out) < n:
        at += timedelta(minutes=rnd.randint(1, gap_minutes))
        c = rnd.choice(ids)
        if rnd.random() < 0.7:
            p: EventPayload = RelapseSignalObserved(
                client_id=c, source="staff", sign=rnd.choice(SIGNS), severity=rnd.randint(1, 5)
            )
        else:
            kind = rnd.choice(("face_to_face", "phone", "attempted"))
            p = ContactRecorded(client_id=c, staff_id="s-bench", kind=kind)  # type: ignore[arg-type]
        out.append(ev(p, c, at))
    return out


def bench_fold(n: int, clients: int, gap_minutes: int) -> dict[str, float]:
    """Events per second of the pure fold, alone and with decisions."""
    rates: dict[str, float] = {}
    events = workload(n, clients, gap_minutes)
    for label, with_decide in (("fold only", False), ("fold + decide", True)):
        states: dict[str, RiskState] = {}
        decided = 0
        started = time.perf_counter()
        for e in events:
            before = states.get(e.key) or initial(e.key)
            after = evolve(before, e)
            if with_decide:
                decided += len(decide(before, after, e, responder=None, now=e.occurred_at))
            states[e.key] = after
        took = time.perf_counter() - started
        rates[label] = len(events) / took
        print(
            f"pure {label:<14} {len(events):>8} events in {took:6.2f} s = "
            f"{len(events) / took:>9,.0f} events/s  ({decided} decided events)"
        )
    print(f"ratio fold+decide / fold alone: {rates['fold + decide'] / rates['fold only']:.2f}")
    return rates


async def bench_agent(n: int, clients: int, gap_minutes: int, state: Path) -> float:
    from aiokafka import AIOKafkaConsumer

    from dispatch.settings import Settings
    from dispatch.stack.runtime import Stack
    from dispatch.topics import CLIENT_EVENTS

    events = workload(n - 2, clients, gap_minutes)
    last = events[-1].occurred_at + timedelta(minutes=1)
    for p in (
        ClientEnrolled(client_id=SENTINEL, team_id=TEAM, display_name="s", phone=None),
        RelapseSignalObserved(client_id=SENTINEL, source="system", sign="bench", severity=5),
    ):
        events.append(new_event(p, key=SENTINEL, occurred_at=last, recorded_at=last, actor="b"))
    settings = Settings(state_dir=state, topic_partitions=1, log_level="warning")
    stack = Stack(settings, durable=False)
    await stack.start(with_worker=False)
    try:
        await stack.projector.stop()  # the agent alone: no projector competing for the CPU
        t = time.perf_counter()
        for i in range(0, len(events), 2000):
            await stack.publisher.publish(events[i : i + 2000])
        print(f"published {len(events)} events in {time.perf_counter() - t:.1f} s")
        consumer = AIOKafkaConsumer(
            CLIENT_EVENTS,
            bootstrap_servers=stack.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        try:
            await stack.start_worker()
            started = time.perf_counter()
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                if any(
                    m.key == SENTINEL.encode() and b'"RiskLevelChanged"' in (m.value or b"")
                    for msgs in batch.values()
                    for m in msgs
                ):
                    break
                if time.perf_counter() - started > 600:
                    raise TimeoutError("the risk agent did not reach the sentinel in 600 s")
            took = time.perf_counter() - started
        finally:
            await consumer.stop()
        print(
            f"faust risk agent     {len(events):>8} events in {took:6.2f} s = "
            f"{len(events) / took:>9,.0f} events/s  (1 worker, 1 partition, embedded broker)"
        )
        return len(events) / took
    finally:
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold-events", type=int, default=200_000)
    parser.add_argument("--agent-events", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument(
        "--gap-minutes",
        type=int,
        default=30,
        help="largest event-time gap between two events of the workload (30: harsh, "
        "most events move a level; 3: each client sees about one event a day)",
    )
    args = parser.parse_args()
    rates = bench_fold(args.fold_events, args.clients, args.gap_minutes)
    if args.agent_events:
        state = Path(tempfile.mkdtemp(prefix="bench-risk-"))
        state.chmod(0o755)  # PostgreSQL runs as its own system user when we are root
        try:
            agent = asyncio.run(
                bench_agent(args.agent_events, args.clients, args.gap_minutes, state)
            )
        finally:
            shutil.rmtree(state, ignore_errors=True)
        print(f"ratio agent / pure fold+decide: {agent / rates['fold + decide']:.4f}")


if __name__ == "__main__":
    main()
