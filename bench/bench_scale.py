"""Scale out on one machine: two workers against one on the same topics (4 partitions,
spread by the consumer group), then two web edges against one behind the same PostgreSQL.

    .venv/bin/python -m bench.bench_scale [--quick] [--calls 300] [--rate 100]

One embedded stack (tansu, PostgreSQL, the Twilio sandbox) with 4 partitions and the demo
team. Each phase places the same burst of signed crisis calls (`--calls` at `--rate` per
second, each client's calls one after the other) and waits for every first page:
1. one worker, one edge; 2. two workers, one edge; 3. two workers, two edges (calls
alternate between the edges). Throughput is first pages per second from the first ring to
the last first page; p99 is ring to first page. Phase 3 also counts calls doubled, lost or
reordered per client (all must be 0). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time

from bench.embedded import state_dir
from bench.report import Figure, markdown
from dispatch.settings import Settings
from dispatch.soak.scale import ScaleRun, SecondEdge, spread_calls, until_workers_consuming
from dispatch.soak.session import prepare
from dispatch.stack.runtime import Stack

PATH = "scale out"
PARTITIONS = 4


def _p99_ms(run: ScaleRun) -> float:
    latency = run.figures.ring_to_page
    return latency.p99_s * 1000 if latency else float("nan")


def _lost(run: ScaleRun) -> int:
    return len(run.figures.losses)


async def measure(calls: int, rate: float) -> list[Figure]:
    """The three phases on one stack; its processes are stopped by PID afterwards."""
    path = state_dir("dispatch-bench-scale-")
    settings = Settings(
        database_url="",
        kafka_bootstrap_servers="",
        twilio_api_base_url="",
        state_dir=path,
        topic_partitions=PARTITIONS,
        log_level="warning",
    )
    stack = Stack(settings, durable=False)
    edge = SecondEdge(stack)
    try:
        await stack.start()
        await prepare(stack)
        await edge.start()
        await until_workers_consuming(stack)
        first = stack.settings.public_base_url
        one = await spread_calls(stack, [first], calls=calls, rate=rate, tag="b1")
        await stack.start_worker()
        await until_workers_consuming(stack)
        two = await spread_calls(stack, [first], calls=calls, rate=rate, tag="b2")
        edges = await spread_calls(stack, [first, edge.url], calls=calls, rate=rate, tag="b3")
    finally:
        await edge.stop()
        await stack.stop()
        shutil.rmtree(path, ignore_errors=True)
    load = f"{calls} calls at {rate:g}/s, {PARTITIONS} partitions"
    wrong = edges.figures.doubled + _lost(edges) + len(edges.reordered)
    how = (
        f"doubled {edges.figures.doubled}, lost {_lost(edges)}, reordered clients "
        f"{len(edges.reordered)}; calls per edge {sorted(edges.by_edge.values())}"
    )
    return [
        Figure(PATH, "first pages/s, 2 workers", two.pages_per_s, "pages/s",
               "1 worker", one.pages_per_s, note=load),
        Figure(PATH, "ring-to-page p99, 2 workers", _p99_ms(two), "ms",
               "1 worker", _p99_ms(one), note=load),
        Figure(PATH, "first pages/s, 2 edges + 2 workers", edges.pages_per_s, "pages/s",
               "1 edge + 2 workers", two.pages_per_s, note=load),
        Figure(PATH, "ring-to-page p99, 2 edges + 2 workers", _p99_ms(edges), "ms",
               "1 edge + 2 workers", _p99_ms(two), note=load),
        Figure(PATH, "calls doubled, lost or reordered per client, 2 edges", wrong, "calls",
               target="0", met=wrong == 0,
               note=how),
        Figure(PATH, "calls lost, 1 and 2 workers", _lost(one) + _lost(two), "calls",
               target="0", met=_lost(one) + _lost(two) == 0),
    ]  # fmt: skip


async def figures(quick: bool) -> list[Figure]:
    """The scale-out figures; quick: a small burst (the stack's start dominates)."""
    return await measure(calls=40, rate=40.0) if quick else await measure(calls=300, rate=100.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    began = time.monotonic()
    if args.quick:
        found = asyncio.run(figures(quick=True))
    else:
        found = asyncio.run(measure(args.calls, args.rate))
    print(markdown(found))
    print(f"\n({time.monotonic() - began:.1f} s in all)")


if __name__ == "__main__":
    main()
