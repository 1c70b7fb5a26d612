"""Ring to page: how long after a crisis call rings its page reaches Twilio, at 1, 10 and 100
calls/s, on the embedded stack as `dispatch up` runs it.

    .venv/bin/python -m bench.bench_latency [--rates 1,10,100] [--seconds 60] [--quick]

A generator process (bench/latency_load.py) posts signed ringing requests to the voice
webhook at a steady rate, a new caller for every call, round the crisis lines of ten
teams; it records when each call rang (wall clock, just before the POST) and how long the
TwiML took. The Twilio sandbox records when each REST request arrived; ring to page is
the first page SMS of the call's dispatch (its code is known from the CallSid) minus the
ring. A call the webhook accepted (HTTP 200) with no page after the settle is lost; one
not answered within Twilio's 15 s is counted apart (Twilio would fetch the Fallback URL).
The first run starts as soon as the stack reports ready (so its first calls show any
warm-up), and the generator is also measured alone against a webhook that answers at once.
After the first rate, one call is placed right after a burst of client events (`--burst`:
contacts, signals and enrolments, as an import or a broker restore brings them), to show
how long a crisis call waits behind routine events on its topic.

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from bench.latency_figures import (
    FIRST_CALLS,
    Call,
    RateRun,
    burst_figure,
    first_calls_lines,
    generator_figure,
    percentile,
    quiet_figure,
    rate_figures,
    warmup_figure,
    window_line,
)
from bench.latency_hops import HOPS, call_hops
from bench.latency_profile import CpuUse, GcPauses, Profiler, summary
from bench.latency_stack import TEAMS, bench_stack, team_line
from bench.report import Figure, markdown
from dispatch.soak.load import expected_code
from dispatch.soak.observe import pages_in
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox_phones import SandboxPhones

ROOT = Path(__file__).resolve().parents[1]
WINDOW_S = 10.0  # the windows of the per-window lines
MAX_SETTLE_S = 600.0  # a backlog still draining after this long is reported as loss
QUIET_S = 30.0  # the silence before each "after a quiet spell" call (aiohttp keeps 15 s)
QUIET_CALLS = 3
BURST = 30_000  # client events published at once before the "after a burst" call


async def generate(rate: float, seconds: float, seed: int, *, stack: Stack | None) -> list[Call]:
    """Run the generator process against the stack's webhook (or its own null webhook)."""
    s = stack.settings if stack is not None else None
    plan = {
        "url": f"{s.public_base_url}/twilio/voice" if s else "",
        "auth_token": s.twilio_auth_token.get_secret_value() if s else "t",
        "account_sid": s.twilio_account_sid if s else "AC0",
        "lines": [team_line(i) for i in range(TEAMS)],
        "rate": rate,
        "seconds": seconds,
        "seed": seed,
        "caller_prefix": f"+1555{seed % 100:02d}",
    }
    args = [json.dumps(plan), *([] if s else ["--null-server"])]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.latency_load", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()  # by its PID: the generator this function started
            await proc.wait()
    lines = out.decode().splitlines()
    if proc.returncode != 0 or not lines or lines[-1] != "done":
        raise RuntimeError(f"the load generator failed (exit {proc.returncode})")
    return [Call(**json.loads(line)) for line in lines[:-1]]


async def pages_of(
    phones: SandboxPhones, calls: list[Call], settle_s: float
) -> tuple[dict[str, float], int]:
    """When each call's first page reached Twilio (epoch s, by CallSid), waiting for the
    last pages while they still come (settle_s with no new page, at most MAX_SETTLE_S); and
    how many calls' pages reached Twilio more than once."""
    codes = {expected_code(c.call_sid): c for c in calls}
    messages: list[dict[str, object]] = []
    before: dict[str, float] = {}
    started = time.monotonic()
    deadline = started + settle_s
    while True:
        messages += await phones.messages(after=int(str(messages[-1]["index"])) if messages else 0)
        seen = pages_in(messages, [], codes)
        first: dict[str, float] = {}
        count: dict[str, int] = {}
        for page in seen:
            first[page.code] = min(first.get(page.code, page.arrived_at), page.arrived_at)
            count[page.code] = count.get(page.code, 0) + 1
        if len(first) == len(codes) or time.monotonic() > deadline:
            break
        if len(first) > len(before):  # still coming: a backlog, not a loss (yet)
            deadline = min(time.monotonic() + settle_s, started + MAX_SETTLE_S)
        before = first
        await asyncio.sleep(0.5)
    arrived = {call.call_sid: first[code] for code, call in codes.items() if code in first}
    return arrived, sum(1 for n in count.values() if n > 1)


async def run_rate(
    stack: Stack,
    phones: SandboxPhones,
    rate: float,
    seconds: float,
    seed: int,
    settle_s: float,
    profiler: Profiler | None = None,
) -> RateRun:
    pids = {"stack": os.getpid(), "worker": stack.workers[0].pid}
    assert stack.postgres is not None and stack.broker is not None  # the embedded stack
    if stack.sandbox_child is not None:  # the Twilio sandbox's process (decision 056)
        pids["twilio"] = stack.sandbox_child.pid
    if profiler is not None:
        await profiler.start(pids, f"{rate:g}-per-s", seconds)
    cpu = CpuUse(
        {**pids, "postgres": stack.postgres.pid, "broker": stack.broker.pid},
        children=frozenset({"postgres"}),
    )
    began = await transactions(stack.pool)
    cpu.start()
    sampler = asyncio.create_task(cpu.sample(WINDOW_S))
    calls = await generate(rate, seconds, seed, stack=stack)
    cpu_line = cpu.line(len(calls))
    sampler.cancel()
    cpu_line += "\n" + cpu.windows_line(WINDOW_S)
    if profiler is not None:
        await profiler.wait()
    arrived, doubled = await pages_of(phones, calls, settle_s)
    settled = await transactions(stack.pool)
    cpu_line += (
        f"\n  PostgreSQL transactions per call, until the pages settled (a statement outside "
        f"a transaction counts one): {(settled - began) / len(calls):.1f}"
    )
    page_ms = [
        (arrived[c.call_sid] - c.placed_at) * 1000 if c.call_sid in arrived else None for c in calls
    ]
    with contextlib.suppress(TimeoutError):  # hops are then known for fewer calls
        await stack.projector.wait_until_caught_up(timeout=max(settle_s, 60.0))
    per_call = await call_hops(stack.pool, calls, arrived)
    hops = {hop: [times[i] for times in per_call.values()] for i, hop in enumerate(HOPS)}
    first = {n: per_call[n] for n in range(FIRST_CALLS) if n in per_call}
    return RateRun(rate, seconds, calls, page_ms, doubled, hops, cpu_line, first)


async def after_quiet(
    stack: Stack, phones: SandboxPhones, quiet_s: float, count: int
) -> tuple[list[float | None], list[str]]:
    """`count` calls, each after `quiet_s` with no call: ring to page of each, and a line
    per call with its hops (a night's sparse calls, where idle connections were closed)."""
    page_ms: list[float | None] = []
    lines = [f"  calls each after {quiet_s:g} s of quiet, ring to page = hops (ms):"]
    for i in range(count):
        await asyncio.sleep(quiet_s)
        calls = (await generate(1.0, 1.0, 50 + i, stack=stack))[:1]
        arrived, _ = await pages_of(phones, calls, 10.0)
        with contextlib.suppress(TimeoutError):
            await stack.projector.wait_until_caught_up(timeout=30.0)
        hops = (await call_hops(stack.pool, calls, arrived)).get(0)
        ms = (arrived[calls[0].call_sid] - calls[0].placed_at) * 1000 if arrived else None
        page_ms.append(ms)
        split = " + ".join(f"{h:.1f}" for h in hops) if hops else "hops not known"
        shown = f"{ms:7.1f} = {split}" if ms is not None else "no page"
        lines.append(f"    call {i + 1}: {shown}")
    return page_ms, lines


async def after_burst(
    stack: Stack, phones: SandboxPhones, burst: int
) -> tuple[float | None, list[str]]:
    """One call placed as soon as `burst` client events are published: its ring to page and
    a line with its hops (where it waited)."""
    from bench.bench_risk import workload  # the risk bench's reproducible client events

    events = workload(burst, 2000, 30)
    began = time.perf_counter()
    for i in range(0, len(events), 5000):
        await stack.publisher.publish(events[i : i + 5000])
    published_s = time.perf_counter() - began
    calls = (await generate(1.0, 1.0, 70, stack=stack))[:1]
    arrived, _ = await pages_of(phones, calls, 60.0)
    with contextlib.suppress(TimeoutError):
        await stack.projector.wait_until_caught_up(timeout=120.0)
    hops = (await call_hops(stack.pool, calls, arrived)).get(0)
    ms = (arrived[calls[0].call_sid] - calls[0].placed_at) * 1000 if arrived else None
    split = " + ".join(f"{h:.1f}" for h in hops) if hops else "hops not known"
    shown = f"{ms:7.1f} = {split}" if ms is not None else "no page"
    return ms, [
        f"  a call right after {burst:,} client events (published in {published_s:.1f} s), "
        f"ring to page = hops (ms): {shown}"
    ]


async def transactions(pool: asyncpg.Pool) -> int:
    """Transactions committed or rolled back in the database so far (pg_stat_database: a
    busy backend reports its own each second, an idle one within ten)."""
    count: int = await pool.fetchval(
        """SELECT xact_commit + xact_rollback FROM pg_stat_database
           WHERE datname = current_database()"""
    )
    return count


def hop_lines(run: RateRun) -> list[str]:
    """Where the time went: p50 / p99 / max of each hop, in ms."""
    out = [f"  hops at {run.rate:g} calls/s (p50 / p99 / max ms):"]
    for hop, values in run.hops.items():
        v = sorted(values)
        out.append(
            f"    {hop:<52} {percentile(v, 50):7.1f} {percentile(v, 99):7.1f} "
            f"{(v[-1] if v else float('nan')):7.1f}"
        )
    return out


async def measure(
    rates: Sequence[float],
    seconds: float,
    settle_s: float,
    profile: Path | None = None,
    quiet_s: float = 0.0,
    burst: int = 0,
) -> list[Figure]:
    """Each rate in turn on one stack; after the first, QUIET_CALLS calls each after
    `quiet_s` of quiet (none when 0), then one call right after `burst` client events
    (none when 0)."""
    figures: list[Figure] = []
    quiet: list[float | None] = []
    burst_ms: float | None = None
    profiler = Profiler(profile) if profile is not None else None
    alone_rate = max(rates)
    alone = await generate(alone_rate, min(seconds, 10.0), 99, stack=None)
    runs: list[RateRun] = []
    async with bench_stack() as stack:
        phones = SandboxPhones(stack.settings.twilio_api_base_url)
        try:
            for i, rate in enumerate(rates):
                print(f"  ring to page: {rate:g} calls/s for {seconds:g} s", flush=True)
                with GcPauses() as pauses:
                    run = await run_rate(stack, phones, rate, seconds, i + 1, settle_s, profiler)
                runs.append(run)
                if i == 0:  # the first calls after the start
                    print("\n".join(first_calls_lines(run)), flush=True)
                if i == 0 and quiet_s > 0:
                    quiet, lines = await after_quiet(stack, phones, quiet_s, QUIET_CALLS)
                    print("\n".join(lines), flush=True)
                if i == 0 and burst > 0:
                    burst_ms, lines = await after_burst(stack, phones, burst)
                    print("\n".join(lines), flush=True)
                print(
                    "\n".join(
                        [*hop_lines(run), window_line(run, WINDOW_S), run.cpu_line, pauses.line()]
                    ),
                    flush=True,
                )
        finally:
            await phones.close()
    for run in runs:
        figures += rate_figures(run)
    figures.append(warmup_figure(runs[0]))
    if quiet:
        figures.append(quiet_figure(quiet, quiet_s, runs[0]))
    if burst > 0:
        figures.append(burst_figure(burst_ms, burst, runs[0]))
    top = next((r for r in runs if r.rate == alone_rate), None)
    figures.append(generator_figure(alone, alone_rate, top))
    return figures


async def figures(quick: bool) -> list[Figure]:
    """Full: 60 s at each of 1, 10 and 100 calls/s. Quick: 5 s at 1 and 10 calls/s."""
    if quick:
        return await measure((1.0, 10.0), 5.0, settle_s=10.0)
    return await measure((1.0, 10.0, 100.0), 60.0, settle_s=20.0, quiet_s=QUIET_S, burst=BURST)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="1,10,100", help="calls/s, in order (1,10,100)")
    parser.add_argument("--seconds", type=float, default=60.0, help="of calls per rate (60)")
    parser.add_argument(
        "--settle", type=float, default=20.0, help="wait for pages while one came within (20 s)"
    )
    parser.add_argument(
        "--quiet", type=float, default=QUIET_S, metavar="SECONDS",
        help=f"after the first rate, {QUIET_CALLS} calls each after this long with no call "
        f"({QUIET_S:g}; 0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--burst", type=int, default=BURST, metavar="EVENTS",
        help=f"after the first rate, one call right after this many client events are "
        f"published ({BURST:,}; 0: none)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="5 s at 1 and 10 calls/s")
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="DIR",
        help="record the stack, the worker and the Twilio sandbox with py-spy during each run"
        " (bench extra)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.profile is not None and not Profiler.available():
        parser.error("--profile needs py-spy: pip install -e '.[bench]'")
    if args.quick:
        found = asyncio.run(figures(quick=True))
    else:
        rates = [float(r) for r in args.rates.split(",")]
        found = asyncio.run(
            measure(
                rates, args.seconds, args.settle, args.profile, quiet_s=args.quiet, burst=args.burst
            )
        )
    print(markdown(found))
    for out in Profiler.written(args.profile):
        print("\n".join(summary(out)))


if __name__ == "__main__":
    main()
