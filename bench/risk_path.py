"""The risk agent's Python work per input event, without a broker: for counting instructions.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m bench.risk_path --events 6000
    (the same with --events 0; the difference over 6,000 is the count per event)

A shared virtual machine's speed can change by 2x between two runs, and timing on it cannot
rank a change of a few percent. An instruction count can: callgrind counts the same for the
same code and input. This runs what the worker does with a batch of client events, in
process: `deliveries` (decoding, the records encoded as the codec writes them), then
`RiskEngine.handle_many` (fold and decisions) and the decided events' encoding, each under
the cycle collector's pause as the worker holds it; batches of 2,000, after `gc.freeze()`
as the worker does. The changed states are dumped once per `--write-every` batches, each
state once, as the agent writes them once per commit (decision 051; 8 batches, 16,000
events, is about the agent's one second at 15,000 events/s; 1: every batch, as before).
`--events 0` builds the same input and stops there, so that the difference of the two
counts is the path's own. Prints the decided count.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from bench.bench_risk import workload
from dispatch import gc_pause
from dispatch.crisis.decide import Responder
from dispatch.events.codec import encode
from dispatch.risk.fold import RiskState, initial
from dispatch.risk.service import RiskEngine
from dispatch.worker.batch_reader import deliveries
from dispatch.worker.risk_agent import RISK_INPUTS, dump_state

BATCH = 2_000
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes


class NobodyOnDuty:
    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        return None

    async def staff_responder(self, staff_id: str) -> Responder | None:
        return None


class FixedClock:
    def now(self) -> datetime:
        return NOW


async def run(records: Sequence[Record], write_every: int = 8) -> int:
    engine = RiskEngine(NobodyOnDuty(), FixedClock())
    states: dict[str, RiskState] = {}
    unsaved: dict[str, RiskState] = {}
    decided_count = 0
    for n, start in enumerate(range(0, len(records), BATCH), 1):
        with gc_pause.paused():  # the reader's pause, over the whole batch
            batch = deliveries(records[start : start + BATCH], RISK_INPUTS)
            items = [(d.value, d.offset) for d in batch]
            moved, decided = await engine.handle_many(
                items,  # type: ignore[arg-type]  # every one decodes: the input is the bench's
                lambda key: states.get(key) or initial(key),
            )
            [encode(event) for event in decided]
            states.update(moved)
            unsaved.update(moved)
            decided_count += len(decided)
            del batch, items, decided  # freed before the pause ends, as the reader's are
        if n % write_every == 0 or start + BATCH >= len(records):  # outside the pause
            [dump_state(state) for state in unsaved.values()]
            unsaved.clear()
    return decided_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6_000, help="0: the input only")
    parser.add_argument("--input", type=int, default=6_000, help="events built (>= --events)")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--write-every", type=int, default=8, help="batches per state write")
    args = parser.parse_args()
    events = workload(max(args.input, args.events), args.clients, 30)
    records = [Record("bench", 0, i, e.key.encode(), encode(e)) for i, e in enumerate(events)]
    gc.collect()
    gc.freeze()
    if args.events:
        decided = asyncio.run(run(records[: args.events], args.write_every))
        print(f"{args.events} events through the risk path, {decided} decided")


if __name__ == "__main__":
    main()
