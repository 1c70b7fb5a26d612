"""`dispatch soak`: a bounded load of crisis calls on loopback, with faults, then the figures.

Exit 0 when no call was lost, none was paged twice and every caller was answered with a
dial; 1 otherwise (so CI can run it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatch.logs import configure_logging
from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.soak.report import SoakFacts
    from dispatch.soak.session import SoakOptions
    from dispatch.stack.runtime import Stack

STOP_TIMEOUT_S = 60.0
PART_STOP_TIMEOUT_S = 30.0
STOPPED_LAST = ("broker", "postgres")  # after the workers, as the Stack stops them
# Whatever the environment says, a soak runs on embedded parts and the sandbox, on loopback.
LOOPBACK_ONLY = {
    "database_url": "",
    "kafka_bootstrap_servers": "",
    "twilio_api_base_url": "",
    "public_base_url": "",
    "web_host": "127.0.0.1",
    "web_port": 0,
}


@click.command()
@click.option(
    "--minutes", type=click.FloatRange(0.05, 30), default=1.0, help="Minutes of calls (1)."
)
@click.option("--rate", type=click.FloatRange(0.1, 20), default=2.0, help="Calls per second (2).")
@click.option(
    "--faults",
    default="",
    metavar="worker,broker,postgres,twilio",
    help="Faults injected at random moments (none by default).",
)
@click.option("--seed", type=int, default=1, help="The same seed replays a run (1).")
@click.option(
    "--settle",
    "settle_s",
    type=click.FloatRange(1, 600),
    default=120.0,
    help="Longest wait in seconds after the load for dispatches and pages (120).",
)
@click.option(
    "--keep-state",
    is_flag=True,
    help="Keep the state directory (logs) afterwards; it is always kept when the soak fails.",
)
def soak(
    minutes: float, rate: float, faults: str, seed: int, settle_s: float, keep_state: bool
) -> None:
    """Place crisis calls through the Twilio sandbox at RATE per second for MINUTES on an
    embedded stack of its own, inject the named faults, and print what reached whom."""
    from dispatch.soak.faults import parse_kinds
    from dispatch.soak.report import figures, render
    from dispatch.soak.session import SoakOptions

    try:
        kinds = parse_kinds(faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    options = SoakOptions(minutes, rate, kinds, seed, settle_s)
    state_dir = Path(tempfile.mkdtemp(prefix="act-dispatch-soak-"))
    state_dir.chmod(0o755)  # PostgreSQL runs as its own system user when we are root
    settings = Settings().model_copy(update={"state_dir": state_dir, **LOOPBACK_ONLY})
    configure_logging(fmt=settings.log_format, level="warning")
    try:
        facts = asyncio.run(_run(settings, options))
    except (Exception, asyncio.CancelledError) as exc:
        click.echo(f"soak failed: {type(exc).__name__}: {exc}", err=True)
        click.echo(f"logs kept in {state_dir}", err=True)
        sys.exit(1)
    result = figures(facts)
    for line in render(result):
        click.echo(line)
    if keep_state or not result.passed:  # a failed soak's logs are what explains it
        click.echo(f"State and logs kept in {state_dir}")
    else:
        shutil.rmtree(state_dir, ignore_errors=True)
    sys.exit(0 if result.passed else 1)


async def _run(settings: Settings, options: SoakOptions) -> SoakFacts:
    from dispatch.soak.session import prepare, run_soak
    from dispatch.stack.runtime import Stack

    began = time.monotonic()
    stack = Stack(settings, durable=True, supervise=True)  # as `dispatch up` runs it
    click.echo("Starting the embedded stack (broker, PostgreSQL, Twilio sandbox, worker)...")
    await stack.start()
    try:
        await prepare(stack)
        click.echo(f"Stack up and the demo team seeded in {time.monotonic() - began:.1f} s")
        return await run_soak(stack, options, click.echo)
    finally:
        await _stop(stack)


async def _stop(stack: Stack) -> None:
    """Stop the Stack; if it cannot (a part it talks to was killed), stop each process part
    on its own, and kill by PID whatever is still alive."""
    from dispatch.soak.session import stack_pids

    pids = stack_pids(stack)
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await stack.stop()
        return
    except (Exception, asyncio.CancelledError) as exc:  # aiokafka can leak a CancelledError
        click.echo(f"the stack did not stop cleanly ({type(exc).__name__}); stopping its parts")
    parts = [*getattr(stack, "workers", []), *(getattr(stack, n, None) for n in STOPPED_LAST)]
    for part in filter(None, parts):
        with contextlib.suppress(Exception, asyncio.CancelledError):
            async with asyncio.timeout(PART_STOP_TIMEOUT_S):
                await part.stop()
    for pid in set(pids) & set(stack_pids(stack)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
