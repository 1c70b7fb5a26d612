"""The embedded broker's cost per event as a partition fills (docs/decisions/040).

```
.venv/bin/python -m bench.bench_broker [--quick] [--held 1000,2500,3000] [--pairs 30]
```

(`python -m bench` measures 1,000 and 2,000 batches: FULL_RUN_HELD.)

One tansu process (memory storage, as the embedded stack runs it) and one partition. A
"pair" is what every hop of a call costs the broker: one record produced (its own request,
acked) and one fetch that returns it. The broker's CPU per pair is read from /proc
(psutil) on a fresh partition, then again after `--held` records were appended to the
same partition one request each (each request is one stored batch), and beside it on a
second partition of the same topic that holds nothing. tansu 0.6.0's memory storage
lists every batch a partition holds to answer a fetch that returns records, and cannot
delete records (DeleteRecords is not implemented: the broker's connection closes), so this
cost grows with the partition's whole history until the broker restarts; past about 2,500
batches of this size it jumps by hundreds of times (docs/decisions/040).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.report import Figure, markdown
from dispatch.stack.broker import EmbeddedBroker
from dispatch.topics import PAGE_EVENTS

PATH = "embedded broker"
VALUE = b"x" * 600  # about an event's size


async def _pair_cost(broker: EmbeddedBroker, partition: int, pairs: int) -> float:
    """Broker CPU ms per produce + fetch-with-data pair on `partition`."""
    import psutil  # the bench extra
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    proc = psutil.Process(broker.pid)
    tp = TopicPartition(PAGE_EVENTS, partition)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers, fetch_max_wait_ms=1, enable_auto_commit=False
    )
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        before = proc.cpu_times()
        for _ in range(pairs):
            await producer.send_and_wait(PAGE_EVENTS, VALUE, partition=partition)
            while not (await consumer.getmany(tp, timeout_ms=100)).get(tp):
                pass
        after = proc.cpu_times()
    finally:
        await consumer.stop()
        await producer.stop()
    used = (after.user + after.system) - (before.user + before.system)
    return used * 1000 / pairs


async def _fill(broker: EmbeddedBroker, partition: int, records: int) -> None:
    """`records` more batches of one record each in `partition`."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
    await producer.start()
    try:
        for _ in range(records):
            await producer.send_and_wait(PAGE_EVENTS, VALUE, partition=partition)
    finally:
        await producer.stop()


async def measure(held: Sequence[int], pairs: int) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        broker = EmbeddedBroker(Path(tmp), partitions=2)
        await broker.start()
        try:
            fresh = await _pair_cost(broker, 0, pairs)
            print(f"  fresh partition: {fresh:.3f} ms of broker CPU per pair", flush=True)
            figures.append(Figure(PATH, "broker CPU per produce + fetch, fresh partition",
                                  fresh, "ms", note=f"{pairs} pairs"))  # fmt: skip
            stored = pairs
            for target in sorted(held):
                await _fill(broker, 0, max(target - stored, 0))
                stored = max(target, stored) + pairs
                full = await _pair_cost(broker, 0, pairs)
                other = await _pair_cost(broker, 1, pairs)
                print(
                    f"  partition holding {target:,} batches: {full:.3f} ms per pair "
                    f"(the topic's other partition: {other:.3f} ms)",
                    flush=True,
                )
                figures.append(
                    Figure(
                        PATH,
                        f"broker CPU per produce + fetch, partition holding {target:,} batches",
                        full,
                        "ms",
                        ceiling_name="fresh partition",
                        ceiling=fresh,
                        note=f"{pairs} pairs; the same topic's other partition {other:.2f} ms",
                    )
                )
        finally:
            await broker.stop()
    return figures


# The sizes `python -m bench` measures: filling a partition past 2,000 batches took the
# full run over ten minutes (every full run before was stopped there); the larger sizes of
# decision 040 stay a run of their own (`--held 1000,2500,3000`).
FULL_RUN_HELD = (1_000, 2_000)


async def figures(quick: bool) -> list[Figure]:
    return await measure((500,) if quick else FULL_RUN_HELD, 50 if quick else 30)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_broker", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small size (seconds)")
    parser.add_argument("--held", default="1000,2500,3000", help="batches the partition holds")
    parser.add_argument("--pairs", type=int, default=30, help="pairs timed at each size")
    args = parser.parse_args()
    if args.quick:
        result = asyncio.run(figures(True))
    else:
        held = [int(n) for n in args.held.split(",") if n.strip()]
        result = asyncio.run(measure(held, args.pairs))
    print(markdown(result))
    sys.exit(0)


if __name__ == "__main__":
    main()
