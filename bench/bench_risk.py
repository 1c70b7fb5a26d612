"""Throughput of the risk projection: the faust agent beside its two ceilings, in one run.

    .venv/bin/python -m bench.bench_risk [--quick] [--fold-events 200000] [--agent-events 100000]

Prints figures; asserts nothing about time. (1) the pure fold and fold + decide in process;
(2) a raw aiokafka consumer reading a copy of the workload on a topic of its own (bytes
only), and faust's own allowance: two agents that do nothing on that topic
(bench/faust_ceiling.py), the cap the risk agent had while it read through faust's streams
(before decision 032); (3) the risk agent on the embedded stack (tansu broker, PostgreSQL,
one faust worker process, one partition): once the worker is ready its input is published
(in chunks of 5,000, at far more than the agent takes) and the clock runs from then to the
risk agent's output for a sentinel client, which comes after every other input event.
Before, the input waited in the topic while the worker started, and the agent folded part
of it before the worker reported ready, unseen by the clock. Then a second backlog is
published and the worker is sent SIGTERM in the middle of it: how long it takes to stop
(faust used to wait for the supervisor's SIGKILL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from bench.embedded import state_dir
from bench.faust_ceiling import idle_agents_rate
from bench.report import Figure, markdown
from dispatch.bus import EventPublisher
from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.events.codec import decode, encode
from dispatch.events.envelope import EventPayload
from dispatch.risk.decide import decide
from dispatch.risk.events import RelapseSignalObserved
from dispatch.risk.fold import RiskState, evolve, initial

T0 = datetime(2026, 1, 5, tzinfo=UTC)
TEAM = "bench-team"
SIGNS = ("sleep_loss", "missed_meds", "withdrawal", "substance_use", "carer_concern")
SENTINEL = "bench-sentinel"
CEILING_TOPIC = "bench-risk-ceiling"  # a copy of the workload the ceilings read


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


async def consume_rate(bootstrap: str, topic: str, expected: int) -> float:
    """The ceiling: a raw aiokafka consumer reading the same topic from the start (bytes,
    no decoding, no commits)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        group_id=None,
    )
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            seen += sum(len(msgs) for msgs in batch.values())
            if time.perf_counter() - started > 300:
                raise TimeoutError(f"read {seen} of {expected} events in 300 s")
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def bench_agent(n: int, clients: int, gap_minutes: int, state: Path) -> dict[str, float]:
    """The risk agent's events/s, the raw consume rate of the same topic, and how long
    a SIGTERM took to stop the worker in the middle of a second backlog."""
    from aiokafka import AIOKafkaConsumer

    from dispatch.settings import Settings
    from dispatch.stack.broker import create_topics
    from dispatch.stack.runtime import Stack
    from dispatch.topics import CLIENT_EVENTS, TopicSpec

    events = workload(n - 2, clients, gap_minutes)
    last = events[-1].occurred_at + timedelta(minutes=1)
    for p in (
        ClientEnrolled(client_id=SENTINEL, team_id=TEAM, display_name="s", phone=None),
        RelapseSignalObserved(client_id=SENTINEL, source="system", sign="bench", severity=5),
    ):
        events.append(new_event(p, key=SENTINEL, occurred_at=last, recorded_at=last, actor="b"))
    settings = Settings(
        state_dir=state, topic_partitions=1, log_level=os.environ.get("BENCH_LOG_LEVEL", "warning")
    )
    stack = Stack(settings, durable=False)
    await stack.start(with_worker=False)
    try:
        await stack.projector.stop()  # the agent alone: no projector competing for the CPU
        bootstrap = stack.settings.kafka_bootstrap_servers
        # The ceilings read a copy of the workload on a topic of their own. The agent's input
        # is published only once its worker is ready and the clock runs: a backlog waiting
        # in its topic was partly folded before the worker reported ready, which the clock
        # then missed (all of it in a --quick run).
        spec = TopicSpec(CEILING_TOPIC, "client id", (), 1, 1)
        await create_topics(bootstrap, [spec], replication_factor=1, with_config=False)
        t = time.perf_counter()
        for i in range(0, len(events), 5000):
            records = [(e.key.encode(), encode(e), 0) for e in events[i : i + 5000]]
            await stack.publisher.write(CEILING_TOPIC, records)
        print(f"published {len(events)} events in {time.perf_counter() - t:.1f} s")
        raw = await consume_rate(bootstrap, CEILING_TOPIC, len(events))
        print(f"raw aiokafka consume {len(events):>8} events           = {raw:>9,.0f} events/s")
        idle = await idle_agents_rate(bootstrap, CEILING_TOPIC, len(events))
        print(f"faust, idle agents   {len(events):>8} events           = {idle:>9,.0f} events/s")
        consumer = AIOKafkaConsumer(
            CLIENT_EVENTS,
            bootstrap_servers=bootstrap,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        await consumer.seek_to_end()
        index = {e.event_id: i for i, e in enumerate(events)}
        try:
            await stack.start_worker()
            worker = psutil.Process(stack.workers[-1].pid)
            cpu_before = sum(worker.cpu_times()[:2])  # user + system
            started = time.perf_counter()
            publishing = asyncio.create_task(_publish(stack.publisher, events))
            first: tuple[float, int] | None = None  # when the first decision came, its cause
            done = False
            while not done:
                batch = await consumer.getmany(timeout_ms=200)
                now = time.perf_counter()
                for m in (m for msgs in batch.values() for m in msgs):
                    if b'"RiskLevelChanged"' not in (m.value or b""):
                        continue
                    if first is None:
                        cause = decode(m.value).causation_id
                        first = (now, index.get(cause, 0) if cause else 0)
                    done = done or m.key == SENTINEL.encode()
                if now - started > 180:
                    raise TimeoutError("the risk agent did not reach the sentinel in 180 s")
            took = time.perf_counter() - started
            cpu_s = sum(worker.cpu_times()[:2]) - cpu_before
            await publishing
        finally:
            await consumer.stop()
        agent = len(events) / took
        assert first is not None
        steady_s = max(took - (first[0] - started), 1e-6)
        steady = (len(events) - first[1]) / steady_s
        print(
            f"risk agent           {len(events):>8} events in {took:6.2f} s = "
            f"{agent:>9,.0f} events/s  (from the first published, the worker ready)"
        )
        print(
            f"risk agent, reading  {len(events) - first[1]:>8} events in {steady_s:6.2f} s = "
            f"{steady:>9,.0f} events/s  (from its first decision to its last)"
        )
        cpu_us = cpu_s / len(events) * 1e6
        print(f"risk agent's worker: {cpu_s:.2f} s of CPU = {cpu_us:.1f} us per input event")
        # A second backlog, and a SIGTERM while the agent is in the middle of it.
        again = [
            new_event(
                e.payload,
                key=e.key,
                occurred_at=e.occurred_at,
                recorded_at=e.recorded_at,
                actor="b",
            )
            for e in events[: len(events) // 2]
        ]
        await stack.publisher.publish(again)
        await asyncio.sleep(0.3)
        t = time.perf_counter()
        await stack.workers[-1].stop()
        stop_s = time.perf_counter() - t
        print(f"SIGTERM under a backlog of up to {len(again)} events: stopped in {stop_s:.2f} s")
        log_text = stack.workers[-1].log_path.read_text(errors="replace").splitlines()
        problems = [line for line in log_text if '"level": "warning"' in line or "ERROR" in line]
        print(f"worker log: {len(problems)} warnings or errors", *problems[:3], sep="\n  ")
        if os.environ.get("BENCH_KEEP_LOG"):
            shutil.copy(stack.workers[-1].log_path, os.environ["BENCH_KEEP_LOG"])
        return {
            "agent": steady,
            "ready": agent,
            "raw": raw,
            "idle": idle,
            "stop_s": stop_s,
            "cpu_us": cpu_us,
        }
    finally:
        await stack.stop()


async def _publish(publisher: EventPublisher, events: list[Envelope]) -> None:
    for i in range(0, len(events), 5000):
        await publisher.publish(events[i : i + 5000])


def _agent_in_tempdir(n: int, clients: int, gap_minutes: int) -> dict[str, float]:
    state = state_dir("bench-risk-")
    try:
        return asyncio.run(bench_agent(n, clients, gap_minutes, state))
    finally:
        shutil.rmtree(state, ignore_errors=True)


def report(rates: dict[str, float], agent: dict[str, float], note: str) -> list[Figure]:
    fold = rates["fold + decide"]
    print(f"ratio agent / raw consume:        {agent['agent'] / agent['raw']:.3f}")
    print(f"ratio agent / pure fold+decide:   {agent['agent'] / fold:.3f}")
    print(f"ratio agent / faust idle agents:  {agent['agent'] / agent['idle']:.3f}")
    path = "risk pipeline"
    return [
        Figure(
            path,
            "risk agent, 1 worker, from its first decision to its last",
            agent["agent"],
            "events/s",
            "raw aiokafka consume",
            agent["raw"],
            ">= 15,000 events/s",
            agent["agent"] >= 15_000,
            note,
        ),
        Figure(
            path,
            "the same",
            agent["agent"],
            "events/s",
            "in-process fold + decide",
            fold,
            note=note,
        ),
        Figure(
            path,
            "the same",
            agent["agent"],
            "events/s",
            "faust's streams, agents that do nothing (the cap before decision 032)",
            agent["idle"],
            note=note,
        ),
        Figure(
            path,
            "risk agent, from its input's first event published (the worker ready)",
            agent["ready"],
            "events/s",
            note=note,
        ),
        Figure(
            path,
            "the worker's CPU per input event, from ready to the last decision (less "
            "than the wall time when the machine is shared)",
            agent["cpu_us"],
            "us",
            note=note,
        ),
        Figure(
            path,
            "SIGTERM under a backlog: worker stopped",
            agent["stop_s"],
            "s",
            target="well under the 20 s stop timeout",
            met=agent["stop_s"] < 10,
        ),
    ]


async def figures(quick: bool) -> list[Figure]:
    """Fold 20,000 / agent 3,000 events (quick: a smoke run) or 200,000 / 100,000, 500 clients."""
    fold_n, agent_n = (20_000, 3_000) if quick else (200_000, 100_000)
    rates = bench_fold(fold_n, 500, 30)
    agent = await asyncio.to_thread(_agent_in_tempdir, agent_n, 500, 30)
    return report(rates, agent, f"{agent_n:,} events, 500 clients, 1 partition")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold-events", type=int, default=200_000)
    parser.add_argument("--agent-events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument(
        "--gap-minutes",
        type=int,
        default=30,
        help="largest event-time gap between two events of the workload (30: harsh, "
        "most events move a level; 3: each client sees about one event a day)",
    )
    parser.add_argument("--quick", action="store_true", help="the figures() run of --quick")
    args = parser.parse_args()
    if args.quick:
        print(markdown(asyncio.run(figures(True))))
        return
    rates = bench_fold(args.fold_events, args.clients, args.gap_minutes)
    if args.agent_events:
        agent = _agent_in_tempdir(args.agent_events, args.clients, args.gap_minutes)
        note = f"{args.agent_events:,} events, {args.clients} clients, 1 partition"
        print(markdown(report(rates, agent, note)))


if __name__ == "__main__":
    main()
