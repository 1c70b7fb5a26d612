"""How long a broker restart stops the pages: the embedded broker SIGKILLed under a history
of calls, and the time until a call made after the kill is paged.

    .venv/bin/python -m bench.bench_restart [--history 1000] [--partitions 4]

A supervised stack (what `dispatch up` runs) with the demo team; `--history` calls at 50/s
are placed and paged first (the archive a restore has to deal with). Then the broker is
SIGKILLed and a probe call is placed every 0.5 s through the web edge. Printed: the
supervisor's broker recovery (park, restart, restore, projector, workers), what the restore
published, and the time from the kill to the first probe's page and to the moment after
which every probe is paged within 2 s. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import time

from bench.embedded import state_dir
from bench.report import Figure, markdown
from dispatch.demo.seed import TEAM_ID
from dispatch.settings import Settings
from dispatch.soak.load import Caller, PlacedCall, expected_code
from dispatch.soak.observe import Observer
from dispatch.soak.scale import Ringer, spread_calls, until_workers_consuming
from dispatch.soak.session import prepare
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox_phones import SandboxPhones

PATH = "broker restart"
PROBE_EVERY_S = 0.5
PROBE_FOR_S = 90.0
NORMAL_S = 2.0  # a probe paged within this is "as usual"


async def measure(history: int, partitions: int) -> list[Figure]:
    path = state_dir("dispatch-bench-restart-")
    settings = Settings(
        database_url="",
        kafka_bootstrap_servers="",
        twilio_api_base_url="",
        state_dir=path,
        topic_partitions=partitions,
        log_level="warning",
    )
    stack = Stack(settings, durable=False, supervise=True)
    try:
        await stack.start()
        await prepare(stack)
        await until_workers_consuming(stack)
        before = await spread_calls(
            stack, [stack.settings.public_base_url], calls=history, rate=50.0, tag="h", settle_s=180
        )
        await stack.projector.wait_until_caught_up(timeout=60)
        archived = await stack.pool.fetchval("SELECT count(*) FROM event_archive")
        assert stack.broker is not None
        killed_at = time.time()
        os.kill(stack.broker.pid, signal.SIGKILL)
        probes = await _probe(stack)
        seen = await _observe(stack, probes)
        restore = stack.last_restore
        broker = stack.supervisor.status().component("broker")
    finally:
        await stack.stop()
        shutil.rmtree(path, ignore_errors=True)
    first = min((at for at in seen.values()), default=float("nan")) - killed_at
    late = [p.placed_at for p in probes if seen.get(p.code, 1e18) - p.placed_at > NORMAL_S]
    normal = (max(late) if late else killed_at) - killed_at + PROBE_EVERY_S
    note = (
        f"{history} calls before ({before.figures.first_paged} paged), {archived} events "
        f"archived, {partitions} partitions; restore published "
        f"{restore.restored if restore else '?'} in {restore.elapsed_s if restore else '?'} s; "
        f"broker restarts {broker.restarts if broker else '?'}; "
        f"{sum(p.code in seen for p in probes)} of {len(probes)} probes paged"
    )
    return [
        Figure(PATH, "kill to the first page of a call made after it", first, "s", note=note),
        Figure(PATH, f"kill until calls are paged within {NORMAL_S:g} s again", normal, "s"),
    ]


async def _probe(stack: Stack) -> list[PlacedCall]:
    ringer = Ringer(stack, [stack.settings.public_base_url])
    phone = "+15550200001"
    probes: list[PlacedCall] = []
    started = time.monotonic()
    try:
        i = 0
        while time.monotonic() - started < PROBE_FOR_S:
            sid = f"CAprobe{i:025x}"
            placed = time.time()
            _, answer = await ringer.ring(i, phone, sid)
            probes.append(
                PlacedCall(sid, expected_code(sid), Caller(phone, "client"), placed, answer)
            )
            i += 1
            await asyncio.sleep(max(0.0, started + i * PROBE_EVERY_S - time.monotonic()))
    finally:
        await ringer.close()
    return probes


async def _observe(stack: Stack, probes: list[PlacedCall]) -> dict[str, float]:
    phones = SandboxPhones(stack.settings.twilio_api_base_url)
    try:
        seen = await Observer(phones, stack.read_models, TEAM_ID).settle(
            [p.code for p in probes], timeout_s=60, grace_s=1.0
        )
    finally:
        await phones.close()
    first: dict[str, float] = {}
    for page in sorted(seen.pages, key=lambda p: p.arrived_at):
        first.setdefault(page.code, page.arrived_at)
    return first


async def figures(quick: bool) -> list[Figure]:
    """Not part of the quick run (a restart under history takes minutes)."""
    return [] if quick else await measure(history=1000, partitions=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    began = time.monotonic()
    print(markdown(asyncio.run(measure(args.history, args.partitions))))
    print(f"\n({time.monotonic() - began:.1f} s in all)")


if __name__ == "__main__":
    main()
